/** An ingest lane (see parallel/worker-lanes.ts): a module worker of the app's own origin. */
import { expose } from 'comlink';
import { ingestLaneApi } from './parallel/worker-lanes.ts';

expose(ingestLaneApi());
