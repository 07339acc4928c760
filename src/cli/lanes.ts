/**
 * Cipher lanes for the command line (see lib/crypto/lanes.ts): a `WorkerPool` of Node worker
 * threads, one per core up to four, so `seal` and `inspect` use the machine as the app does. A
 * thread loads only the lane code (lib/crypto/lanes.ts and @noble's cipher) through tsx, and the
 * threads end with the command. `AIRLOCK_LANES=0` keeps everything on the main thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { cipherLanes, type ChunkLanes, type CipherLaneApi } from '../lib/crypto/index.ts';
import { WorkerPool, type PoolWorker } from '../lib/workers/index.ts';

const MIN_BYTES = 64 * 1024 * 1024;

/** A Node thread for the pool: an uncaught error, an unreadable message or an exit is its failure. */
export function nodeThread(thread: Worker): PoolWorker {
  return {
    endpoint: nodeEndpoint(thread),
    watch(fail) {
      thread.on('error', (e) => fail(e.message.split('\n')[0]!));
      thread.on('messageerror', () => fail('a message could not be read'));
      thread.on('exit', (code) => fail(`it exited with code ${code}`));
    },
    terminate: () => void thread.terminate(),
  };
}

/** The command's cipher threads (`lanes` undefined when it runs on one thread), and how to end them. */
export interface NodeLanes {
  lanes?: ChunkLanes;
  end(): Promise<void>;
}

/**
 * Lanes for a command that will seal or open about `bytes`, their threads started at once: a thread
 * takes ≈0.3 s to load, which the command spends reading its files and hashing them. `script` is
 * the thread's entry (tests give a failing one).
 */
export function startNodeLanes(bytes: number, script = new URL('./lane-thread.mjs', import.meta.url)): NodeLanes {
  // Below this, starting threads costs more than they save (measured in docs/BENCHMARKS.md).
  if (process.env.AIRLOCK_LANES === '0' || bytes < MIN_BYTES) return { end: async () => {} };
  const threads: Worker[] = [];
  const pool = new WorkerPool<CipherLaneApi>(
    () => {
      const t = new Worker(script);
      threads.push(t);
      return nodeThread(t);
    },
    Math.max(1, Math.min(4, availableParallelism())),
    'a cipher thread',
  );
  pool.prestart();
  return {
    lanes: cipherLanes(pool),
    end: async () => {
      pool.close();
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
