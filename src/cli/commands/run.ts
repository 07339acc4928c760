import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportError, exportRun } from '../../lib/receipt/index.ts';
// Node-safe: lib/policy has no browser-only code (lib/runs holds the sandbox's run).
import { DEFAULT_POLICY, POLICY_FIELDS, policyProblems, type RunPolicy } from '../../lib/policy/index.ts';
import type { GateCheck } from '../../lib/gate/index.ts';
import type { RunSealedResult } from '../../app/automation.ts';
import { DIST, launchChromium, pickFiles, sandboxWarning, serveAppInMemory } from '../browser.ts';
import { checkTarget, saveExport } from '../export.ts';
import { CliError, EXIT, err, notebookLines, out, parse, type Command } from '../io.ts';
import { mustExist, readPassphrase, readSigningKey, readText } from '../keys.ts';

/** Exit codes of `airlock run` beyond the common ones (docs/CLI.md). */
export const RUN_EXIT = { badInput: 3, notebookFailed: 4, gateBlocked: 5, timeout: 6, notSaved: 7 } as const;

/** The disclosure settings of the room's policy, as flags: `minCellCount` → `--min-cell-count`. */
const POLICY_FLAGS = POLICY_FIELDS.filter((f) => f.key !== 'timeLimitSeconds' && f.key !== 'maxOutputBytes').map(
  (f) => ({ field: f, flag: f.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) }),
);

const usage = `usage: airlock run (-i owner.key | --room-backup rooms.age [--room NAME] [--passphrase-file F])
                  --bundle model.airlock --table NAME=FILE [--table …] -o out/
                  [--timeout 600] [--max-output 50MB] [--expert expert.pub] [--approve [--sign owner_ed25519] [--force]] [--json]
                  [--policy policy.json] [${POLICY_FLAGS.map((p) => `--${p.flag} N`).join('] [')}]

Runs a bundle on local tables with the same built app and sandbox as the browser, in headless
Chromium. Prints the notebook's output as it comes (each line marked "│ "), then the output gate's
report. With --approve (and the gate passing) writes the outputs and a signed receipt (receipt.json,
receipt.json.sig) to out/, all or nothing; without it nothing leaves. out/ must be new or empty;
--force saves beside files already there, but never replaces one. Outputs named like dot-files,
the receipt, or Windows devices, or too long for the disk, are refused. --expert refuses a bundle
signed by any other key.
The room is either key files (-i, the room's age key; --sign, its receipt key) or a room restored
from the app's backup (--room-backup, with --room when it holds several): then the room's own
policy, trusted experts and receipt key apply, as in the app. Its passphrase comes from
--passphrase-file, AIRLOCK_PASSPHRASE, or the terminal.
The outputs also pass the disclosure checks (docs/DISCLOSURE.md), held to the room's policy; for
this run a JSON file of settings (--policy, keys as in the invitation's policy) or a flag per
setting replaces the room's (defaults):
  ${POLICY_FLAGS.map((p) => `--${p.flag} ${defaultOf(p.field.key)}`).join('  ')}
A failed check blocks like any other (exit 5); --json lists every check with its figures, threshold,
verdict and reason.
Exit codes: 0 done, 1 failed, 2 usage, 3 bad input (bundle refused, table missing or unreadable),
4 the notebook failed, 5 the gate blocked the outputs, 6 time limit, 7 the outputs could not be saved
(nothing was written).`;

function defaultOf(key: keyof RunPolicy): number {
  return DEFAULT_POLICY[key];
}

/** The run's policy: the file's settings, then the flags'; checked as the Room tab checks them. */
function readPolicy(values: Record<string, unknown>): Partial<RunPolicy> {
  let policy: Partial<RunPolicy> = {};
  if (typeof values.policy === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readText(values.policy, 'policy file'));
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`--policy ${values.policy}: not JSON`, EXIT.usage);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new CliError(
        `--policy ${values.policy}: write an object of settings, e.g. {"minCellCount": 10}`,
        EXIT.usage,
      );
    policy = parsed as Partial<RunPolicy>;
  }
  for (const { field, flag } of POLICY_FLAGS) {
    const v = values[flag];
    if (typeof v !== 'string') continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`--${flag} ${v}: give a number`, EXIT.usage);
    policy[field.key] = n;
  }
  const problems = policyProblems(policy);
  if (problems.length) throw new CliError(`the policy: ${problems.join('; ')}`, EXIT.usage);
  return policy;
}

const MARK = { passed: 'passed', failed: 'FAILED', 'not-applicable': 'n/a' } as const;

/** The gate's checks as lines: one per check; what was measured, and for a failure why and what to do. */
function checkLines(checks: GateCheck[]): string[] {
  const out: string[] = [];
  for (const c of checks) {
    const head = `  ${MARK[c.verdict].padEnd(6)}  ${c.file ? `${c.file}  ` : ''}${c.title}`;
    out.push(
      `${head}${c.measured ? `: ${c.measured}` : ''}${c.threshold && c.verdict !== 'passed' ? `  (threshold: ${c.threshold})` : ''}`,
    );
    if (c.verdict !== 'passed') out.push(`          why: ${c.reason}`);
    if (c.verdict === 'failed' && c.suggestion) out.push(`          do:  ${c.suggestion}`);
  }
  return out;
}

/** An export that cannot be saved ends the command with exit 7, nothing written. */
function notSaved(e: unknown): never {
  if (e instanceof ExportError) throw new CliError(`${e.message}`, RUN_EXIT.notSaved);
  throw e;
}

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(s.trim());
  if (!m) throw new CliError(`--max-output ${s}: give a size such as 50MB`, EXIT.usage);
  const unit = (m[2] ?? 'B').toUpperCase();
  const mult: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };
  return Math.floor(Number(m[1]) * mult[unit]!);
}

export const run: Command = {
  name: 'run',
  summary: 'run a bundle on local tables in headless Chromium (the same app and sandbox)',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        identity: { type: 'string', short: 'i' },
        'room-backup': { type: 'string' },
        room: { type: 'string' },
        'passphrase-file': { type: 'string' },
        bundle: { type: 'string' },
        table: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
        timeout: { type: 'string' },
        'max-output': { type: 'string' },
        expert: { type: 'string' },
        approve: { type: 'boolean' },
        sign: { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
        policy: { type: 'string' },
        ...Object.fromEntries(POLICY_FLAGS.map((p) => [p.flag, { type: 'string' as const }])),
      },
      usage,
    );
    if (values.help) return (out(usage), EXIT.ok);
    const backup = values['room-backup'];
    if (!values.identity === !backup)
      throw new CliError(`give the room as -i owner.key or as --room-backup FILE\n\n${usage}`, EXIT.usage);
    for (const k of ['bundle', 'output'] as const)
      if (!values[k]) throw new CliError(`${k === 'output' ? '-o' : '--bundle'} is required\n\n${usage}`, EXIT.usage);
    if (values.approve && !values.sign && !backup)
      throw new CliError('--approve needs --sign owner_ed25519: the receipt is signed by the owner', EXIT.usage);
    if (!existsSync(join(DIST, 'index.html'))) throw new CliError('the app is not built: run `npm run build` first');
    const tables = (values.table ?? []).map((t) => {
      const eq = t.indexOf('=');
      if (eq < 1) throw new CliError(`--table ${t}: write NAME=FILE`, EXIT.usage);
      const file = t.slice(eq + 1);
      if (!existsSync(file)) throw new CliError(`--table ${t}: ${file} not found`, RUN_EXIT.badInput);
      return { as: t.slice(0, eq), file };
    });
    const policy = readPolicy(values as Record<string, unknown>);
    // --timeout and --max-output, else the policy file's, else the defaults.
    const timeLimitMs = Number(values.timeout ?? policy.timeLimitSeconds ?? DEFAULT_POLICY.timeLimitSeconds) * 1000;
    if (!Number.isFinite(timeLimitMs) || timeLimitMs <= 0) throw new CliError('--timeout: give seconds', EXIT.usage);
    const maxOutputBytes = values['max-output']
      ? parseSize(values['max-output'])
      : (policy.maxOutputBytes ?? DEFAULT_POLICY.maxOutputBytes);
    // The key file is read by the page, never by this process: its text is in no protocol message.
    mustExist(values.identity ?? backup!, values.identity ? 'identity file' : 'room backup');
    // The backup's passphrase reaches the page as a file Chromium reads itself (never in a protocol
    // message): the owner's file, or a private temporary one removed once the room is restored.
    let passFile = values['passphrase-file'];
    let passDir: string | undefined;
    if (backup && !passFile) {
      const pass = await readPassphrase();
      passDir = mkdtempSync(join(tmpdir(), 'airlock-pass-'));
      passFile = join(passDir, 'passphrase');
      writeFileSync(passFile, pass, { mode: 0o600 });
    }
    const signer = values.sign ? readSigningKey(values.sign) : undefined;
    const expert = values.expert ? readText(values.expert, 'expert key') : undefined;
    mustExist(values.bundle!, 'bundle');
    // A folder that cannot take the outputs is refused before the run, not after it.
    if (values.approve) await checkTarget(values.output!, !!values.force).catch(notSaved);
    const log = values.json ? () => {} : (s: string) => out(s);
    // The notebook's own lines, marked (notebookLines); the stages are the app's.
    const live = (stream: string, text: string) => {
      if (values.json) return;
      if (stream === 'stage') err(`[${text}]`);
      else if (stream === 'stderr') err(notebookLines(text));
      else out(notebookLines(text));
    };

    // Nothing is served on any socket: the app comes from memory (serveAppInMemory) and the key, the
    // bundle and the tables are handed to the page as picked files, read by Chromium from disk.
    const handed = [
      values.identity ?? backup!,
      values.bundle!,
      ...(passFile ? [passFile] : []),
      ...tables.map((t) => t.file),
    ];
    const firstTable = passFile ? 3 : 2;
    for (const f of handed) {
      try {
        accessSync(f, constants.R_OK);
        if (!statSync(f).isFile()) throw new Error();
      } catch {
        throw new CliError(`${f} is not a file this user can read`, RUN_EXIT.badInput);
      }
    }
    const { browser, sandbox } = await launchChromium();
    // Stderr even under --json: it is a warning about this machine, not part of the result.
    if (!sandbox.on) err(`airlock run: ${sandboxWarning(sandbox.reason)}`);
    let result: RunSealedResult & { signed?: { receipt: string; signature: string } };
    try {
      const context = await browser.newContext({ acceptDownloads: false, serviceWorkers: 'block' });
      const appUrl = await serveAppInMemory(context);
      const page = await context.newPage();
      await page.exposeFunction('__airlockLog', live);
      await page.goto(`${appUrl}?noprewarm`);
      await page.waitForFunction(() => 'airlock' in window);
      // [key, bundle, ...tables]; the page reads each only when it needs it.
      const files = await pickFiles(page, handed);
      // Page scripts are passed as text, made into functions in the page and called with the files:
      // tsx (esbuild keepNames) would wrap named functions in helpers the page lacks.
      const inPage = async <T>(script: string, arg: unknown): Promise<T> => {
        const fn = await page.evaluateHandle(script);
        try {
          return (await page.evaluate(([f, fs, a]) => (f as (fs: unknown, a: unknown) => unknown)(fs, a), [
            fn,
            files,
            arg,
          ] as const)) as T;
        } finally {
          await fn.dispose();
        }
      };
      // The owner's key (or the room of the backup) becomes a room of this throwaway browser profile;
      // the tables are granted to it.
      const restored = await inPage<{ room?: string; error?: string }>(
        `async (files, { backup, only }) => {
          try {
            const text = await files[0].text();
            const passphrase = backup ? (await files[2].text()).replace(/\\r?\\n$/, '') : undefined;
            const r = await window.airlock.rooms.restore(text, { passphrase, only: only ? [only] : undefined });
            if (r.restored.length !== 1)
              return { error: 'the backup holds the rooms ' + r.restored.map((x) => '"' + x.name + '"').join(', ') + ': choose one with --room NAME' };
            return { room: r.restored[0].id };
          } catch (e) {
            return { error: e.message };
          }
        }`,
        { backup: !!backup, only: values.room },
      );
      if (passDir) rmSync(passDir, { recursive: true, force: true });
      if (!restored.room) throw new CliError(`${values.identity ?? backup}: ${restored.error}`, RUN_EXIT.badInput);
      const room = restored.room;
      for (let i = 0; i < tables.length; i++) {
        const t = tables[i]!;
        log(`loading ${t.file} as ${t.as}…`);
        const e = await inPage<string | null>(
          `(files, { i, as, room }) => window.airlock.data.loadFile(files[i], { name: as, replace: true, grantTo: room }).then(() => null, (e) => e.message)`,
          { i: firstTable + i, as: t.as, room },
        );
        if (e) throw new CliError(`${t.file}: ${e}`, RUN_EXIT.badInput);
      }
      result = await inPage<RunSealedResult>(
        `async (files, { room, mapping, expert, limits, policy, signInPage }) => {
          const r = await window.airlock.runSealed({
            room,
            bundle: new Uint8Array(await files[1].arrayBuffer()),
            mapping,
            expert,
            limits,
            policy,
            onEvent: (e) => {
              if (e.type === 'log') window.__airlockLog(e.stream, e.text);
              else if (e.type === 'stage') window.__airlockLog('stage', e.stage);
            },
          });
          // Bytes cross back as base64: Playwright returns JSON.
          const b64 = (bytes) => {
            let s = '';
            for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode(...bytes.subarray(i, i + 32768));
            return btoa(s);
          };
          // A room from a backup signs with its own receipt key, in the page, as the app does.
          if (signInPage && r.report?.status === 'ok' && r.gate?.pass) {
            const e = await window.airlock.exportLast();
            r.signed = { receipt: b64(e.receiptBytes), signature: e.signature };
          }
          if (r.report) r.report.outputs = r.report.outputs.map((o) => ({ path: o.path, b64: b64(o.bytes) }));
          return r;
        }`,
        {
          room,
          mapping: Object.fromEntries(tables.map((t) => [t.as, t.as])),
          expert,
          // The flags and --policy replace the room's settings for this run; without them the room's apply.
          limits: {
            ...(values.timeout || policy.timeLimitSeconds ? { timeLimitMs } : {}),
            ...(values['max-output'] || policy.maxOutputBytes ? { maxOutputBytes } : {}),
          },
          policy,
          signInPage: !!(values.approve && !signer),
        },
      );
    } finally {
      await browser.close();
    }

    if (result.refused) {
      if (values.json) out(JSON.stringify({ ok: false, code: 'bad-input', error: result.refused }));
      else err(`airlock run: ${result.refused}`);
      return RUN_EXIT.badInput;
    }
    const report = result.report!;
    const outputs = (report.outputs as unknown as Array<{ path: string; b64: string }>).map((o) => ({
      path: o.path,
      bytes: new Uint8Array(Buffer.from(o.b64, 'base64')),
    }));
    const gate = result.gate;
    const code =
      report.status === 'ok'
        ? gate?.pass
          ? EXIT.ok
          : RUN_EXIT.gateBlocked
        : report.status === 'timeout'
          ? RUN_EXIT.timeout
          : RUN_EXIT.notebookFailed;
    const lines = [`run: ${report.message}`];
    if (report.tripwires.length) lines.push(`tripwires: ${report.tripwires.map((t) => t.name).join(', ')}`);
    if (gate) {
      lines.push(`gate: ${gate.pass ? 'passed' : 'blocked'}`);
      for (const f of gate.files)
        lines.push(
          `  ${f.path}  ${f.size} bytes  ${f.type}${f.problems.length ? `\n    ${f.problems.join('\n    ')}` : '  ok'}`,
        );
      lines.push('checks:', ...checkLines(gate.checks));
    }
    let written: string[] = [];
    if (values.approve && code === EXIT.ok && (signer || result.signed)) {
      // The same export as the app's (lib/receipt exportRun): the receipt as the page drew it up,
      // signed here with the owner's key file, or in the page with the room's own receipt key.
      const { receiptBytes: bytes, signature } = signer
        ? await exportRun(
            { report: { ...report, outputs }, gate: gate!, receipt: result.receipt!, bundle: result.bundle! },
            signer,
          )
        : {
            receiptBytes: new Uint8Array(Buffer.from(result.signed!.receipt, 'base64')),
            signature: result.signed!.signature,
          };
      try {
        written = await saveExport(values.output!, outputs, { json: bytes, sig: signature }, { force: values.force });
      } catch (e) {
        if (!(e instanceof ExportError)) throw e;
        if (values.json) {
          out(
            JSON.stringify({ ok: false, exitCode: RUN_EXIT.notSaved, code: e.code, error: e.message, paths: e.paths }),
          );
          return RUN_EXIT.notSaved;
        }
        out(lines.join('\n'));
        notSaved(e);
      }
      lines.push(`approved: wrote ${written.join(', ')} to ${values.output}`);
    } else if (code === EXIT.ok) {
      lines.push('not approved: nothing was written (add --approve --sign KEY to export)');
    } else {
      lines.push('nothing was written');
    }
    if (values.json) {
      out(
        JSON.stringify(
          {
            ok: code === EXIT.ok,
            exitCode: code,
            status: report.status,
            message: report.message,
            signer: result.bundle!.signer,
            tripwires: report.tripwires,
            policy: result.receipt?.policy,
            ...(result.receipt?.holdout ? { holdout: result.receipt.holdout } : {}),
            gate,
            written,
            logs: report.logs,
          },
          null,
          2,
        ),
      );
    } else out(lines.join('\n'));
    return code;
  },
};
