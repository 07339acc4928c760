/** The owner's tables: ingest, columnar storage, what the expert may see of them, mock data. */
export { ingest, inferColumns, fingerprintColumns, type InferredColumns, type IngestOptions, type IngestReport, type IngestedTable, type Source, type Format } from './ingest.ts';
export { DEFAULT_MISSING, inferType, parseDate, type BuiltColumn } from './columns.ts';
export { CsvTokenizer, detectDelimiter } from './csv.ts';
export { ingestFile, useIngestLanes, localLanes, type IngestLanes } from './parallel.ts';
export { workerIngestLanes } from './lanes.ts';
export { IngestError, type IngestErrorCode } from './errors.ts';
export { buildInvitation, parseInvitation, INVITATION_FORMAT, INVITATION_VERSION, DEFAULT_K, type Invitation, type InvitationInput, type InvitationTable, type InvitationColumn, type ColumnStats } from './invitation.ts';
export { generateMock, type MockTable } from './mock.ts';
export { seededRandom } from './random.ts';
export { toSandboxTable } from './sandbox-table.ts';
export { saveTable, loadFile, listTables, loadTable, previewTable, renameTable, deleteTable, collectGarbage, DB_NAME, SCHEMA_VERSION, type TableMeta, type StoredColumn, type SaveInput } from './store.ts';
