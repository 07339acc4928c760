import { benchBundleChromium } from './bundle.ts';
import { generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
const o = await generateOwnerKey(); const e = generateSshKey();
const rows = await benchBundleChromium((s) => console.log(s), o.identity, e.privateKey, Number(process.env.R ?? 2));
console.log(rows.map((r) => `${r.name}: ${r.value.toFixed(0)} ${r.ratio?.toFixed(2) ?? ''}`).join('\n'));
