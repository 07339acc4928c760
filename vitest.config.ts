import { defineConfig, mergeConfig } from 'vitest/config';
import viteConfig from './vite.config.ts';

// Two projects: `unit` runs the framework-free core in Node; `browser` drives the built app in a real
// Chromium through Playwright (tests/browser/harness.ts). Browser files run one at a time: each starts
// its own browser, and this machine has two cores.
export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      reporters: ['default', './tests/summary-reporter.ts'],
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['tests/unit/**/*.test.ts'],
            environment: 'node',
            testTimeout: 60_000,
            // Memory tests force collections, so they measure what is held, not garbage not yet freed.
            execArgv: ['--expose-gc'],
            // Two files at a time (the default is cores − 1, one file here); the browser files still
            // run one at a time, after these.
            maxWorkers: 2,
          },
        },
        {
          extends: true,
          test: {
            name: 'browser',
            include: ['tests/browser/**/*.test.ts'],
            environment: 'node',
            fileParallelism: false,
            // Tests marked concurrent (independent `airlock run` processes) run two at a time.
            maxConcurrency: 2,
            testTimeout: 180_000,
            hookTimeout: 180_000,
            globalSetup: ['tests/browser/global-setup.ts'],
          },
        },
      ],
    },
  }),
);
