/**
 * Why a bundle was refused. `needs-trust`: nothing is wrong with it, but no expert is trusted in the
 * room yet — show `signer` to the owner and import again with their consent.
 */
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
  | 'needs-trust'
  | 'hash-mismatch'
  | 'missing-file'
  | 'extra-file'
  | 'empty'
  | 'bad-input'
  /** Nothing is wrong with the bundle: a worker opening it stopped (try again). */
  | 'crashed';

export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
    /** `needs-trust`, `unknown-signer`: the fingerprint of the key that signed the bundle. */
    readonly signer?: string,
  ) {
    super(message);
  }
}
