/**
 * Decryption lanes for the app (see lib/crypto/lanes.ts): module workers of the app's own origin,
 * one per core up to four, started on first use. They hold no keys between requests and never see
 * the sandbox; the sandbox's own rules (no worker by URL) are about the sandbox, not the host.
 */
import { useLanes, workerLanes } from '../lib/crypto/index.ts';
import { useIngestLanes, workerIngestLanes } from '../lib/data/index.ts';

export function installLanes(): void {
  if (typeof Worker === 'undefined') return;
  const count = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
  useLanes(workerLanes(() => new Worker(new URL('../lib/crypto/lane-worker.ts', import.meta.url), { type: 'module', name: 'airlock-decrypt' }), count));
  // Tables are read off the page's thread, a large CSV in parts on every core (lib/data/parallel.ts).
  useIngestLanes(workerIngestLanes(() => new Worker(new URL('../lib/data/ingest-worker.ts', import.meta.url), { type: 'module', name: 'airlock-ingest' }), count));
}
