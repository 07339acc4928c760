/**
 * visibleText: the one rule for text from outside shown to a person (the CLI prints only through it,
 * the app renders names and logs through it). Real escape sequences in, nothing a terminal obeys or a
 * reader is misled by out.
 */
import { describe, expect, test } from 'vitest';
import { escapeCharacter, hiddenCharacter, visibleText } from '../../src/lib/text/index.ts';

const ESC = '\x1b';
const BEL = '\x07';
/** The characters that must never come out raw: C0 but newline and tab, DEL, C1, bidi, zero-width, BOM, separators. */
const FORBIDDEN = [
  ...Array.from({ length: 32 }, (_, i) => i).filter((i) => i !== 0x0a && i !== 0x09),
  0x7f,
  ...Array.from({ length: 32 }, (_, i) => 0x80 + i),
  0x061c,
  0x200b,
  0x200c,
  0x200d,
  0x200e,
  0x200f,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
  0x2028,
  0x2029,
  0x2060,
  0xfeff,
  0x00ad,
];
const rawForbidden = (s: string) => [...s].filter((c) => FORBIDDEN.includes(c.codePointAt(0)!));

describe('visibleText', () => {
  test.each([
    [
      'OSC 52: write the clipboard',
      `${ESC}]52;c;Y3VybCBldmlsLnNoIHwgc2g=${BEL}`,
      '\\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\u0007',
    ],
    ['OSC 0: retitle the window', `${ESC}]0;airlock: gate passed${ESC}\\`, '\\u001b]0;airlock: gate passed\\u001b\\'],
    ['CSI 8 m: conceal what follows', `${ESC}[8mtripwires: fetch${ESC}[0m`, '\\u001b[8mtripwires: fetch\\u001b[0m'],
    [
      'a fake "gate: passed" drawn over the line above',
      `gate: blocked\r${ESC}[2K${ESC}[1Agate: passed`,
      'gate: blocked\\u000d\\u001b[2K\\u001b[1Agate: passed',
    ],
    ['C1 CSI (U+009B) and NEL (U+0085)', '\u009b8m\u0085x', '\\u009b8m\\u0085x'],
    ['backspace, NUL, DEL', 'ab\b\b\0\x7f', 'ab\\u0008\\u0008\\u0000\\u007f'],
    ['a right-to-left override in a file name', 'model\u202Egnp.exe', 'model\\u202egnp.exe'],
    ['isolates and marks', '\u2066a\u2069\u200e\u200f\u061c', '\\u2066a\\u2069\\u200e\\u200f\\u061c'],
    ['zero-width and BOM', 'mo\u200bdel\ufeff', 'mo\\u200bdel\\ufeff'],
    ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
    ['a tag character (astral)', 'x\u{E0041}', 'x\\udb40\\udc41'],
    ['a lone surrogate', 'x\ud800y', 'x\\ud800y'],
  ])('%s', (_label, input, expected) => {
    const out = visibleText(input);
    expect(out).toBe(expected);
    expect(rawForbidden(out)).toEqual([]);
  });

  test('keeps newlines, tabs and every script: accents, CJK, Hebrew, Arabic, emoji, backslashes', () => {
    const ok = 'café\tmodèle\n模型.json\nשלום مرحبا 😀 C:\\path ünïcödé';
    expect(visibleText(ok)).toBe(ok);
    expect(hiddenCharacter('modèle/模型.json')).toBeUndefined();
  });

  test('no code point, alone or between letters, comes out as a forbidden character', () => {
    let escaped = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      const out = visibleText(`a${c}b`);
      if (out !== `a${c}b`) escaped++;
      if (rawForbidden(out).length) throw new Error(`U+${cp.toString(16)} came out raw`);
    }
    // The class is wider than the list: every Cc, Cf, Zl, Zp and default-ignorable code point.
    expect(escaped).toBeGreaterThan(FORBIDDEN.length + 1000);
  });

  test('the escapes are JSON escapes: a JSON line stays valid JSON and parses back to the original', () => {
    const value = { log: `${ESC}]52;c;eA==${BEL}\u009b\u202e\u200b\u2028\ufeff\u{E0041}\x7f\r`, n: 1 };
    const line = visibleText(JSON.stringify(value, null, 2));
    expect(rawForbidden(line)).toEqual([]);
    expect(JSON.parse(line)).toEqual(value);
  });

  test('idempotent, and hiddenCharacter names the first hidden character (newline and tab included)', () => {
    const s = `${ESC}[31mred\u202e`;
    expect(visibleText(visibleText(s))).toBe(visibleText(s));
    expect(hiddenCharacter('a\u202eb\x1b')).toBe('\\u202e');
    expect(hiddenCharacter('a\nb')).toBe('\\u000a');
    expect(escapeCharacter('\u{E0041}')).toBe('\\udb40\\udc41');
  });
});
