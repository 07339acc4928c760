import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { openAsBlob, statSync } from 'node:fs';
import { openBundle, sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { readFileChunks, writeStreamToFile } from '../../src/cli/io.ts';
const MB = 1 << 20, size = 100 * MB;
const data = new Uint8Array(size); for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
const owner = await generateOwnerKey(); const expert = generateSshKey();
const notebook = new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
const path = '/tmp/pb/b.airlock';
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const key = crypto.getRandomValues(new Uint8Array(32)); const nonce = new Uint8Array(12);
  for (let o = 0; o < size; o += 65536) chacha20poly1305(key, nonce).encrypt(data.subarray(o, o + 65536));
  const raw = performance.now() - t;
  t = performance.now();
  const { stream } = await sealBundle({ recipient: owner.recipient, signer: expert.key, name: 'b', version: '1', notebook: { filename: 'n.ipynb', bytes: notebook }, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }] });
  await writeStreamToFile(stream, path);
  const seal = performance.now() - t;
  t = performance.now();
  const b = await openBundle({ stream: readFileChunks(path), size: statSync(path).size }, owner.identity);
  const open = performance.now() - t;
  console.log(`raw ${(100 / raw * 1000).toFixed(0)} MB/s; seal ${(raw / seal).toFixed(2)}x; open ${(raw / open).toFixed(2)}x`, b.wheels[0]!.bytes.length === size);
}
