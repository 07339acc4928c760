#!/usr/bin/env node
// The `airlock` command. The CLI is written in TypeScript (src/cli) and shares its code with the app;
// tsx runs it directly so a checkout needs no separate build step.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/cli/main.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
