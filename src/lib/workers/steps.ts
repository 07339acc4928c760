/**
 * Long work on a thread that must stay responsive (the page's main thread, a lane that takes
 * messages), written once as a generator that yields between steps and driven two ways: to the end
 * at once ({@link runSteps}), or in slices with the event loop's other tasks between them
 * ({@link runStepsAsync}). The owner's run uses the second to prepare the review's indexes of the
 * tables while the notebook runs, without freezing the page's progress.
 */

/**
 * Lets the thread's event loop take its next task. A MessageChannel message, not a timer: nested
 * timers are held back to 4 ms each, and to a second or more in a hidden tab.
 */
export function yieldTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(0);
  });
}

/** Runs a stepped job to its end without pausing. */
export function runSteps<T>(job: Generator<void, T, void>): T {
  for (;;) {
    const r = job.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs a stepped job in slices of about `sliceMs`, letting other tasks run between them.
 * @throws the signal's reason once it is aborted (checked between slices)
 */
export async function runStepsAsync<T>(
  job: Generator<void, T, void>,
  options: { signal?: AbortSignal; sliceMs?: number } = {},
): Promise<T> {
  const slice = options.sliceMs ?? 12;
  let since = performance.now();
  for (;;) {
    const r = job.next();
    if (r.done) return r.value;
    if (performance.now() - since >= slice) {
      await yieldTask();
      options.signal?.throwIfAborted();
      since = performance.now();
    }
  }
}
