/**
 * The app's lanes: one pool of module workers of its own origin (one per core, up to four), started
 * on first use and kept, made here once at start and passed to every workflow that uses it
 * (sealing and opening bundles, loading tables). Each worker serves both lane contracts
 * (lane-worker.ts): cipher runs of large bundles (lib/crypto/lanes.ts; no key kept between
 * requests) and the owner's files read into columns (lib/data/parallel/). Neither ever sees the
 * sandbox; the sandbox's own rule (no worker by URL) is about the sandbox, not the host.
 */
import { cipherLanes, type ChunkLanes, type CipherLaneApi } from '../lib/crypto/index.ts';
import { ingestLanes, type IngestLaneApi, type IngestLanes } from '../lib/data/index.ts';
import { WorkerPool, webWorker } from '../lib/workers/index.ts';

/** What one lane worker serves. */
export type LaneApi = CipherLaneApi & IngestLaneApi;

/** The app's lanes, for cipher work and for reading tables alike. */
export type AppLanes = ChunkLanes & IngestLanes;

function startLanes(): AppLanes | undefined {
  if (typeof Worker === 'undefined') return undefined;
  const pool = new WorkerPool<LaneApi>(
    () =>
      webWorker(
        new Worker(new URL('./lane-worker.ts', import.meta.url), {
          type: 'module',
          name: 'airlock-lane',
        }),
      ),
    Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)),
    'a lane worker',
  );
  return { ...cipherLanes(pool), ...ingestLanes(pool), width: pool.size };
}

/** The app's one pool (no worker starts until a workflow asks for one). */
export const lanes: AppLanes | undefined = startLanes();
