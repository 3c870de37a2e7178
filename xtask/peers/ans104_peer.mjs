// ANS-104 peer (npm arbundles or @dha-team/arbundles) for the gateway interop tests.
// Usage: node ans104_peer.mjs <package> <request.json> <response.json>
// Cases ({"id", "op", ...}):
//   build   {"signer": "solana"|"arweave", "seed_hex" | "jwk", "data_hex", "tags", "anchor_hex"?} -> {"item_hex"}
//   verify  {"item_hex"} -> {"valid", "id"}   (DataItem.verify, what Turbo runs on every upload)
// Response: {"results": [...]} with each case's id under "id_".
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [pkg, reqPath, respPath] = process.argv.slice(2);
const require = createRequire(process.env.NODE_PATH ? `${process.env.NODE_PATH}/` : import.meta.url);
const bs58 = require('bs58');
const { ArweaveSigner, SolanaSigner, createData, DataItem } = require(pkg);

async function signerOf(c) {
  if (c.signer === 'arweave') return new ArweaveSigner(c.jwk);
  const seed = Buffer.from(c.seed_hex, 'hex');
  const ed = require('@noble/ed25519');
  const pub = Buffer.from(await ed.getPublicKey(seed));
  return new SolanaSigner(bs58.encode(Buffer.concat([seed, pub])));
}

async function run(c) {
  if (c.op === 'build') {
    const signer = await signerOf(c);
    const opts = { tags: c.tags || [] };
    // arbundles takes the anchor as a 32-character string (its UTF-8 bytes are signed)
    if (c.anchor_hex) opts.anchor = Buffer.from(c.anchor_hex, 'hex').toString('utf8');
    const item = createData(Buffer.from(c.data_hex, 'hex'), signer, opts);
    await item.sign(signer);
    return { item_hex: Buffer.from(item.getRaw()).toString('hex') };
  }
  if (c.op === 'verify') {
    const raw = Buffer.from(c.item_hex, 'hex');
    const valid = await DataItem.verify(raw);
    return { valid, id: new DataItem(raw).id };
  }
  return { error: `unsupported op ${c.op}` };
}

const { cases } = JSON.parse(readFileSync(reqPath, 'utf8'));
const results = [];
for (const c of cases) {
  let out;
  try {
    out = await run(c);
  } catch (e) {
    out = { error: `${e.name}: ${e.message}` };
  }
  out.id_ = c.id;
  results.push(out);
}
writeFileSync(respPath, JSON.stringify({ results }));
console.log(`ans104_peer.mjs (${pkg}): ${results.length} cases`);
