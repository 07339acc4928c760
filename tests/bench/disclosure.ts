/**
 * What the gate and its disclosure checks add to a run (docs/DISCLOSURE.md), measured in the built
 * app on the real diabetes data (101,766 rows) through `window.airlock.runSealed`, as `airlock run`
 * drives it. The baseline, measured in the same run and alternating with it, is the same notebook
 * with the same wheel on the same stored table run bare (`window.airlock.run`: no bundle, no gate,
 * no rows held back), from the call to its report.
 *
 * - the whole gate's cost: the sealed run from the call to its result, less the bare run. The work
 *   the gate does beside the notebook (the tables' indexes, the audit's sandbox) slows the notebook
 *   on a shared machine; this difference counts that too;
 * - the parts the owner waits for after the notebook: the disclosure checks of the review (tables,
 *   rows, size) and the membership audit's scoring (5% of the rows held back, 1,000 of them and
 *   1,000 training rows scored through the bundle's entry point in its own sandbox, the attack).
 */
import { generateSshKey } from '../../src/lib/crypto/index.ts';
import { COUNTS, SAFE, TRAIN, WHEEL, sealCells } from '../browser/disclosure-models.ts';
import { notebookJson } from '../browser/fixtures.ts';
import { launchBrowser, startStaticServer } from '../browser/harness.ts';
import { diabetesCsv } from '../unit/fixtures/data.ts';
import type { BenchRow } from './report.ts';

const REPEATS = Number(process.env.AIRLOCK_BENCH_REPEATS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Measured {
  bareMs: number;
  bareCellsMs: number;
  /** The sealed run with the room's holdout at 0: no rows held back, no audit (audited bundles only). */
  noAuditMs?: number;
  wallMs: number;
  notebookMs: number;
  bootMs: number;
  cellsMs: number;
  reviewMs: number;
  disclosureMs: number;
  auditMs?: number;
  pass: boolean;
}

export async function benchDisclosure(log: (s: string) => void): Promise<BenchRow[]> {
  const browser = await launchBrowser();
  const server = await startStaticServer();
  server.routes.set(new URL('__data/ehr.csv', server.appUrl).pathname, {
    type: 'text/csv',
    body: Buffer.from(diabetesCsv()),
  });
  const expert = generateSshKey('expert');
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.appUrl}?noprewarm`);
    await page.waitForFunction(() => 'airlock' in window);
    const room = await page.evaluate(async () => {
      const x = (window as any).airlock;
      await x.prewarm(); // as after a first visit: both the run and the audit start from the snapshot
      const { room } = await x.rooms.create({ name: 'bench', passphrase: 'a long passphrase', workFactor: 10 });
      const bytes = new Uint8Array(await (await fetch('__data/ehr.csv')).arrayBuffer());
      await x.data.load({ name: 'ehr.csv', bytes }, { name: 'ehr', grantTo: room.id });
      return room as { id: string; recipient: string };
    });
    const wheel = { filename: WHEEL.filename, bytes: [...WHEEL.bytes] };
    const seal = async (cells: string[], outputs: string[], extra: Parameters<typeof sealCells>[4] = {}) => ({
      notebook: notebookJson(cells),
      audited: 'inference' in extra,
      sealed: [...(await sealCells(room.recipient, expert.key, cells, outputs, { name: 'bench', ...extra }))],
    });
    const cases = [
      {
        name: 'logistic regression (8 weights), with the membership audit',
        bundle: await seal([TRAIN('fit_logistic')], ['model.json'], {
          inference: { module: 'readmit.model', function: 'predict_logistic' },
          label: { column: 'readmitted', positive: '<30' },
        }),
      },
      {
        // A training run of a more usual length: the gate's cost is fixed, the notebook's is not.
        name: 'logistic regression, 10 passes over the rows, with the membership audit',
        bundle: await seal(
          [TRAIN('fit_logistic').replace('fit_logistic(t)', 'fit_logistic(t, epochs=10)')],
          ['model.json'],
          {
            inference: { module: 'readmit.model', function: 'predict_logistic' },
            label: { column: 'readmitted', positive: '<30' },
          },
        ),
      },
      {
        name: 'table of counts by age × race × gender × readmission (suppressed, rounded)',
        bundle: await seal([COUNTS(SAFE)], ['counts.csv'], {
          aggregates: ['counts.csv'],
        }),
      },
      { name: 'k-NN storing 1,000 training rows', bundle: await seal([TRAIN('fit_knn')], ['model.json']) },
    ];
    const rows: BenchRow[] = [];
    for (const c of cases) {
      const runs: Measured[] = [];
      for (let i = 0; i < REPEATS; i++) {
        const m = await page.evaluate(
          async ({ room, bundle, wheel }) => {
            const x = (window as any).airlock;
            const b0 = performance.now();
            const bare = await x.run({
              notebook: bundle.notebook,
              wheels: [{ filename: wheel.filename, bytes: new Uint8Array(wheel.bytes) }],
              storedTables: [{ name: 'ehr', as: 'ehr' }],
            });
            const bareMs = performance.now() - b0;
            if (bare.status !== 'ok') throw new Error(bare.message);
            let noAuditMs: number | undefined;
            if (bundle.audited) {
              const n0 = performance.now();
              const n = await x.runSealed({
                room,
                bundle: new Uint8Array(bundle.sealed),
                mapping: { ehr: 'ehr' },
                policy: { holdout: 0 },
              });
              noAuditMs = performance.now() - n0;
              if (n.refused || n.report.status !== 'ok') throw new Error(n.refused ?? n.report.message);
            }
            const t0 = performance.now();
            const r = await (window as any).airlock.runSealed({
              room,
              bundle: new Uint8Array(bundle.sealed),
              mapping: { ehr: 'ehr' },
            });
            const wallMs = performance.now() - t0;
            if (r.refused || r.report.status !== 'ok') throw new Error(r.refused ?? r.report.message);
            const audit = r.gate.checks.find((x: any) => x.id === 'membership');
            return {
              bareMs,
              bareCellsMs: bare.cells.reduce((s: number, c: any) => s + c.ms, 0),
              ...(noAuditMs !== undefined ? { noAuditMs } : {}),
              wallMs,
              notebookMs: r.report.totalMs,
              bootMs: r.report.bootMs ?? 0,
              cellsMs: r.report.cells.reduce((s: number, c: any) => s + c.ms, 0),
              reviewMs: r.gate.review.ms,
              disclosureMs: r.gate.review.disclosureMs,
              ...(audit?.figures?.ms !== undefined ? { auditMs: audit.figures.ms } : {}),
              pass: r.gate.pass,
            };
          },
          { room: room.id, bundle: c.bundle, wheel },
        );
        runs.push(m);
        log(
          `  ${c.name} #${i + 1}: bare ${m.bareMs.toFixed(0)} ms (cells ${m.bareCellsMs.toFixed(0)} ms);${m.noAuditMs !== undefined ? ` sealed without the audit ${m.noAuditMs.toFixed(0)} ms;` : ''} sealed: run ${m.notebookMs.toFixed(0)} ms (Python's start ${m.bootMs.toFixed(0)} ms, cells ${m.cellsMs.toFixed(0)} ms), review ${m.reviewMs.toFixed(0)} ms (disclosure ${m.disclosureMs.toFixed(0)} ms)${m.auditMs !== undefined ? `, audit ${m.auditMs} ms` : ''}, whole ${m.wallMs.toFixed(0)} ms, gate ${m.pass ? 'passed' : 'blocked'}`,
        );
      }
      const bare = median(runs.map((r) => r.bareMs));
      const base = {
        section: 'disclosure',
        unit: 'ms',
        baseline: bare,
        baselineName: 'the same notebook run bare (no bundle, no gate)',
      };
      // Medians of per-pair differences: each sealed run against the bare run just before it.
      const added = median(runs.map((r) => r.wallMs - r.bareMs));
      rows.push({
        ...base,
        name: `the gate's whole cost (sealed run less bare run): ${c.name}`,
        value: added,
        ratio: added / bare,
        goal: 'small beside the run',
      });
      const noAudit = runs.map((r) => r.noAuditMs).filter((x): x is number => x !== undefined);
      if (noAudit.length) {
        const v = median(runs.map((r) => r.noAuditMs! - r.bareMs));
        rows.push({
          ...base,
          name: `the gate's cost without the membership audit (holdout 0): ${c.name}`,
          value: v,
          ratio: v / bare,
        });
      }
      const d = median(runs.map((r) => r.disclosureMs));
      rows.push({
        ...base,
        name: `disclosure checks after the notebook (tables, rows, size): ${c.name}`,
        value: d,
        ratio: d / bare,
      });
      const audits = runs.map((r) => r.auditMs).filter((x): x is number => x !== undefined);
      if (audits.length) {
        const a = median(audits);
        rows.push({
          ...base,
          name: 'membership audit after the notebook: 1,000 held-back + 1,000 training rows scored, attack measured',
          value: a,
          ratio: a / bare,
        });
      }
    }
    return rows;
  } finally {
    await browser.close();
    await server.close();
  }
}
