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
} from './receipt.ts';
