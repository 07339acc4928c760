/**
 * A cipher lane worker that dies mid-request (tests/browser/lanes.test.ts): asked to open the run
 * that starts at chunk 96, it fails with an uncaught error, as a worker that runs out of memory
 * does, and never answers.
 */
import { cipherLaneApi, type CipherLaneApi } from '../../../src/lib/crypto/index.ts';
import { serveWorker } from '../../../src/lib/workers/index.ts';

const api = cipherLaneApi();
const dying: CipherLaneApi = {
  ...api,
  open(req) {
    if (req.first !== 96) return api.open(req);
    setTimeout(() => {
      throw new Error('the lane ran out of memory');
    });
    return new Promise<never>(() => {}) as never;
  },
};
serveWorker(dying);
