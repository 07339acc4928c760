import { openAsBlob, statSync, readFileSync } from 'node:fs';
import { ingest } from '../../src/lib/data/index.ts';
const path = '/tmp/pb/d/dataset_diabetes/diabetic_data.csv';
const size = statSync(path).size; const blob = await openAsBlob(path);
for (let k = 0; k < 4; k++) {
  let t = performance.now(); new TextDecoder().decode(readFileSync(path)).split('\n').map((l) => l.split(',')); const split = performance.now() - t;
  for (const engine of ['bytes', 'text'] as const) { t = performance.now(); await ingest({ name: 'x.csv', size, stream: () => blob.stream() as ReadableStream<Uint8Array> }, { engine }); const ms = performance.now() - t; console.log(engine, ((size / 1048576) / (ms / 1000)).toFixed(1), 'MB/s', 'ratio vs split', (split / ms).toFixed(2)); }
}
