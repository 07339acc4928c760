/**
 * Loaded into a blank page by tests/browser/lanes.test.ts (bundled with rolldown): the library's
 * pool and cipher lanes on real Web Workers that fail, with the bundle functions the app calls.
 */
import { openBundle, sealBundle } from '../../../src/lib/bundle/index.ts';
import {
  cipherLanes,
  generateOwnerKey,
  generateSshKey,
  type ChunkLanes,
  type CipherLaneApi,
} from '../../../src/lib/crypto/index.ts';
import { WorkerPool, webWorker } from '../../../src/lib/workers/index.ts';

const MB = 1024 * 1024;

async function sealed(recipient: string, size: number, lanes?: ChunkLanes): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  for (let o = 0; o < size; o += 65536) crypto.getRandomValues(bytes.subarray(o, o + 65536));
  const { stream } = await sealBundle(
    {
      recipient,
      signer: generateSshKey('expert').key,
      name: 'big',
      version: '1',
      notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') },
      wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes }],
    },
    { lanes },
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const failure = (e: unknown) => ({
  name: (e as Error).name,
  code: (e as { code?: string }).code,
  message: (e as Error).message,
});

/** Seals and opens 12 MB on lanes whose worker script is at `url` (one that 404s, say). */
async function unstartable(url: string) {
  const pool = new WorkerPool<CipherLaneApi>(
    () => webWorker(new Worker(url, { type: 'module' })),
    2,
    'a cipher worker',
  );
  const lanes = cipherLanes(pool);
  const owner = await generateOwnerKey();
  try {
    const bytes = await sealed(owner.recipient, 12 * MB, lanes);
    const viaLanes = await openBundle(bytes, owner.identity, { lanes });
    const here = await openBundle(bytes, owner.identity);
    return {
      size: viaLanes.wheels[0]!.bytes.length,
      same: viaLanes.manifest.wheels[0]!.sha256 === here.manifest.wheels[0]!.sha256,
      running: pool.started,
    };
  } catch (e) {
    return failure(e);
  } finally {
    pool.close();
  }
}

/** Opens an 8 MB bundle on lanes that die at chunk 96, then a 5 MB one (no run at 96) on the same lanes. */
async function dying(url: string) {
  const pool = new WorkerPool<CipherLaneApi>(() => webWorker(new Worker(url)), 2, 'a cipher worker');
  const lanes = cipherLanes(pool);
  const owner = await generateOwnerKey();
  try {
    const first = await openBundle(await sealed(owner.recipient, 8 * MB), owner.identity, { lanes }).then(
      () => null,
      failure,
    );
    const next = await openBundle(await sealed(owner.recipient, 5 * MB), owner.identity, { lanes }).then(
      (b) => b.wheels[0]!.bytes.length,
      failure,
    );
    return { first, next };
  } finally {
    pool.close();
  }
}

(globalThis as unknown as Record<string, unknown>).lanesTest = { unstartable, dying };
