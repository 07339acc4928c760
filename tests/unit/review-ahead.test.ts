/**
 * The gate's work done ahead, while the notebook runs (lib/runs/owner-run.ts): the tables' indexes
 * are built in slices between the page's other tasks, and must be exactly what the review would have
 * built at once; the slices must really let other tasks in, and a cancel must stop them.
 */
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildLeakIndex, prepareReview } from '../../src/lib/gate/index.ts';
import { prepareTokens, tokenizeTables } from '../../src/lib/gate/tokens.ts';
import type { SandboxTable } from '../../src/lib/sandbox/index.ts';
import { runSteps, runStepsAsync } from '../../src/lib/workers/index.ts';
import { diabetesTable } from './fixtures/gate-data.ts';

/** Ten steps of about 5 ms each; records, at each step, whether the other task has run yet. */
function* busy(flags: boolean[], other: () => boolean): Generator<void, number, void> {
  for (let i = 0; i < 10; i++) {
    yield;
    const end = performance.now() + 5;
    while (performance.now() < end);
    flags.push(other());
  }
  return flags.length;
}

describe('a stepped job', () => {
  test('driven at once it keeps the thread; in slices another task runs before it ends', async () => {
    let ran = false;
    setTimeout(() => (ran = true), 0);
    const atOnce: boolean[] = [];
    expect(runSteps(busy(atOnce, () => ran))).toBe(10);
    expect(atOnce.every((f) => !f)).toBe(true); // the control: nothing ran in between

    ran = false;
    await new Promise((r) => setTimeout(r, 0));
    ran = false;
    setTimeout(() => (ran = true), 0);
    const sliced: boolean[] = [];
    expect(
      await runStepsAsync(
        busy(sliced, () => ran),
        { sliceMs: 8 },
      ),
    ).toBe(10);
    expect(sliced.at(-1)).toBe(true);
    expect(sliced[0]).toBe(false);
  });

  test('a cancel stops it between slices, and it says why', async () => {
    const stop = new AbortController();
    const steps: boolean[] = [];
    setTimeout(() => stop.abort(new Error('the run ended')), 0);
    await expect(
      runStepsAsync(
        busy(steps, () => false),
        { sliceMs: 8, signal: stop.signal },
      ),
    ).rejects.toThrow('the run ended');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.length).toBeLessThan(10);
  });
});

describe('the review prepared ahead', () => {
  let table: SandboxTable;
  beforeAll(async () => {
    table = await diabetesTable();
  }, 60_000);

  test('the leak index built in slices is the one built at once; the tokens are kept for the review', async () => {
    const whole = [table];
    const seen = [{ ...table }];
    const { index, tokens } = await prepareReview(whole, seen);
    // (node:util compares typed arrays as bytes; vitest's toEqual walks them element by element.)
    expect(isDeepStrictEqual(index, buildLeakIndex(whole))).toBe(true);
    expect(index.columns.map((c) => c.column)).toEqual(expect.arrayContaining(['encounter_id', 'patient_nbr']));
    // The review asks for the same array's tokens: it gets the prepared ones, not a second build.
    // (Bare comparisons: vitest's toBe walks both objects for its message when they differ.)
    expect(tokenizeTables(seen) === tokens).toBe(true);
    const fresh = [{ ...table }];
    expect(tokenizeTables(fresh) === tokens).toBe(false);
    expect(isDeepStrictEqual(tokenizeTables(fresh), tokens)).toBe(true);
    expect((await prepareTokens(seen)) === tokens).toBe(true); // already there: nothing done again
  }, 60_000);
});
