/**
 * The benchmarks' breakdown (src/lib/workers/trace.ts): a traced seal and open give the same bundle
 * as untraced ones, and each stage the bench reports is measured where it runs.
 */
import { describe, expect, test } from 'vitest';
import { openBundle, sealBundle, streamToBlob } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { traceSums } from '../../src/lib/workers/index.ts';

describe('trace: where a seal and an open spent their time', () => {
  test('a traced bundle opens to the same files, and every stage is there', async () => {
    const owner = await generateOwnerKey();
    const expert = generateSshKey('expert@test');
    // Several chunks (64 KiB each), so that the cipher runs more than once.
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    const wheel = new Uint8Array(300_000);
    for (let o = 0; o < wheel.length; o += bytes.length) wheel.set(bytes.subarray(0, wheel.length - o), o);
    const input = {
      recipient: owner.recipient,
      signer: expert.key,
      name: 'm',
      version: '1',
      notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') },
      wheels: [{ filename: 'm-1.0-py3-none-any.whl', bytes: wheel }],
    };
    const sealTrace = traceSums();
    const traced = await streamToBlob((await sealBundle(input, { trace: sealTrace })).stream);
    const plain = await streamToBlob((await sealBundle(input)).stream);
    const openTrace = traceSums();
    const a = await openBundle(new Uint8Array(await traced.arrayBuffer()), owner.identity, { trace: openTrace });
    const b = await openBundle(new Uint8Array(await plain.arrayBuffer()), owner.identity);
    expect(a.wheels[0]!.bytes).toEqual(wheel);
    expect(a.wheels[0]!.bytes).toEqual(b.wheels[0]!.bytes);
    expect(a.manifest.wheels).toEqual(b.manifest.wheels);
    expect(Object.keys(sealTrace.stages.main!).sort()).toEqual(
      ['CRC-32', 'SHA-256', 'copy into runs', 'seal', 'sign', 'wait for hashes and signature'].sort(),
    );
    expect(Object.keys(openTrace.stages.main!)).toEqual(
      expect.arrayContaining(['SHA-256', 'open', 'read the input', 'unzip', 'verify signature']),
    );
    for (const ms of [...Object.values(sealTrace.stages.main!), ...Object.values(openTrace.stages.main!)])
      expect(ms).toBeGreaterThanOrEqual(0);
  });
});
