// Lighthouse on every page of a served site, with one Chromium for all runs.
//
//   node tools/lighthouse_audit.mjs REQUEST.json
//
// REQUEST.json: {"chromium": path, "flags": [...], "urls": [...], "out": dir,
// "performance_runs": 3, "decide_at": 0.95, "diagnostics": [audit ids]}. For
// each URL: one run of the four categories (its JSON and HTML reports written
// to `out`), then up to performance_runs - 1 more runs of the performance
// metrics alone (the score varies from run to run). With `decide_at` (a
// budget), the runs stop once enough of them fall on one side of it that the
// median of performance_runs would fall there whatever the rest score: two
// of three both at or above the budget, or both below it. Lighthouse's
// defaults are kept: mobile form factor, simulated throttling, an empty
// cache before every navigation, its waits for the page to settle.
//
// What the runs leave out is only what no score uses: each run asks
// Lighthouse for the audits that carry weight in its categories (as its
// default config has them) and, in the first run, `diagnostics` (unscored
// audits kept for the reports; `network-requests` always, for the page
// weight). Lighthouse then skips the gatherers of everything else (the
// screenshots' thumbnails, the unscored insights, the back/forward cache
// test, ...). A run whose categories came out with other weighted audits
// than the default config's fails: its score would not be Lighthouse's.
//
// Writes `out/summary.json`: per URL the four scores, every performance
// score with its metrics, the first load's bytes (uncompressed and as
// transferred) and the seconds its runs took.
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import lighthouse from 'lighthouse';
import defaultConfig from 'lighthouse/core/config/default-config.js';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
// The performance score's metrics, reported for every run.
const METRICS = {
  'first-contentful-paint': 'FCP',
  'largest-contentful-paint': 'LCP',
  'total-blocking-time': 'TBT',
  'cumulative-layout-shift': 'CLS',
  'speed-index': 'SI',
};

// The audits that carry weight in a category of Lighthouse's default config.
function weightedInConfig(category) {
  return defaultConfig.categories[category].auditRefs
    .filter((ref) => ref.weight > 0)
    .map((ref) => ref.id);
}

// Every category of the run ran every audit that carries weight in the
// default config (a report gives an audit that does not apply weight 0), so
// its score is the one Lighthouse's defaults give.
function checkScoredAsDefault(url, lhr, categories) {
  for (const id of categories) {
    const ran = new Set(lhr.categories[id].auditRefs.map((ref) => ref.id));
    const missing = weightedInConfig(id).filter((audit) => !ran.has(audit));
    if (missing.length) {
      throw new Error(`${url}: ${id} did not run ${missing.join(', ')}`);
    }
  }
}

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

// Chromium's helper processes (its network and storage services) can still
// be writing to the profile's cache for a moment after the browser process
// has exited: removal retries, and a profile left behind in the temporary
// folder is reported, not an audit failure.
function removeProfile(profile) {
  try {
    rmSync(profile, {recursive: true, force: true, maxRetries: 10, retryDelay: 100});
  } catch (error) {
    console.error(`left behind: ${profile} (${error.code})`);
  }
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

// One performance run: its score, its metrics, and how fast the machine was
// (Lighthouse's benchmark index: a loaded machine scores lower).
function performanceRun(lhr) {
  return {
    score: lhr.categories.performance.score,
    ...Object.fromEntries(
      Object.entries(METRICS).map(([id, name]) => [name, lhr.audits[id].numericValue]),
    ),
    benchmarkIndex: lhr.environment.benchmarkIndex,
  };
}

// The diagnostics' headline numbers, for the summary (the reports have all).
function diagnostics(lhr, ids) {
  const found = {};
  for (const id of ids) {
    const audit = lhr.audits[id];
    if (audit && id !== 'network-requests') {
      found[id] = {value: audit.numericValue ?? null, shown: audit.displayValue ?? null};
    }
  }
  return found;
}

function slug(url) {
  const {pathname} = new URL(url);
  return pathname.replace(/^\/|\/$/g, '').replace(/[^A-Za-z0-9.-]+/g, '_') || 'index';
}

async function main() {
  const request = JSON.parse(readFileSync(process.argv[2], 'utf-8'));
  const runs = request.performance_runs ?? 3;
  const majority = Math.floor(runs / 2) + 1; // runs that decide the median
  const extra = [...new Set(['network-requests', ...(request.diagnostics ?? [])])];
  const scored = [...new Set(CATEGORIES.flatMap(weightedInConfig))];
  const {child, profile, port} = await startChromium(request.chromium, request.flags);
  const summary = {lighthouse: null, pages: {}};
  const started = Date.now();
  try {
    for (const url of request.urls) {
      const pageStarted = Date.now();
      const full = await lighthouse(url, {
        port,
        logLevel: 'error',
        output: ['json', 'html'],
        onlyAudits: [...scored, ...extra],
        disableFullPageScreenshot: true,
      });
      const {lhr} = full;
      if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.message}`);
      checkScoredAsDefault(url, lhr, CATEGORIES);
      summary.lighthouse = lhr.lighthouseVersion;
      const name = slug(url);
      writeFileSync(path.join(request.out, `${name}.report.json`), full.report[0]);
      writeFileSync(path.join(request.out, `${name}.report.html`), full.report[1]);
      const performance = [performanceRun(lhr)];
      const decided = () => {
        if (request.decide_at == null) return false;
        const above = performance.filter((run) => run.score >= request.decide_at).length;
        return above >= majority || performance.length - above >= majority;
      };
      for (let i = 1; i < runs && !decided(); i++) {
        const again = await lighthouse(url, {
          port,
          logLevel: 'error',
          onlyAudits: weightedInConfig('performance'),
          disableFullPageScreenshot: true,
        });
        if (again.lhr.runtimeError) {
          throw new Error(`${url}: ${again.lhr.runtimeError.message}`);
        }
        checkScoredAsDefault(url, again.lhr, ['performance']);
        performance.push(performanceRun(again.lhr));
      }
      summary.pages[url] = {
        report: `${name}.report.html`,
        scores: Object.fromEntries(CATEGORIES.map((c) => [c, lhr.categories[c].score])),
        performance_runs: performance.map((run) => run.score),
        runs: performance,
        weight: pageWeight(lhr),
        diagnostics: diagnostics(lhr, extra),
        seconds: (Date.now() - pageStarted) / 1000,
        failing: Object.values(lhr.audits)
          .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative')
          .filter((a) => a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'notApplicable')
          .map((a) => a.id),
      };
    }
  } finally {
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    removeProfile(profile);
  }
  summary.seconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(request.out, 'summary.json'), JSON.stringify(summary, null, 1));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
