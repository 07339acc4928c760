// ESLint: the obvious mistakes out of review (typescript-eslint, eslint-plugin-svelte). Formatting is Prettier's.
import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

export default ts.config(
  { ignores: ['dist/', 'node_modules/', 'bench-results/', 'test-results/', 'tests/bench/duckdb/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: {
        ...globals.browser,
        ...globals.node,
        __AIRLOCK_VERSION__: 'readonly',
        __PYODIDE_VERSION__: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Empty catch blocks say why in a comment; the rule would ask for one anyway.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // The command line prints only through io.ts's out/err, which make every control, bidi and
    // invisible character visible (a notebook's output must not reach a terminal as escape sequences).
    files: ['src/cli/**'],
    ignores: ['src/cli/io.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'stdout', message: 'print with out() from io.ts' },
        { object: 'process', property: 'stderr', message: 'print with err() from io.ts' },
      ],
    },
  },
  {
    // Tests reach into pages and workers whose globals have no types.
    files: ['tests/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { projectService: true, extraFileExtensions: ['.svelte'], parser: ts.parser, svelteConfig },
    },
    // State here is $state.raw replaced whole, never a mutated Map, Set or Date; the rule flags every
    // `new Date().toISOString()` timestamp.
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },
);
