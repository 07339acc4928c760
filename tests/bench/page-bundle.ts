/**
 * Loaded into a blank page by tests/bench/bundle.ts (bundled with rolldown): the same library code
 * the app runs, beside raw @noble ChaCha20-Poly1305, so the page's ratio has its baseline in the
 * same page and the same run.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { openBundle, sealBundle, streamToBlob } from '../../src/lib/bundle/index.ts';
import { cipherLanes, generateOwnerKey, parsePrivateKey, type ChunkLanes } from '../../src/lib/crypto/index.ts';
import { WorkerPool, traceSums, webWorker, type Trace } from '../../src/lib/workers/index.ts';

const MB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

async function benchBundlePage(signingKey: string, repeats: number, laneWorkerCode: string) {
  // The app's lanes (src/app/lanes.ts), here from a blob: the same worker code, bundled by the bench.
  const laneUrl = URL.createObjectURL(new Blob([laneWorkerCode], { type: 'text/javascript' }));
  const lanes = cipherLanes(
    new WorkerPool(() => webWorker(new Worker(laneUrl)), Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2))),
  );
  const size = 100 * MB;
  const data = new Uint8Array(size);
  for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
  const owner = await generateOwnerKey();
  const signer = parsePrivateKey(signingKey);
  const notebook = {
    filename: 'n.ipynb',
    bytes: new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}'),
  };
  const raw: number[] = [];
  const seal: number[] = [];
  const open: number[] = [];
  const sealLanes: number[] = [];
  const openLanes: number[] = [];
  const traces = { seal: traceSums(), open: traceSums(), sealLanes: traceSums(), openLanes: traceSums() };
  const once = async (sealT: number[], openT: number[], sealTrace: Trace, openTrace: Trace, lanes?: ChunkLanes) => {
    let t = performance.now();
    const { stream } = await sealBundle(
      {
        recipient: owner.recipient,
        signer,
        name: 'big',
        version: '1',
        notebook,
        wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }],
      },
      { lanes, trace: sealTrace },
    );
    // As the app keeps it for download: a Blob of the sealed pieces.
    const sealed = await streamToBlob(stream);
    sealT.push(performance.now() - t);
    t = performance.now();
    // As the app opens a chosen file: streamed from the Blob, with its size.
    const b = await openBundle({ stream: sealed.stream(), size: sealed.size }, owner.identity, {
      lanes,
      trace: openTrace,
    });
    openT.push(performance.now() - t);
    if (b.wheels[0]!.bytes.length !== size) throw new Error('bad open');
  };
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = new Uint8Array(12);
    for (let o = 0; o < size; o += 65536) chacha20poly1305(key, nonce).encrypt(data.subarray(o, o + 65536));
    raw.push(performance.now() - t);
    await once(seal, open, traces.seal, traces.open);
    await once(sealLanes, openLanes, traces.sealLanes, traces.openLanes, lanes);
  }
  return {
    size,
    raw: median(raw),
    seal: median(seal),
    open: median(open),
    sealLanes: median(sealLanes),
    openLanes: median(openLanes),
    lanes: lanes.width,
    walls: { seal: mean(seal), open: mean(open), sealLanes: mean(sealLanes), openLanes: mean(openLanes) },
    stages: {
      seal: traces.seal.stages,
      open: traces.open.stages,
      sealLanes: traces.sealLanes.stages,
      openLanes: traces.openLanes.stages,
    },
  };
}

(globalThis as unknown as { benchBundlePage: typeof benchBundlePage }).benchBundlePage = benchBundlePage;
