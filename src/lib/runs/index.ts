/** The owner's runs: the run of a bundle and its export (each written once), and past runs in IndexedDB. */
export {
  runBundle,
  DEFAULT_POLICY,
  SOFTWARE,
  type OwnerRun,
  type OwnerRunInput,
  type OwnerRunResult,
  type Refusal,
  type RefusalCode,
  type RunPolicy,
  type RunTable,
} from './owner-run.ts';
export {
  exportRun,
  ExportError,
  RECEIPT_FILES,
  type ExportErrorCode,
  type ExportFile,
  type ExportedRun,
  type ReceiptSigner,
} from './export.ts';
export {
  saveRun,
  listRuns,
  runDetails,
  deleteRoomRuns,
  RUNS_DB,
  type StoredRun,
  type RunSummary,
  type RunDetails,
} from './store.ts';
export { inferenceRun, scoreTable, INFERENCE_CELL } from './inference.ts';
