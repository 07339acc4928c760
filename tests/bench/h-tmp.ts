import { openAsBlob, statSync } from 'node:fs';
import { ingest } from '../../src/lib/data/index.ts';
const path = '/tmp/dd/dataset_diabetes/diabetic_data.csv';
const size = statSync(path).size;
const blob = await openAsBlob(path);
for (let k = 0; k < 3; k++) {
const t = performance.now();
const tab = await ingest({ name: 'diabetic_data.csv', size, stream: () => blob.stream() as ReadableStream<Uint8Array> });
console.log('ingest', (size / 1048576 / ((performance.now() - t) / 1000)).toFixed(1), 'MB/s', tab.report.warnings);
}
