/**
 * Workers: one bounded pool convention for every lane of the app and the CLI (pool.ts), and the
 * trace that says where an operation's time went on each thread (trace.ts). The pool is made once
 * by its owner (the app at start, a CLI command for its threads) and passed to the functions that
 * use it; nothing here is global.
 */
export { WorkerPool, PoolError, serveWorker, webWorker, READY, type PoolErrorCode, type PoolWorker } from './pool.ts';
export { timed, traceSums, wallClock, type Stages, type Trace } from './trace.ts';
export { yieldTask, runSteps, runStepsAsync } from './steps.ts';
