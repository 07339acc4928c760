/** The one-line messages the page gives the owner: the latest, until dismissed or replaced. */
import { errorText } from './format.ts';

export interface Notice {
  id: number;
  text: string;
  kind: 'ok' | 'error';
}

export class Notices {
  #current = $state.raw<Notice | null>(null);
  #seq = 0;

  get current(): Notice | null {
    return this.#current;
  }

  say(text: string, kind: 'ok' | 'error' = 'ok'): void {
    this.#current = { id: ++this.#seq, text, kind };
  }

  fail(e: unknown, prefix = ''): void {
    this.say(prefix + errorText(e), 'error');
  }

  dismiss(): void {
    this.#current = null;
  }
}
