/** Text from outside shown to a person: controls, bidi and invisible characters made visible. */
export { visibleText, hiddenCharacter, escapeCharacter } from './visible.ts';
