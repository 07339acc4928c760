/**
 * One budget for the whole review of a run's outputs: bytes inflated, containers and encodings
 * opened, nesting depth, bytes read, and wall-clock time (the run's own deadline when the caller
 * gives one). The review reads whatever the notebook wrote — zips of zips, overlapping entries,
 * compression bombs — and must end in bounded time with a verdict. Anything it cannot finish
 * reading inside the budget blocks the export with a one-line reason; it never passes unread.
 */

export interface ReviewBudget {
  /** Bytes produced by all decompression (zip members, gzip, zlib, deflate) across the review. */
  maxInflatedBytes: number;
  /** Bytes handed to the scanners across the review: the outputs and everything decoded from them. */
  maxScannedBytes: number;
  /** Zip members and compressed streams opened across the review. */
  maxEntries: number;
  /** Containers and encodings inside one another (a zip in base64 in a JSON string is depth 2). */
  maxDepth: number;
  /** Wall-clock time of the whole review; a caller's deadline (GatePolicy.deadline) can shorten it. */
  timeLimitMs: number;
}

/**
 * Generous for real outputs (the run caps them at 50 MB; an npz of weights inflates a few times
 * that) and small enough that a hostile output ends in seconds: fflate inflates at 300–500 MB/s
 * here, and the scanners read ~15 ms/MB (docs/SECURITY.md, "The output gate").
 */
export const DEFAULT_REVIEW_BUDGET: ReviewBudget = {
  maxInflatedBytes: 256 * 1024 * 1024,
  maxScannedBytes: 1024 * 1024 * 1024,
  maxEntries: 10_000,
  maxDepth: 8,
  timeLimitMs: 60_000,
};

export type ReviewLimit = 'inflated' | 'scanned' | 'entries' | 'depth' | 'time';

/** The review ran out of its budget; `message` is one line for the owner. */
export class ReviewLimitError extends Error {
  override name = 'ReviewLimitError';
  constructor(
    readonly limit: ReviewLimit,
    message: string,
  ) {
    super(message);
  }
}

/** The running account of one review: every scanner and decoder charges it as it goes. */
export class ReviewMeter {
  inflated = 0;
  scanned = 0;
  entries = 0;
  readonly deadline: number;
  readonly budget: ReviewBudget;

  /** @param deadline a `performance.now()` time; the earlier of it and the budget's time limit counts */
  constructor(budget: Partial<ReviewBudget> = {}, deadline = Infinity) {
    this.budget = { ...DEFAULT_REVIEW_BUDGET, ...budget };
    this.deadline = Math.min(deadline, performance.now() + this.budget.timeLimitMs);
  }

  /** Bytes a decompressor may still produce. */
  inflateRoom(): number {
    return this.budget.maxInflatedBytes - this.inflated;
  }

  /** @throws {ReviewLimitError} */
  chargeInflated(n: number, what: string): void {
    this.inflated += n;
    if (this.inflated > this.budget.maxInflatedBytes)
      throw new ReviewLimitError(
        'inflated',
        `${what} decompresses past the review's limit of ${mib(this.budget.maxInflatedBytes)} (a compression bomb?)`,
      );
  }

  /** @throws {ReviewLimitError} */
  chargeScanned(n: number, what: string): void {
    this.scanned += n;
    if (this.scanned > this.budget.maxScannedBytes)
      throw new ReviewLimitError(
        'scanned',
        `${what} takes the review past its limit of ${mib(this.budget.maxScannedBytes)} read`,
      );
  }

  /** @throws {ReviewLimitError} */
  chargeEntry(what: string): void {
    if (++this.entries > this.budget.maxEntries)
      throw new ReviewLimitError(
        'entries',
        `${what} takes the review past its limit of ${this.budget.maxEntries} archive members and compressed streams`,
      );
  }

  /** @throws {ReviewLimitError} */
  checkDepth(depth: number, what: string): void {
    if (depth > this.budget.maxDepth)
      throw new ReviewLimitError(
        'depth',
        `${what} nests containers or encodings more than ${this.budget.maxDepth} deep`,
      );
  }

  /** @throws {ReviewLimitError} */
  checkTime(what: string): void {
    if (performance.now() > this.deadline)
      throw new ReviewLimitError(
        'time',
        `the review of ${what} ran out of time (the run's time limit counts the review; raise it and run again)`,
      );
  }
}

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MiB` : `${n} bytes`;
}
