/**
 * Cipher lanes for the command line (see lib/crypto/lanes.ts): Node worker threads, one per core
 * up to four, so `seal` and `inspect` use the machine as the app does. A thread loads only the lane
 * code (lib/crypto/lanes.ts and @noble's cipher) through tsx, and the threads end with the command.
 * `AIRLOCK_LANES=0` keeps everything on the main thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { useLanes, workerLanes } from '../lib/crypto/index.ts';

const MIN_BYTES = 64 * 1024 * 1024;

/**
 * Installs the lanes for a command that will seal or open about `bytes`, and starts their threads at once: a thread takes ≈0.3 s to load, which the
 * command spends reading its files and hashing them. The returned function ends the threads.
 */
export function installNodeLanes(bytes: number): () => Promise<void> {
  // Below this, starting threads costs more than they save (measured in docs/BENCHMARKS.md).
  if (process.env.AIRLOCK_LANES === '0' || bytes < MIN_BYTES) return async () => {};
  const count = Math.max(1, Math.min(4, availableParallelism()));
  const threads = Array.from({ length: count }, () => new Worker(new URL('./lane-thread.mjs', import.meta.url)));
  let next = 0;
  useLanes(
    workerLanes(() => {
      const t = threads[next++ % count]!;
      // The part of a Web Worker that workerLanes uses.
      return {
        postMessage: (m: unknown, transfer: Transferable[]) => t.postMessage(m, transfer as never),
        set onmessage(f: (e: { data: unknown }) => void) {
          t.on('message', (data) => f({ data }));
        },
        set onerror(f: (e: { message: string; preventDefault(): void }) => void) {
          t.on('error', (e) => f({ message: e.message, preventDefault() {} }));
        },
      } as unknown as globalThis.Worker;
    }, count),
  );
  return async () => {
    useLanes(undefined);
    await Promise.all(threads.map((t) => t.terminate()));
  };
}
