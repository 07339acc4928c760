import { mount } from 'svelte';
import './styles.css';
import App from './App.svelte';
import { installAutomation } from './automation.ts';
import { collectGarbage } from '../lib/data/index.ts';
import { AppState } from './state/app.svelte.ts';

installAutomation();
// Chunks of a save that a closed tab never finished (over an hour old) are removed.
void collectGarbage().catch(() => {});
const app = new AppState();
mount(App, { target: document.getElementById('app')!, props: { app } });
document.getElementById('boot')?.remove();
// When the page can be used (measured by tests and `npm run bench -- page`).
performance.mark('airlock:interactive');

const params = new URLSearchParams(location.search);
// The app's own service worker: the app works offline once loaded (src/app/offline/sw.js).
if (import.meta.env.PROD && 'serviceWorker' in navigator && !params.has('nosw')) {
  navigator.serviceWorker.register('./sw.js').catch(() => {});
}

// Make the warm-start snapshot once the page is idle, so the next run (and the next visit) starts
// Python in about a second. Tests and benchmarks opt out with ?noprewarm to control timing.
if (!params.has('noprewarm')) {
  const idle = window.requestIdleCallback ?? ((f: () => void) => setTimeout(f, 2000));
  idle(() => void window.airlock.prewarm().catch(() => {}), { timeout: 10_000 });
}
