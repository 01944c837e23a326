// KaTeX render worker for the MkDocs build (see katex_hook.py).
//
// Protocol: one JSON document per line on stdin, one reply per line on stdout.
//   request : {"items": [{"tex": "...", "display": true}, ...], "macros": {...}}
//   reply   : {"results": [{"html": "..."} | {"error": "..."}, ...]}
// On start-up it prints {"version": "...", "dist": "/path/to/katex/dist"} so
// the hook copies the CSS and fonts that match this renderer exactly.
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";

const require = createRequire(import.meta.url);
const katex = require("katex");
const dist = path.dirname(require.resolve("katex/dist/katex.min.css"));

process.stdout.write(JSON.stringify({ version: katex.version, dist }) + "\n");

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const request = JSON.parse(line);
  const results = request.items.map(({ tex, display }) => {
    try {
      return {
        html: katex.renderToString(tex, {
          displayMode: display,
          output: "htmlAndMathml",
          throwOnError: true,
          strict: "error",
          trust: false,
          macros: { ...request.macros },
        }),
      };
    } catch (error) {
      return { error: String(error.message ?? error) };
    }
  });
  process.stdout.write(JSON.stringify({ results }) + "\n");
}
