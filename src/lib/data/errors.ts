/** Why a file could not be loaded; `message` says what is wrong, where, and what to do. */
export type IngestErrorCode =
  | 'empty'
  | 'header-only'
  | 'unterminated-quote'
  | 'binary'
  | 'ragged'
  | 'bad-header'
  | 'bad-json'
  | 'bad-parquet'
  | 'unsupported'
  | 'cancelled'
  | 'bad-options'
  | 'quota'
  | 'not-found'
  | 'crashed';

export class IngestError extends Error {
  override name = 'IngestError';
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    /** The line the message names, when it names one (a part of a file read alone counts from its own start). */
    readonly line?: number,
  ) {
    super(message);
  }
}
