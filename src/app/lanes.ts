/**
 * The app's lanes: module workers of its own origin, one per core up to four of each kind, started
 * on first use and kept. Cipher lanes seal and open large bundles (lib/crypto/lanes.ts) and hold
 * no keys between requests; ingest lanes read the owner's files into columns (lib/data/lanes.ts).
 * Neither ever sees the sandbox; the sandbox's own rule (no worker by URL) is about the sandbox,
 * not the host.
 */
import { useLanes, workerLanes } from '../lib/crypto/index.ts';
import { useIngestLanes, workerIngestLanes } from '../lib/data/index.ts';

export function installLanes(): void {
  if (typeof Worker === 'undefined') return;
  const count = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
  useLanes(
    workerLanes(
      () =>
        new Worker(new URL('../lib/crypto/lane-worker.ts', import.meta.url), {
          type: 'module',
          name: 'airlock-decrypt',
        }),
      count,
    ),
  );
  // Tables are read off the page's thread, a large CSV in parts on every core (lib/data/parallel.ts).
  useIngestLanes(
    workerIngestLanes(
      () =>
        new Worker(new URL('../lib/data/ingest-worker.ts', import.meta.url), {
          type: 'module',
          name: 'airlock-ingest',
        }),
      count,
    ),
  );
}
