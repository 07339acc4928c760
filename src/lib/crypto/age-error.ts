/** The one error type of this area's age files (age-stream.ts, lanes.ts). */
/**
 * Why an age file did not open. `not-age`: it does not start as an age file; `wrong-key`: none of
 * the identities can open it; `bad-header`: the header does not check out (changed); `truncated`: it ends early; `trailing`: bytes
 * after its end; `tampered`: a payload chunk fails authentication (changed or cut); `crashed`: a
 * cipher lane (worker) stopped with work of this file, nothing is wrong with the file; `failed`: other.
 */
export type AgeErrorCode =
  'not-age' | 'wrong-key' | 'bad-header' | 'truncated' | 'trailing' | 'tampered' | 'crashed' | 'failed';

export class AgeError extends Error {
  override name = 'AgeError';
  constructor(
    readonly code: AgeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
