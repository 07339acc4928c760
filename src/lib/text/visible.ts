/**
 * Text from outside — a notebook's output, a bundle's names, a table's columns, a receipt — shown to
 * a person. In a terminal, control characters are commands: ESC opens CSI, OSC and DCS sequences
 * (ECMA-48 § 5), C1 code points are their 8-bit forms, and those sequences can set the clipboard
 * (OSC 52), retitle the window (OSC 0), hide text (CSI 8 m) or move the cursor to redraw lines that
 * were already printed. On any screen, bidirectional controls reorder what is read (Unicode UAX #9;
 * "Trojan Source", CVE-2021-42574) and invisible characters make two different names look the same
 * (Unicode UTS #39). One rule covers all of it, here, for the app and the command line alike.
 */

/**
 * The characters that never reach a screen as themselves: every control (Cc: C0, DEL, C1), format
 * character (Cf: bidi embeddings, overrides and isolates, marks, zero-width characters, U+FEFF,
 * tags), line and paragraph separator (Zl, Zp), lone surrogate (Cs), and the rest of what Unicode
 * calls default-ignorable (variation selectors, Hangul fillers, reserved invisibles). A class, not a
 * list: a character added to these categories later is covered as soon as the runtime knows it.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');

const hex4 = (unit: number) => '\\u' + unit.toString(16).padStart(4, '0');

/**
 * A character as an escape, `\u001b` or `\u202e` (above U+FFFF as its two UTF-16 halves): the same
 * text in JSON, JavaScript and Python, so a line of JSON stays valid JSON after it is made visible.
 */
export function escapeCharacter(c: string): string {
  let s = '';
  for (let i = 0; i < c.length; i++) s += hex4(c.charCodeAt(i));
  return s;
}

/**
 * `s` with every hidden character (see above) replaced by its visible escape, except newline and
 * tab. What is left cannot move the cursor, change a terminal's state, or reorder a line. Backslashes
 * are left as they are: text that spells an escape looks like one, which misleads no one about what
 * a terminal will do. Idempotent.
 */
export function visibleText(s: string): string {
  return s.replace(HIDDEN_ALL, (c) => (c === '\n' || c === '\t' ? c : escapeCharacter(c)));
}

/**
 * The first hidden character in `s` (newline and tab included), as its escape; `undefined` if
 * there is none. For names, which must be what they look like.
 */
export function hiddenCharacter(s: string): string | undefined {
  const m = HIDDEN.exec(s);
  return m ? escapeCharacter(m[0]) : undefined;
}
