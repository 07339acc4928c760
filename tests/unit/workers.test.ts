/**
 * The worker pool (lib/workers): lazy and bounded; a worker that cannot start or stops fails its
 * requests with a one-line reason instead of leaving them waiting; the cipher lanes on it do the
 * work on this thread when no worker starts, and fail a bundle with `crashed` when one stops
 * mid-request. Real Node worker threads (the CLI's lanes) for the cipher cases.
 */
import { describe, expect, test } from 'vitest';
import { expose, type Endpoint } from 'comlink';
import { startNodeLanes } from '../../src/cli/lanes.ts';
import { BundleError, openBundle, sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey, type ChunkLanes } from '../../src/lib/crypto/index.ts';
import { PoolError, READY, WorkerPool, type PoolWorker } from '../../src/lib/workers/index.ts';

interface EchoApi {
  echo(x: number): number;
  wait(ms: number): Promise<number>;
}

/** A worker on a MessageChannel in this thread: `fail` makes it fail as a worker's error event would. */
function channelWorker(
  made: { fail(why: string): void; terminated: boolean }[],
  opts: { ready?: boolean } = {},
): PoolWorker {
  const { port1, port2 } = new MessageChannel();
  const api: EchoApi = { echo: (x) => x, wait: (ms) => new Promise((r) => setTimeout(() => r(ms), ms)) };
  expose(api, port1 as unknown as Endpoint);
  if (opts.ready !== false) port1.postMessage(READY);
  const w = {
    terminated: false,
    fail: (why: string) => {
      void why;
    },
  };
  made.push(w);
  return {
    endpoint: port2 as unknown as Endpoint,
    watch(fail) {
      w.fail = fail;
    },
    terminate() {
      w.terminated = true;
      port1.close();
      port2.close();
    },
  };
}

describe('the worker pool', () => {
  test('starts workers only when asked, never more than its size, the least busy taking a request', async () => {
    const made: Parameters<typeof channelWorker>[0] = [];
    const pool = new WorkerPool<EchoApi>(() => channelWorker(made), 2);
    expect(made).toHaveLength(0);
    expect(await pool.run((api) => api.echo(7))).toBe(7);
    expect(made).toHaveLength(1);
    // One idle worker takes the next request; five at once start the second, and no third.
    expect(await pool.run((api) => api.echo(8))).toBe(8);
    expect(made).toHaveLength(1);
    const five = await Promise.all([1, 2, 3, 4, 5].map((x) => pool.run((api) => api.wait(x))));
    expect(five).toEqual([1, 2, 3, 4, 5]);
    expect(made).toHaveLength(2);
    pool.close();
    expect(made.every((w) => w.terminated)).toBe(true);
    await expect(pool.run((api) => api.echo(1))).rejects.toMatchObject({ code: 'closed' });
  });

  test('a worker that cannot start fails its requests with `unavailable`, and the next request starts a fresh one', async () => {
    const made: Parameters<typeof channelWorker>[0] = [];
    const pool = new WorkerPool<EchoApi>(() => channelWorker(made, { ready: false }), 2, 'a test worker');
    const sent: number[] = [];
    const p = pool.run((api) => (sent.push(1), api.echo(1)));
    made[0]!.fail('its script did not load');
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PoolError);
    expect(e).toMatchObject({
      code: 'unavailable',
      reason: 'its script did not load',
      message: 'a test worker could not start (its script did not load)',
    });
    expect(sent, 'nothing is sent to a worker before it is ready').toEqual([]);
    expect(made[0]!.terminated).toBe(true);
    const again = pool.run((api) => api.echo(2));
    expect(made).toHaveLength(2);
    made[1]!.fail('its script did not load');
    await expect(again).rejects.toMatchObject({ code: 'unavailable' });
  });

  test('a worker that stops mid-request fails its own requests with `crashed`; the others finish', async () => {
    const made: Parameters<typeof channelWorker>[0] = [];
    const pool = new WorkerPool<EchoApi>(() => channelWorker(made), 2, 'a test worker');
    const a = pool.run((api) => api.wait(200));
    const b = pool.run((api) => api.wait(30));
    await new Promise((r) => setTimeout(r, 10));
    expect(made).toHaveLength(2);
    made[0]!.fail('it exited with code 3');
    await expect(a).rejects.toMatchObject({
      code: 'crashed',
      message: 'a test worker stopped (it exited with code 3)',
    });
    expect(await b).toBe(30);
    expect(made[0]!.terminated).toBe(true);
    // The pool is whole again: a request starts a replacement.
    const c = pool.run((api) => api.wait(5));
    const d = pool.run((api) => api.wait(5));
    expect(await Promise.all([c, d])).toEqual([5, 5]);
    expect(made).toHaveLength(3);
    pool.close();
  });
});

describe('cipher lanes on Node threads (the CLI)', () => {
  const MB = 1024 * 1024;
  const expert = generateSshKey('expert@test');
  const notebook = { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') };
  const wheelOf = (n: number) => {
    const b = new Uint8Array(n);
    for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
    return { filename: 'big-1.0-py3-none-any.whl', bytes: b };
  };
  const sealWith = async (recipient: string, bytes: number, lanes?: ChunkLanes) => {
    const { stream } = await sealBundle(
      { recipient, signer: expert.key, name: 'b', version: '1', notebook, wheels: [wheelOf(bytes)] },
      { lanes },
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  };

  test.each([
    ['a script that does not exist', new URL('./fixtures/lanes/no-such-lane.mjs', import.meta.url)],
    ['a script that throws while loading', new URL('./fixtures/lanes/throws-at-load.mjs', import.meta.url)],
  ])(
    'threads that cannot start (%s): sealing and opening still complete, on this thread',
    async (_what, script) => {
      const owner = await generateOwnerKey();
      const threads = startNodeLanes(Infinity, script);
      try {
        expect(threads.lanes).toBeDefined();
        const sealed = await sealWith(owner.recipient, 8 * MB, threads.lanes);
        const b = await openBundle(sealed, owner.identity, { lanes: threads.lanes });
        expect(b.wheels[0]!.bytes.length).toBe(8 * MB);
        // And what they made is a bundle like any other: it opens without lanes too.
        expect((await openBundle(sealed, owner.identity)).manifest.wheels[0]!.sha256).toBe(
          b.manifest.wheels[0]!.sha256,
        );
      } finally {
        await threads.end();
      }
    },
    30_000,
  );

  test('a thread that exits mid-request fails the open with a one-line `crashed`; the next open gets fresh threads', async () => {
    const owner = await generateOwnerKey();
    const threads = startNodeLanes(Infinity, new URL('./fixtures/lanes/dying-lane.mjs', import.meta.url));
    try {
      // 8 MiB: runs of 32 chunks start at 0, 32, 64 and 96, and the thread given 96 exits.
      const e = await openBundle(await sealWith(owner.recipient, 8 * MB), owner.identity, {
        lanes: threads.lanes,
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BundleError);
      expect(e).toMatchObject({ code: 'crashed' });
      expect((e as Error).message).toBe(
        'the bundle could not be opened: a cipher thread stopped (it exited with code 3); try again',
      );
      // 5 MiB has no run at 96: it opens, on threads started in place of the one that exited.
      const b = await openBundle(await sealWith(owner.recipient, 5 * MB), owner.identity, { lanes: threads.lanes });
      expect(b.wheels[0]!.bytes.length).toBe(5 * MB);
    } finally {
      await threads.end();
    }
  }, 60_000);
});
