import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it. */
export const CHROMIUM = '/usr/bin/chromium';
/** Headless, and quiet on a machine whose only network is loopback. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the browser is installed. */
export const chromiumAvailable = existsSync(CHROMIUM);

/**
 * `describe` for a suite that needs Chromium: skipped with a warning where it
 * is missing, except under CI, where the suite runs and its `beforeAll` must
 * fail through `launchChromium`.
 */
export function describeWithChromium(what: string): jest.Describe {
  if (!chromiumAvailable && !process.env.CI) {
    console.warn(`Skipping ${what}: ${CHROMIUM} is missing (install it with: apt-get install -y chromium).`);
    return describe.skip;
  }
  return describe;
}

/** Starts headless Chromium, or fails saying what is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable) throw new Error(`CI is set but ${CHROMIUM} is missing: the CI script must install Chromium.`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
