import { openAsBlob, statSync } from 'node:fs';
import { ingest } from '../../src/lib/data/index.ts';
const path = '/tmp/pb/d/dataset_diabetes/diabetic_data.csv';
const size = statSync(path).size; const blob = await openAsBlob(path);
for (let k = 0; k < 5; k++) await ingest({ name: 'x.csv', size, stream: () => blob.stream() as ReadableStream<Uint8Array> }, { engine: 'bytes' });
