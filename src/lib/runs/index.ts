/** Past runs, kept in IndexedDB. */
export { saveRun, listRuns, type StoredRun } from './store.ts';
export { inferenceRun, INFERENCE_CELL } from './inference.ts';
