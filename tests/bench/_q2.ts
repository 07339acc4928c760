import { openAsBlob, statSync, readFileSync } from 'node:fs';
import { decryptAge, generateOwnerKey } from '../../src/lib/crypto/index.ts';
import { openBundle, sealBundle } from '../../src/lib/bundle/index.ts';
import { generateSshKey } from '../../src/lib/crypto/index.ts';
import { writeStreamToFile } from '../../src/cli/io.ts';
const MB = 1 << 20, size = 100 * MB;
const data = new Uint8Array(size); for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
const owner = await generateOwnerKey(); const expert = generateSshKey();
const notebook = new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
const path = '/tmp/pb/b.airlock';
const { stream } = await sealBundle({ recipient: owner.recipient, signer: expert.key, name: 'b', version: '1', notebook: { filename: 'n.ipynb', bytes: notebook }, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }] });
await writeStreamToFile(stream, path);
const n = statSync(path).size;
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  let chunks = 0, max = 0;
  for await (const c of (await openAsBlob(path)).stream() as any) { chunks++; max = Math.max(max, c.length); }
  const read = performance.now() - t;
  const buf = new Uint8Array(readFileSync(path));
  t = performance.now();
  await decryptAge((async function* () { yield buf; })(), n, owner.identity);
  const dec = performance.now() - t;
  t = performance.now();
  await decryptAge((await openAsBlob(path)).stream() as any, n, owner.identity);
  const decs = performance.now() - t;
  t = performance.now();
  await crypto.subtle.digest('SHA-256', data);
  const dig = performance.now() - t;
  t = performance.now();
  await openBundle(buf, owner.identity);
  const ob = performance.now() - t;
  console.log(`read ${read.toFixed(0)}ms (${chunks} chunks, max ${max}); decrypt mem ${dec.toFixed(0)}; decrypt stream ${decs.toFixed(0)}; digest ${dig.toFixed(0)}; openBundle(bytes) ${ob.toFixed(0)}`);
}
