import { sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
const gc = (globalThis as any).gc;
const owner = await generateOwnerKey(); const expert = generateSshKey();
const size = 48 << 20; const big = new Uint8Array(size);
for (let o = 0; o < size; o += 65536) crypto.getRandomValues(big.subarray(o, o + 65536));
const notebook = new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
for (const mode of ['slow', 'file']) {
  const { stream } = await sealBundle({ recipient: owner.recipient, signer: expert.key, name: 'big', version: '1', notebook: { filename: 'n.ipynb', bytes: notebook }, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: big }] });
  gc(); const base = process.memoryUsage().arrayBuffers;
  let peak = 0; const t = setInterval(() => { gc(); peak = Math.max(peak, process.memoryUsage().arrayBuffers - base); }, 10);
  if (mode === 'slow') { const r = stream.getReader(); for (;;) { const { done } = await r.read(); if (done) break; await new Promise((f) => setTimeout(f, 1)); } }
  else await stream.pipeTo(Writable.toWeb(createWriteStream('/tmp/pb/x.bin')) as any);
  clearInterval(t);
  console.log(mode, 'peak held MB', (peak / 1e6).toFixed(1));
}
