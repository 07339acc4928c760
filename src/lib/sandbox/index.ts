/**
 * The sandbox: untrusted Python over the owner's data, with no way to send anything anywhere.
 * See docs/SECURITY.md for the layers and what each one stops.
 */
export { Sandbox, SandboxError, type SandboxOptions, type Tripwire, type SandboxErrorCode } from './host.ts';
export {
  runNotebook,
  DEFAULT_LIMITS,
  type RunRequest,
  type RunEvent,
  type RunStep,
  type RunReport,
  type RunStatus,
  type RunLimits,
  type CellReport,
  type LogLine,
} from './run.ts';
export { loadPyodideAssets, pyodideBaseUrl } from './assets.ts';
export { storedSnapshot, ensureSnapshot, clearSnapshot, runtimeAssets } from './snapshot-cache.ts';
export { parseNotebook, NotebookError, type NotebookCell } from './notebook.ts';
export { frameCsp, frameDocument, scriptHash, FRAME_SANDBOX } from './policy.ts';
export {
  LIMITS,
  isSafeOutputPath,
  type ColumnType,
  type SandboxColumn,
  type SandboxTable,
  type SandboxEvent,
  type OutputFile,
  type WheelFile,
  type InstalledWheel,
  type PyodideAssets,
} from './protocol.ts';
