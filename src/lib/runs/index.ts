/** Past runs, kept in IndexedDB. */
export { saveRun, listRuns, runDetails, type StoredRun, type RunSummary, type RunDetails } from './store.ts';
export { inferenceRun, INFERENCE_CELL } from './inference.ts';
