/** An ingest lane (see lanes.ts): a module worker of the app's own origin. */
import { expose } from 'comlink';
import { ingestLaneApi } from './lanes.ts';

expose(ingestLaneApi());
