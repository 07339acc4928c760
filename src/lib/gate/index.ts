/** The output gate: checks on every file before it may leave (size, type, declared, leak scan). */
export { reviewOutputs, ALLOWED_TYPES, type GateReport, type FileCheck, type GatePolicy } from './gate.ts';
export { buildLeakIndex, scanForLeaks, type LeakHit, type LeakIndex } from './leak.ts';
