/**
 * What every UI test checks on a page the way a person meets it: no critical or serious axe-core
 * violation, no sideways scrolling at phone widths, a visible focus ring, and a screenshot kept under
 * test-results/ (at 1280 and 390 px, light and dark) for a person to look at.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT } from './harness.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const SHOTS = join(ROOT, 'test-results', 'ui');

/** axe-core in the page (evaluated by the driver, so the app's CSP need not allow it). */
export async function axe(page: Page, where: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE};0`);
  const violations = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v: any) => v.impact === 'critical' || v.impact === 'serious')
      .map(
        (v: any) =>
          `${v.id} (${v.impact}): ${v.help} — ${v.nodes
            .map((n: any) => n.target.join(' '))
            .slice(0, 4)
            .join(' | ')}`,
      );
  });
  expect(violations, `axe on ${where}`).toEqual([]);
}

/** The page scrolls no wider than the window. */
export async function noSideScroll(page: Page, where: string): Promise<void> {
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  expect(scroll, `scrollWidth at ${inner} px on ${where}`).toBeLessThanOrEqual(inner);
}

export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * The page at each width (360, 390 and 1280 px) and each colour scheme: no sideways scroll, no
 * serious axe violation, and screenshots at 1280 and 390 px. Leaves the page at 1280 px, light.
 */
export async function everyWidth(
  page: Page,
  name: string,
  options: { dark?: boolean; shots?: boolean } = {},
): Promise<void> {
  const schemes: Array<'light' | 'dark'> = options.dark === false ? ['light'] : ['light', 'dark'];
  for (const scheme of schemes) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [360, 390, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(50);
      await noSideScroll(page, `${name} (${scheme})`);
      if (width !== 360) {
        await axe(page, `${name} at ${width} px (${scheme})`);
        if (options.shots !== false) await shoot(page, `${name}-${width}-${scheme}`);
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The focused element shows a ring: its own outline, or its drop zone's (a file input is see-through). */
export async function focusRingVisible(page: Page): Promise<{ what: string; visible: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: 'body', visible: false };
    const target = el.matches('input[type=file]') ? (el.closest('.zone') as HTMLElement) : el;
    const s = getComputedStyle(target);
    const visible = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
    return {
      what: `${el.tagName.toLowerCase()} ${el.getAttribute('data-testid') ?? el.textContent?.trim().slice(0, 30) ?? ''}`,
      visible,
    };
  });
}

/** Presses Tab until `selector` has focus (at most `max` presses), checking the ring at every stop. */
export async function tabTo(page: Page, selector: string, max = 60): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    const ring = await focusRingVisible(page);
    expect(ring.visible, `focus ring on ${ring.what}`).toBe(true);
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i;
  }
  throw new Error(`${selector} was not reached in ${max} Tab presses`);
}
