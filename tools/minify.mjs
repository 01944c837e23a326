// Minify the site's own scripts and stylesheets in place, with esbuild (the
// npm package pinned in package.json): their comments are for whoever reads
// docs/assets/, not for every reader's first load.
//
//   node tools/minify.mjs FILE...
//
// Each FILE (.js or .css) is replaced by esbuild's minified form of it.
// Prints one line per file: its path, bytes before and after. A file that
// does not parse stops it (exit 1), the error on stderr with its place.
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {transformSync} from 'esbuild';

for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, 'utf-8');
  const loader = path.extname(file).slice(1);
  if (loader !== 'js' && loader !== 'css') throw new Error(`${file}: not .js or .css`);
  let code;
  try {
    ({code} = transformSync(source, {loader, minify: true, legalComments: 'none', sourcefile: file}));
  } catch (error) {
    for (const {text, location} of error.errors ?? [{text: String(error)}]) {
      const where = location ? `${location.file}:${location.line}:${location.column}` : file;
      console.error(`${where}: ${text}`);
    }
    process.exit(1);
  }
  writeFileSync(file, code);
  console.log(`${file} ${Buffer.byteLength(source)} ${Buffer.byteLength(code)}`);
}
