/** Signed receipts of runs (docs/RECEIPT.md). */
export {
  signReceipt,
  signReceiptWith,
  verifyReceipt,
  serializeReceipt,
  ReceiptError,
  RECEIPT_FORMAT,
  RECEIPT_NAMESPACE,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptBody,
  type ReceiptCheck,
} from './receipt.ts';
export {
  planExport,
  outputNameProblem,
  ExportError,
  RECEIPT_FILES,
  EXPORT_LIMITS,
  type ExportPlan,
  type ExportErrorCode,
} from './export.ts';
export { exportRun, type RunToExport, type ExportFile, type ExportedRun, type ReceiptSigner } from './run-export.ts';
export {
  checkReceiptFiles,
  openSealedOutputs,
  SealedOutputsError,
  SEALED_OUTPUT_LIMITS,
  type OutputMatch,
  type ReceiptFilesCheck,
} from './check.ts';
