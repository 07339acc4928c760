// A cipher lane on a Node worker thread (src/cli/lanes.ts). tsx compiles the one TypeScript module
// it needs (and what that imports); the contract is lib/crypto/lanes.ts's CipherLaneApi.
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { tsImport } from 'tsx/esm/api';

const { serveCipherLane } = await tsImport('../lib/crypto/lanes.ts', import.meta.url);
serveCipherLane(nodeEndpoint(parentPort));
