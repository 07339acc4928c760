import { existsSync, writeFileSync } from 'node:fs';
import { formatIdentityFile, generateOwnerKey, generateSshKey, fingerprint } from '../../lib/crypto/index.ts';
import { CliError, EXIT, out, parse, type Command } from '../io.ts';

const usage = `usage: airlock keygen -o owner.key [--force]
       airlock keygen --ssh -o expert_ed25519 [--comment text] [--force]

Without --ssh: writes the owner's room key, an age X25519 identity file (the same format as
age-keygen), and prints its recipient (age1…), which the owner shares with the expert.
With --ssh: writes an OpenSSH Ed25519 key pair for signing bundles (FILE and FILE.pub, readable by
ssh-keygen) and prints its fingerprint.`;

export const keygen: Command = {
  name: 'keygen',
  summary: "make the owner's room key (age) or an expert signing key (--ssh)",
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        output: { type: 'string', short: 'o' },
        ssh: { type: 'boolean' },
        comment: { type: 'string' },
        force: { type: 'boolean' },
      },
      usage,
    );
    if (values.help) return (out(usage), EXIT.ok);
    const file = values.output;
    if (!file) throw new CliError(`-o FILE is required\n\n${usage}`, EXIT.usage);
    if (!values.force && existsSync(file))
      throw new CliError(`${file} exists; refusing to overwrite a key (use --force if you mean it)`);
    if (values.ssh) {
      const k = generateSshKey(values.comment ?? 'airlock');
      writeFileSync(file, k.privateKey, { mode: 0o600 });
      writeFileSync(`${file}.pub`, k.publicKey);
      out(fingerprint(k.key.publicKey));
      return EXIT.ok;
    }
    const key = await generateOwnerKey();
    writeFileSync(file, formatIdentityFile(key), { mode: 0o600 });
    out(key.recipient);
    return EXIT.ok;
  },
};
