/**
 * The output gate: checks on every file before it may leave (size, type, declared, leak scan), under
 * one review budget, and the disclosure checks (tables of results, rows and size of models, the
 * membership attack's measures).
 */
export {
  reviewOutputs,
  prepareReview,
  addGateCheck,
  gateProblems,
  DISCLOSURE_CHECKS,
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
export { reviewDisclosure, type DisclosurePolicy, type DisclosureReview } from './disclosure.ts';
export {
  membershipAttack,
  membershipCheck,
  rocAuc,
  tprAtFpr,
  aucPValue,
  type MembershipResult,
  type MembershipScores,
} from './membership.ts';
export { readTable, parseDelimited, type OutputTable } from './tables.ts';
