/** A lane of the app (lanes.ts): a module worker of the app's own origin serving both lane contracts. */
import { cipherLaneApi } from '../lib/crypto/index.ts';
import { ingestLaneApi } from '../lib/data/index.ts';
import { serveWorker } from '../lib/workers/index.ts';

serveWorker({ ...cipherLaneApi(), ...ingestLaneApi() });
