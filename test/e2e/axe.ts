/**
 * The accessibility check of the browser suite: axe-core (the npm package, read from
 * node_modules, never downloaded) evaluated in the page, answering its serious and critical
 * violations as one line each ("color-contrast (serious): .badge — Elements must meet …").
 * Evaluated through the DevTools protocol, so the dashboard's Content-Security-Policy (no inline
 * script) stays as strict as it is for users.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const loaded = (await page.evaluate('typeof window.axe')) as string;
  if (loaded !== 'object') await page.evaluate(axeSource);
  const violations = (await page.evaluate(`window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ')} — ${v.help}`);
}

/** Until the element's opacity, its ancestors' included, is 1: axe judges contrast mid-fade otherwise. */
export const untilOpaque = (target: Locator) =>
  expect
    .poll(() =>
      target.evaluate((element) => {
        // Runs in the page; the test's TypeScript has no DOM types, hence the narrow shapes.
        type Node = { parentElement: Node | null };
        const style = (globalThis as unknown as { getComputedStyle(node: Node): { opacity: string } }).getComputedStyle;
        let opacity = 1;
        for (let node: Node | null = element as unknown as Node; node; node = node.parentElement) opacity *= Number(style(node).opacity);
        return opacity;
      }),
    )
    .toBe(1);
