// Lighthouse on every page of a served site, with one Chromium for all runs.
//
//   node tools/lighthouse_audit.mjs REQUEST.json
//
// REQUEST.json: {"chromium": path, "flags": [...], "urls": [...], "out": dir,
// "performance_runs": 3}. For each URL: one run of the four categories (its
// JSON and HTML reports written to `out`), then performance_runs - 1 more
// runs of the performance metrics alone (the score varies from run to run).
// Lighthouse's defaults are kept: mobile form factor, simulated throttling,
// an empty cache before every navigation. Writes `out/summary.json`: per URL
// the four scores, every performance score, and the first load's bytes
// (uncompressed and as transferred).
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import lighthouse from 'lighthouse';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

function startChromium(executable, flags) {
  const profile = mkdtempSync(path.join(tmpdir(), 'lighthouse-chromium-'));
  const child = spawn(
    executable,
    [
      ...flags,
      '--headless=new',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    {stdio: ['ignore', 'ignore', 'pipe']},
  );
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stderr.on('data', (chunk) => {
      seen += chunk;
      const match = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(seen);
      if (match) {
        child.stderr.removeAllListeners('data');
        child.stderr.resume();
        resolve({child, profile, port: Number(match[1])});
      }
    });
    child.on('exit', (code) => reject(new Error(`Chromium exited (${code}): ${seen}`)));
  });
}

function weighted(category) {
  return category.auditRefs.filter((ref) => ref.weight > 0).map((ref) => ref.id);
}

// The first load's bytes, from the network-requests audit (data: URIs are
// already counted in the document that holds them).
function pageWeight(lhr) {
  const items = lhr.audits['network-requests'].details.items.filter(
    (item) => !item.url.startsWith('data:'),
  );
  return {
    requests: items.length,
    uncompressed: items.reduce((sum, item) => sum + (item.resourceSize || 0), 0),
    transferred: items.reduce((sum, item) => sum + (item.transferSize || 0), 0),
    largest: items
      .map((item) => ({url: item.url, uncompressed: item.resourceSize, transferred: item.transferSize}))
      .sort((a, b) => b.uncompressed - a.uncompressed)
      .slice(0, 5),
  };
}

function slug(url) {
  const {pathname} = new URL(url);
  return pathname.replace(/^\/|\/$/g, '').replace(/[^A-Za-z0-9.-]+/g, '_') || 'index';
}

async function main() {
  const request = JSON.parse(readFileSync(process.argv[2], 'utf-8'));
  const runs = request.performance_runs ?? 3;
  const {child, profile, port} = await startChromium(request.chromium, request.flags);
  const summary = {lighthouse: null, pages: {}};
  try {
    for (const url of request.urls) {
      const started = Date.now();
      const full = await lighthouse(url, {
        port,
        logLevel: 'error',
        output: ['json', 'html'],
        onlyCategories: CATEGORIES,
        disableFullPageScreenshot: true,
      });
      const {lhr} = full;
      if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.message}`);
      summary.lighthouse = lhr.lighthouseVersion;
      const name = slug(url);
      writeFileSync(path.join(request.out, `${name}.report.json`), full.report[0]);
      writeFileSync(path.join(request.out, `${name}.report.html`), full.report[1]);
      const metrics = weighted(lhr.categories.performance);
      const performance = [lhr.categories.performance.score];
      for (let i = 1; i < runs; i++) {
        const again = await lighthouse(url, {
          port,
          logLevel: 'error',
          onlyAudits: metrics,
          disableFullPageScreenshot: true,
        });
        const category = again.lhr.categories.performance;
        // The same weighted metrics, so the same score formula as the full run.
        if (weighted(category).join() !== metrics.join()) {
          throw new Error(`${url}: the metrics-only run scored other audits`);
        }
        performance.push(category.score);
      }
      summary.pages[url] = {
        report: `${name}.report.html`,
        scores: Object.fromEntries(CATEGORIES.map((c) => [c, lhr.categories[c].score])),
        performance_runs: performance,
        weight: pageWeight(lhr),
        seconds: (Date.now() - started) / 1000,
        failing: Object.values(lhr.audits)
          .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative')
          .filter((a) => a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'notApplicable')
          .map((a) => a.id),
      };
    }
  } finally {
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(profile, {recursive: true, force: true});
  }
  writeFileSync(path.join(request.out, 'summary.json'), JSON.stringify(summary, null, 1));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
