/**
 * Chromium for the console's browser tests: Debian's binary driven by playwright-core (no browser
 * download), a loud skip where it is missing (a failure under SLUICE_REQUIRE_BROWSER=1, as .ci/run
 * sets), and axe-core's serious or critical violations of a page.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
/** Where the console's tests write their screenshots (gitignored). */
export const SHOTS = resolve('test/screenshots/console');

/** A reason to skip (said on stderr), or false when chromium is there. */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const line = `chromium is not at ${CHROMIUM} (apt-get install -y chromium): the console's browser tests SKIPPED`;
  if (process.env.SLUICE_REQUIRE_BROWSER === '1') {
    it('a browser is required here (SLUICE_REQUIRE_BROWSER=1)', () => assert.fail(line));
    return line;
  }
  process.stderr.write(`\n!!! ${line} !!!\n\n`);
  return line;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Chromium's own sandbox needs user namespaces that a root CI shell may not give it.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

const axeSource = async () => readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious or critical accessibility violations on the page as it is. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(await axeSource());
  const result = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(
            o: object,
          ): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    return axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice'] } });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
