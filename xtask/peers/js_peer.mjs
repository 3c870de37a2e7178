// JavaScript peer for the cross-kernel agreement run.
// Request file: {"cases": [{"id", "op": "canon", "json": "<JSON text>"}]}
// Response file: {"results": [{"id", "hex"} | {"id", "error"}]}
// Canonicalization is the npm `canonicalize` package, which the ar.io TypeScript
// kernel wraps. Like that kernel we walk every key and string of the parsed
// input and refuse lone UTF-16 surrogates (JSON.stringify would escape them).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.env.NODE_PATH ? `${process.env.NODE_PATH}/` : import.meta.url);
const canonicalize = require('canonicalize');
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(v) {
  if (typeof v === 'string') return LONE.test(v);
  if (Array.isArray(v)) return v.some(hasLoneSurrogate);
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => LONE.test(k) || hasLoneSurrogate(x));
  return false;
}

const [reqPath, respPath] = process.argv.slice(2);
const { cases } = JSON.parse(readFileSync(reqPath, 'utf8'));
const results = cases.map((c) => {
  if (c.op !== 'canon') return { id: c.id, error: `unsupported op ${c.op}` };
  try {
    const value = JSON.parse(c.json);
    if (hasLoneSurrogate(value)) return { id: c.id, error: 'lone UTF-16 surrogate' };
    const text = canonicalize(value);
    if (text === undefined) return { id: c.id, error: 'not canonicalizable' };
    return { id: c.id, hex: Buffer.from(text, 'utf8').toString('hex') };
  } catch (e) {
    return { id: c.id, error: `${e.name}: ${e.message}` };
  }
});
writeFileSync(respPath, JSON.stringify({ results }));
console.log(`js_peer: ${results.length} cases`);
