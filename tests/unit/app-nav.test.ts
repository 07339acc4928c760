import { expect, test } from 'vitest';
import { formatRoute, parseRoute } from '../../src/app/state/nav.svelte.ts';

test('every place in the app is a hash that reads back as itself', () => {
  const places = [
    { tab: 'demo', item: null, room: null },
    { tab: 'tables', item: 'hospital ehr/2024', room: 'room-1a2b3c4d' },
    { tab: 'bundles', item: 'room-1a2b3c4d/readmission@1.0.0', room: 'room-1a2b3c4d' },
    { tab: 'room', item: 'invite', room: null },
  ] as const;
  for (const p of places) expect(parseRoute(formatRoute(p))).toEqual(p);
  expect(formatRoute({ tab: 'tables', item: 'a b', room: 'r' })).toBe('#/tables/a%20b?room=r');
});

test('what a person may type or paste lands somewhere sensible', () => {
  expect(parseRoute('')).toEqual({ tab: 'demo', item: null, room: null });
  expect(parseRoute('#/nowhere/x')).toMatchObject({ tab: 'demo' });
  expect(parseRoute('#demo-run')).toMatchObject({ tab: 'demo', item: null });
  expect(parseRoute('#/tables/%E0%A4%A')).toEqual({ tab: 'tables', item: null, room: null });
});
