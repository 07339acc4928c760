/**
 * The owner's tables: a picked file loaded and stored (load.ts, store.ts), read on the app's ingest
 * lanes (parallel/); what the expert may see of them (invitation.ts) and mock data from it.
 * This is what other areas and the app use; the modules behind it import each other by path.
 */
export { loadFile, type LoadOptions } from './load.ts';
export { listTables, loadTable, previewTable, renameTable, deleteTable, collectGarbage, type TableMeta, type StoredColumn } from './store.ts';
export { ingest, inferColumns, type InferredColumns } from './ingest/ingest.ts';
export type { IngestOptions, IngestReport, IngestedTable, Source, Format } from './ingest/types.ts';
export type { BuiltColumn } from './columns/builder.ts';
export { fingerprintColumns } from './columns/fingerprint.ts';
export { toSandboxTable } from './sandbox-table.ts';
export type { IngestLanes } from './parallel/lanes.ts';
export { ingestLanes, ingestLaneApi, type IngestLaneApi } from './parallel/worker-lanes.ts';
export { IngestError, type IngestErrorCode } from './errors.ts';
export { buildInvitation, parseInvitation, type Invitation, type InvitationPolicy, type InvitationInput, type InvitationTable, type InvitationColumn, type ColumnStats } from './invitation.ts';
export { generateMock, type MockTable } from './mock.ts';
export { seededRandom } from './random.ts';
