import { buildLeakIndex, reviewOutputs } from '../../src/lib/gate/index.ts';
const index = buildLeakIndex([{ name: 't', rowCount: 1, columns: [{ name: 'patient_nbr', type: 'int', values: Int32Array.from([7000000]) }] }]);
const which = process.argv[2]!;
const kinds: Record<string, () => Uint8Array> = {
  zeros: () => new Uint8Array(16 << 20),
  random: () => { const b = new Uint8Array(16 << 20); for (let i = 0; i < b.length; i++) b[i] = (Math.random() * 256) | 0; return b; },
  json: () => new TextEncoder().encode(JSON.stringify(Array.from({ length: 800000 }, () => Math.random() - 0.5))),
  f32: () => new Uint8Array(Float32Array.from({ length: 4 << 20 }, () => Math.random() - 0.5).buffer),
};
const b = kinds[which]!();
for (let rep = 0; rep < 2; rep++) {
  const t0 = performance.now();
  const r = reviewOutputs([{ path: 'a.npy', bytes: b }], index, { maxOutputBytes: 1 << 30 });
  const ms = performance.now() - t0;
  console.log(which, (b.length / 1e6).toFixed(1), 'MB', ms.toFixed(0), 'ms', (ms / (b.length / 1e6)).toFixed(1), 'ms/MB', r.pass, JSON.stringify(r.files[0]!.leaks), r.review);
}
