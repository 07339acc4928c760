/** The owner's tables: ingest, columnar storage, what the expert may see of them, mock data. */
export { ingest, fingerprintColumns, type IngestOptions, type IngestReport, type IngestedTable, type Source, type Format } from './ingest.ts';
export { DEFAULT_MISSING, inferType, parseDate, type BuiltColumn } from './columns.ts';
export { CsvTokenizer, detectDelimiter } from './csv.ts';
export { IngestError, type IngestErrorCode } from './errors.ts';
