// JavaScript peer for the cross-kernel agreement run: JCS via the npm package
// `canonicalize` (erdtman, 2.x), the canonicalizer the ar.io TypeScript kernel
// wraps (the kernel itself is not published on npm).
//
// Usage: node js_peer.mjs <request.json> <response.json>
//
// Request:  {"cases": [{"id": "...", "op": "canon", "json": "<JSON text>"}, ...]}
// Response: {"results": [{"id", "hex"} | {"id", "error"}, ...]} in request order;
//           "hex" is the lowercase hex of the canonical text's UTF-8 bytes.
// A failing case yields {"id", "error": "<Name>: <message>"} and never stops the others.
//
// `canonicalize` is looked up through NODE_PATH (cargo xtask sets it to
// .peers/node/node_modules) and otherwise in <repo>/.peers/node.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function load(name) {
  try {
    return createRequire(import.meta.url)(name); // honours NODE_PATH
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return createRequire(join(here, '..', '..', '.peers', 'node', 'package.json'))(name);
  }
}
const canonicalize = load('canonicalize');
const canonicalizeVersion = load('canonicalize/package.json').version;

// An unpaired UTF-16 surrogate: a high one not followed by a low one, or a low
// one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// The TS kernel refuses lone surrogates. They must be looked for in the parsed
// value: JSON.stringify (used by `canonicalize` for every string and key)
// escapes a lone surrogate as the ASCII text \udXXX, so the canonical string
// itself no longer contains one.
function hasLoneSurrogate(v) {
  if (typeof v === 'string') return LONE_SURROGATE.test(v);
  if (Array.isArray(v)) return v.some(hasLoneSurrogate);
  if (v !== null && typeof v === 'object') {
    return Object.keys(v).some((k) => LONE_SURROGATE.test(k) || hasLoneSurrogate(v[k]));
  }
  return false;
}

function canon(c) {
  if (typeof c.json !== 'string') throw new TypeError('a canon case needs a "json" string');
  const value = JSON.parse(c.json); // default JSON.parse: last duplicate key wins
  if (hasLoneSurrogate(value)) throw new TypeError('lone UTF-16 surrogate in input');
  const text = canonicalize(value); // throws on NaN / Infinity (e.g. 1e400)
  if (typeof text !== 'string') throw new TypeError('value is not canonicalizable');
  // Belt and braces: Buffer.from would silently turn a lone surrogate into U+FFFD.
  if (LONE_SURROGATE.test(text)) throw new TypeError('lone UTF-16 surrogate in canonical text');
  return { hex: Buffer.from(text, 'utf8').toString('hex') };
}

// Error text may quote the input; spell any lone surrogate out as the ASCII text
// \udXXX so the response stays readable by strict JSON readers (serde_json).
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const spellOut = (s) => s.replace(LONE_SURROGATES, (u) => `\\u${u.charCodeAt(0).toString(16)}`);

function runCase(c) {
  const isObject = c !== null && typeof c === 'object';
  const id = isObject ? c.id ?? null : null;
  try {
    if (!isObject || c.op !== 'canon') throw new TypeError(`unsupported op ${JSON.stringify(c?.op)}`);
    return { id, ...canon(c) };
  } catch (e) {
    // RangeError (stack overflow on very deep input) lands here too.
    return { id, error: spellOut(`${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`) };
  }
}

const [reqPath, respPath] = process.argv.slice(2);
if (!reqPath || !respPath) {
  console.error('usage: node js_peer.mjs <request.json> <response.json>');
  process.exit(2);
}
const { cases } = JSON.parse(readFileSync(reqPath, 'utf8'));
const results = cases.map(runCase);
writeFileSync(respPath, JSON.stringify({ results }));
const errors = results.filter((r) => 'error' in r).length;
console.log(`js_peer: ${results.length} cases, ${errors} errors (canonicalize ${canonicalizeVersion})`);
