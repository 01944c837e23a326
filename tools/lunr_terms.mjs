// The terms lunr (the npm package pinned in package.json, the version the
// theme's search worker bundles) indexes for each token of a search entry.
//
//   node tools/lunr_terms.mjs < TOKENS.json > TERMS.json
//
// TOKENS.json: an array of lowercased tokens, as the worker's tokenizer cuts
// them. TERMS.json: an array of the same length, each token's index term:
// trimmed of non-word characters at both ends, then stemmed (the index
// pipeline's trimmer and stemmer; stop words are tools/search_index_hook.py's
// business). A query finds a token when the query's own stem is a prefix of
// this term (the theme stems every query term and appends a wildcard).
import {readFileSync} from 'node:fs';

import lunr from 'lunr';

const tokens = JSON.parse(readFileSync(0, 'utf-8'));
const terms = tokens.map((token) =>
  lunr.stemmer(lunr.trimmer(new lunr.Token(token))).toString(),
);
process.stdout.write(JSON.stringify(terms));
