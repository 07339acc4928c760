/** Light, dark, or the system's choice (the default); the choice is kept in this browser. */
export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'airlock-theme';

export class Theme {
  #choice = $state.raw<ThemeChoice>('system');

  constructor() {
    try {
      const saved = localStorage.getItem(KEY);
      if (saved === 'light' || saved === 'dark') this.#choice = saved;
    } catch {
      /* storage may be unavailable; the system's choice stands */
    }
    this.#apply();
  }

  get choice(): ThemeChoice {
    return this.#choice;
  }

  /** system → light → dark → system. */
  cycle(): void {
    this.set(this.#choice === 'system' ? 'light' : this.#choice === 'light' ? 'dark' : 'system');
  }

  set(choice: ThemeChoice): void {
    this.#choice = choice;
    try {
      if (choice === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      /* kept for this page only */
    }
    this.#apply();
  }

  #apply(): void {
    if (this.#choice === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = this.#choice;
  }
}
