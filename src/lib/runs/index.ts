/** The owner's runs: the run of a bundle and its export (each written once), and past runs in IndexedDB. */
export {
  runBundle,
  SOFTWARE,
  type OwnerRun,
  type OwnerRunInput,
  type OwnerRunResult,
  type Refusal,
  type RefusalCode,
  type RunTable,
} from './owner-run.ts';
export { exportOwnerRun } from './export.ts';
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
export {
  heldRows,
  complement,
  subsetTable,
  seededRandom,
  draw,
  MIN_HELD,
  AUDIT_ROWS,
  type HoldoutRecord,
} from './holdout.ts';
export { auditMembership, startAudit, settledAudit, labelsOf, parseScores, type PendingAudit } from './audit.ts';
export { DEFAULT_POLICY, POLICY_FIELDS, policyProblems, type RunPolicy, type PolicyField } from '../policy/index.ts';
