// A cipher lane on a Node worker thread (src/cli/lanes.ts). tsx compiles the one TypeScript module
// it needs; the messages are lib/crypto/lanes.ts's LaneRequest and LaneReply.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { serveLane } = await tsImport('../lib/crypto/lanes.ts', import.meta.url);
serveLane({
  set onmessage(f) {
    parentPort.on('message', (data) => f({ data }));
  },
  postMessage: (m, transfer) => parentPort.postMessage(m, transfer),
});
