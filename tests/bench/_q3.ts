import { sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { writeStreamToFile } from '../../src/cli/io.ts';
const MB = 1 << 20, size = 100 * MB;
const data = new Uint8Array(size); for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
const owner = await generateOwnerKey(); const expert = generateSshKey();
const notebook = new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const { stream } = await sealBundle({ recipient: owner.recipient, signer: expert.key, name: 'b', version: '1', notebook: { filename: 'n.ipynb', bytes: notebook }, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }] });
  const prep = performance.now() - t;
  t = performance.now();
  await writeStreamToFile(stream, '/tmp/pb/b.airlock');
  const enc = performance.now() - t;
  t = performance.now();
  const r = stream; 
  console.log(`prep ${prep.toFixed(0)} stream+write ${enc.toFixed(0)}`);
}
for (let i = 0; i < 2; i++) {
  const { stream } = await sealBundle({ recipient: owner.recipient, signer: expert.key, name: 'b', version: '1', notebook: { filename: 'n.ipynb', bytes: notebook }, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }] });
  const t = performance.now();
  for await (const c of stream as any) {}
  console.log('stream only', (performance.now() - t).toFixed(0));
}
