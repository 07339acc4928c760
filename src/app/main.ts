import { mount } from 'svelte';
import App from './App.svelte';
import { installAutomation } from './automation.ts';
import { collectGarbage } from '../lib/data/index.ts';

installAutomation();
// Chunks of a save that a closed tab never finished (over an hour old) are removed.
void collectGarbage().catch(() => {});
mount(App, { target: document.getElementById('app')! });

// Make the warm-start snapshot once the page is idle, so the next run (and the next visit) starts
// Python in about a second. Tests and benchmarks opt out with ?noprewarm to control timing.
if (!new URLSearchParams(location.search).has('noprewarm')) {
  const idle = window.requestIdleCallback ?? ((f: () => void) => setTimeout(f, 2000));
  idle(() => void (window as unknown as { airlock: { prewarm(): Promise<boolean> } }).airlock.prewarm(), {
    timeout: 10_000,
  });
}
