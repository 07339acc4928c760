import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import {
  BundleError,
  DeclarationError,
  readDeclarations,
  sealBundle,
  type DeclarationField,
} from '../../lib/bundle/index.ts';
import { CliError, EXIT, out, parse, writeStreamToFile, type Command } from '../io.ts';
import { startNodeLanes } from '../lanes.ts';
import { mustExist, readRecipient, readSigningKey, readText } from '../keys.ts';

const usage = `usage: airlock seal --to <age1…|invitation.json> --notebook train.ipynb --wheel dist/x.whl [--wheel …]
                   --sign ~/.ssh/id_ed25519 -o model.airlock
                   [--name N] [--version V] [--output model.json …] [--table name …] [--reply-to age1…]
                   [--inference module:function --label column[=positive]] [--aggregate counts.csv …]

Seals a notebook and wheels into a bundle that only the owner's room key opens, signed with your
OpenSSH Ed25519 key (signature namespace "airlock"). --output declares the files the notebook will
write (none declared: any file in the output folder may be written); --table the tables it reads.
--reply-to names your own age recipient: the owner may then encrypt the outputs so only you can read
them. --name defaults to the notebook's name, --version to 0.1.0.
--inference names the function that scores a table with the model, called as function(table,
model_dir) and returning one probability of the positive label per row; --label the column it
predicts, and for a text column its positive value (readmitted=<30). With both, the owner's run
can audit the model for membership inference (docs/DISCLOSURE.md). --aggregate declares an output
that is a table of counts or aggregates: the owner's gate must read it as one.`;

/** The flag each declaration is typed in. */
const FLAG: Record<DeclarationField, string> = {
  inference: '--inference',
  label: '--label',
  aggregates: '--aggregate',
};

export const seal: Command = {
  name: 'seal',
  summary: 'seal a notebook and wheels into a signed, encrypted bundle for one owner',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        to: { type: 'string' },
        notebook: { type: 'string' },
        wheel: { type: 'string', multiple: true },
        sign: { type: 'string' },
        output: { type: 'string', multiple: true },
        table: { type: 'string', multiple: true },
        name: { type: 'string' },
        version: { type: 'string' },
        'reply-to': { type: 'string' },
        inference: { type: 'string' },
        label: { type: 'string' },
        aggregate: { type: 'string', multiple: true },
        o: { type: 'string', short: 'o' },
      },
      usage,
    );
    if (values.help) return (out(usage), EXIT.ok);
    for (const k of ['to', 'notebook', 'sign', 'o'] as const)
      if (!values[k]) throw new CliError(`${k === 'o' ? '-o FILE' : `--${k}`} is required\n\n${usage}`, EXIT.usage);
    let declared: ReturnType<typeof readDeclarations>;
    try {
      // The same reading as the Expert tab's seal form (lib/bundle/declare.ts).
      declared = readDeclarations({
        ...(values.inference !== undefined ? { inference: values.inference } : {}),
        ...(values.label !== undefined ? { label: values.label } : {}),
        ...(values.aggregate ? { aggregates: values.aggregate } : {}),
        ...(values.output ? { outputs: values.output } : {}),
      });
    } catch (e) {
      if (e instanceof DeclarationError) throw new CliError(`${FLAG[e.field]} ${e.value}: ${e.fix}`, EXIT.usage);
      throw e;
    }
    const nbPath = values.notebook!;
    readText(nbPath, 'notebook');
    // The cipher threads load while the files are read and hashed.
    const threads = startNodeLanes(
      (values.wheel ?? []).reduce((n, p) => n + (existsSync(p) ? statSync(p).size : 0), 0),
    );
    const file = (p: string) => {
      const b = readFileSync(p);
      return { filename: basename(p), bytes: new Uint8Array(b.buffer, b.byteOffset, b.length) };
    };
    try {
      // Checked for existence only: a wheel is binary, and may be hundreds of MB.
      const wheels = (values.wheel ?? []).map((p) => (mustExist(p, 'wheel'), file(p)));
      const { manifest: signed, stream } = await sealBundle(
        {
          recipient: readRecipient(values.to!),
          signer: readSigningKey(values.sign!),
          name:
            values.name ??
            basename(nbPath)
              .replace(/\.ipynb$/, '')
              .replace(/[^A-Za-z0-9._-]/g, '-'),
          version: values.version ?? '0.1.0',
          notebook: file(nbPath),
          wheels,
          outputs: values.output,
          tables: values.table,
          ...(values['reply-to'] ? { replyTo: values['reply-to'] } : {}),
          ...declared,
        },
        { lanes: threads.lanes },
      );
      await writeStreamToFile(stream, values.o!);
      const manifest = await signed;
      out(
        `sealed ${manifest.name} ${manifest.version} (${manifest.wheels.length} wheel${manifest.wheels.length === 1 ? '' : 's'}) for ${readRecipient(values.to!)}, signed by ${manifest.author.fingerprint} → ${values.o}`,
      );
      return EXIT.ok;
    } catch (e) {
      if (e instanceof BundleError) throw new CliError(e.message);
      throw e;
    } finally {
      await threads.end();
    }
  },
};
