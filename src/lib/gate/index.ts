/** The output gate: checks on every file before it may leave (size, type, declared, leak scan), under one review budget. */
export {
  reviewOutputs,
  ALLOWED_TYPES,
  type GateReport,
  type GateCheck,
  type FileCheck,
  type GatePolicy,
} from './gate.ts';
export {
  buildLeakIndex,
  scanForLeaks,
  scanOutput,
  MIN_ID,
  type LeakHit,
  type LeakIndex,
  type LeakScan,
} from './leak.ts';
export { DEFAULT_REVIEW_BUDGET, ReviewLimitError, ReviewMeter, type ReviewBudget, type ReviewLimit } from './budget.ts';
