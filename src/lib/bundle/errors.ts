/** Why a bundle was refused. `message` is one line naming the problem and, where possible, what to do. */
export type BundleErrorCode =
  | 'not-age'
  | 'wrong-key'
  | 'tampered'
  | 'truncated'
  | 'bad-zip'
  | 'bad-manifest'
  | 'future-format'
  | 'unsigned'
  | 'bad-signature'
  | 'unknown-signer'
  | 'hash-mismatch'
  | 'missing-file'
  | 'extra-file'
  | 'empty'
  | 'bad-input';

export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
  ) {
    super(message);
  }
}
