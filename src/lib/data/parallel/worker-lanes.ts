/**
 * Ingest lanes on workers (ingest-file.ts reads a file on them): the RPC contract between the page and
 * a lane worker, the worker's side (`ingestLaneApi`, exposed by the app's lane worker) and the page's
 * (`ingestLanes`, on the app's `WorkerPool`). The workers are module workers of the app's own origin
 * (src/app/lanes.ts): they read the owner's file and hand back typed columns, stay alive between
 * files (a fresh worker's first file runs before its code is optimised, at about half the speed),
 * and never see the sandbox.
 *
 * Replies are results, not exceptions: comlink rethrows a worker's exception as a plain Error, and
 * an IngestError's code and line would be lost.
 */
import { proxy, releaseProxy, transfer, type Remote } from 'comlink';
import type { BuiltColumn } from '../columns/builder.ts';
import { PoolError, wallClock, type WorkerPool } from '../../workers/index.ts';
import { IngestError, type IngestErrorCode } from '../errors.ts';
import { ingest, ingestPart } from '../ingest/ingest.ts';
import type { IngestedTable, PartOutcome, PartSpec, TypesChosen } from '../ingest/types.ts';
import { blobSource, type IngestLanes, type LaneOptions, type LaneRun } from './lanes.ts';

/** A part's request as it travels (`announce`: the first part reports the types through `hooks.types`). */
export type WirePartSpec = Omit<PartSpec, 'onTypes'> & { announce: boolean };

/** `ms`: the lane's own time on the request; `sent`: when the reply left (`wallClock`), for traces. */
export type LaneReply<T> = { ok: true; value: T; ms: number; sent: number } | { ok: false; code: IngestErrorCode | 'internal'; message: string; line?: number };

/** What the page hands a request for its progress and the first part's types. */
export interface LaneHooks {
  bytes(n: number): void;
  types(found: TypesChosen): void;
}

/** The lane worker's RPC contract; every request carries the page's job number, for `cancel`. */
export interface IngestLaneApi {
  whole(job: number, file: Blob, name: string, opts: LaneOptions, hooks: LaneHooks): Promise<LaneReply<IngestedTable>>;
  part(job: number, file: Blob, start: number, end: number, opts: LaneOptions, spec: WirePartSpec, hooks: LaneHooks): Promise<LaneReply<PartOutcome>>;
  cancel(job: number): void;
}

/** The columns' buffers, each once: they move to the page instead of being copied. */
function buffers(columns: BuiltColumn[]): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const c of columns) {
    set.add(c.values.buffer as ArrayBuffer);
    if (c.valid) set.add(c.valid.buffer as ArrayBuffer);
  }
  return [...set];
}

/** The worker's side (the app's lane worker exposes it). */
export function ingestLaneApi(): IngestLaneApi {
  const jobs = new Map<number, AbortController>();
  const serve = async <T>(job: number, hooks: Remote<LaneHooks>, work: (signal: AbortSignal) => Promise<T>, columns: (v: T) => BuiltColumn[]): Promise<LaneReply<T>> => {
    const stop = new AbortController();
    jobs.set(job, stop);
    const t = performance.now();
    try {
      const value = await work(stop.signal);
      return transfer({ ok: true, value, ms: performance.now() - t, sent: wallClock() }, buffers(columns(value)));
    } catch (e) {
      if (e instanceof IngestError) return { ok: false, code: e.code, message: e.message, ...(e.line !== undefined ? { line: e.line } : {}) };
      return { ok: false, code: 'internal', message: String((e as Error)?.message ?? e) };
    } finally {
      jobs.delete(job);
      hooks[releaseProxy]();
    }
  };
  return {
    whole(job, file, name, opts, hooks) {
      const h = hooks as unknown as Remote<LaneHooks>;
      return serve(job, h, (signal) => ingest(blobSource(file, name), { ...opts, signal, onProgress: (n) => void h.bytes(n) }), (t) => t.columns);
    },
    part(job, file, start, end, opts, spec, hooks) {
      const h = hooks as unknown as Remote<LaneHooks>;
      const { announce, ...rest } = spec;
      return serve(
        job,
        h,
        (signal) => ingestPart(blobSource(file.slice(start, end), ''), { ...opts, signal, onProgress: (n) => void h.bytes(n) }, { ...rest, ...(announce ? { onTypes: (f) => void h.types(f) } : {}) }),
        (o) => o.columns,
      );
    },
    cancel(job) {
      jobs.get(job)?.abort();
    },
  };
}

/** Lanes on a pool of workers that serve `ingestLaneApi` (as many parts at once as the pool has workers). */
export function ingestLanes(pool: WorkerPool<IngestLaneApi>): IngestLanes {
  let jobs = 0;
  const call = async <T>(run: LaneRun, what: string, onTypes: PartSpec['onTypes'], send: (api: Remote<IngestLaneApi>, job: number, hooks: LaneHooks) => Promise<LaneReply<T>>): Promise<T> => {
    if (run.signal?.aborted) throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
    const job = ++jobs;
    let settled = false;
    let reply: LaneReply<T>;
    let lane = 0;
    try {
      reply = await pool.run(async (api, worker) => {
        lane = worker;
        // The cancel goes to the worker that has the job.
        const onAbort = () => void api.cancel(job).catch(() => {});
        run.signal?.addEventListener('abort', onAbort);
        try {
          // (Hooks travel on a channel of their own: a late one, after the reply, is dropped.)
          const hooks = proxy<LaneHooks>({ bytes: (n) => settled || run.onBytes?.(n), types: (f) => settled || onTypes?.(f) });
          return await send(api, job, hooks);
        } finally {
          run.signal?.removeEventListener('abort', onAbort);
        }
      });
    } catch (e) {
      // A worker that could not start or stopped: ingestFile reads the file on this thread instead
      // when nothing was read yet.
      if (e instanceof PoolError) throw new IngestError('crashed', `the file could not be read: the worker reading it stopped (${e.reason}); reload the page and try again`);
      throw e;
    } finally {
      settled = true;
    }
    if (reply.ok) {
      run.trace?.add(`lane ${lane}`, what, reply.ms);
      // Elapsed, not busy: the columns' transfer, and the wait for this thread's event loop.
      run.trace?.add('messages', 'columns in transit (elapsed)', wallClock() - reply.sent);
      return reply.value;
    }
    throw reply.code === 'internal' ? new Error(`the file could not be read: ${reply.message}`) : new IngestError(reply.code, reply.message, reply.line);
  };
  return {
    width: pool.size,
    whole: (file, name, opts, run) => call(run, 'read the whole file', undefined, (api, job, hooks) => api.whole(job, file, name, opts, hooks)),
    part: (file, startAt, end, opts, spec, run) => {
      const { onTypes, ...rest } = spec;
      return call(run, onTypes ? 'read the first part (types from its first rows)' : 'read a later part', onTypes, (api, job, hooks) => api.part(job, file, startAt, end, opts, { ...rest, announce: !!onTypes }, hooks));
    },
  };
}
