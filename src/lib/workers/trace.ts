/**
 * Where an operation's time went, stage by stage and thread by thread: the benchmarks' breakdown
 * (docs/BENCHMARKS.md). A caller passes a `Trace` in the options of a workflow (sealing, opening,
 * loading a table); the code adds the milliseconds of each stage as it runs, the lanes' own
 * stages arriving with their replies. Nothing in the product reads it, and without one nothing is
 * measured.
 */
export interface Trace {
  /** Adds `ms` to `stage` of `thread` ("main", "lane 1", …). */
  add(thread: string, stage: string, ms: number): void;
}

/** Milliseconds by stage, as a lane measures them and sends them back with its reply. */
export type Stages = Record<string, number>;

/** Runs `f` and adds its time to `stage` on the main thread of `trace` (if any). */
export function timed<T>(trace: Trace | undefined, stage: string, f: () => T): T {
  if (!trace) return f();
  const t = performance.now();
  try {
    return f();
  } finally {
    trace.add('main', stage, performance.now() - t);
  }
}

/** A trace that sums: `stages` by thread, then by stage. */
export function traceSums(): Trace & { stages: Record<string, Stages> } {
  const stages: Record<string, Stages> = {};
  return {
    stages,
    add(thread, stage, ms) {
      const t = (stages[thread] ??= {});
      t[stage] = (t[stage] ?? 0) + ms;
    },
  };
}

/** The time now, comparable across threads (a worker's clock starts when the worker does). */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
