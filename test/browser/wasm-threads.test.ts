/**
 * The wasm backend's threads in a browser: headless Chromium (playwright-core) loads the compiled
 * `build/` from 127.0.0.1 (`server.ts`), with every response given the COOP/COEP headers that make the
 * page cross-origin isolated (so `SharedArrayBuffer` and shared wasm memory exist), and runs
 * `wasm-threads-page.ts`: the default Web Worker spawner, a main thread that may not block, and results
 * equal to one thread's. Skipped, with the reason, where no Chromium is installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { serveBuild, type BuildServer } from './server.js';
import type { ThreadsReport } from './wasm-threads-page.js';

const executable = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const skip = existsSync(executable) ? false : `no Chromium at ${executable} (set CHROMIUM_PATH; CI installs Debian's chromium)`;

describe('headless Chromium, cross-origin isolated: the wasm backend on two Web Worker threads', { skip, timeout: 120_000 }, () => {
  let server: BuildServer;
  let browser: Browser;
  let report: ThreadsReport;
  const errors: string[] = [];
  before(async () => {
    server = await serveBuild();
    browser = await chromium.launch({ executablePath: executable, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'] });
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', async (route) => {
      const response = await route.fetch();
      await route.fulfill({
        response,
        headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
      });
    });
    await page.goto(`${server.origin}/`);
    report = (await page.evaluate((m) => import(m).then((x: { run(): Promise<unknown> }) => x.run()), '/test/browser/wasm-threads-page.js')) as ThreadsReport;
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the page is cross-origin isolated, its main thread may not block, and the memory is shared', () => {
    assert.equal(report.skip, undefined, report.skip);
    assert.equal(report.mainCanBlock, false);
    assert.equal(report.shared, true);
  });
  test('two threads start from the default Web Worker spawner and run tasks; results equal one thread’s', () => {
    const st = report.status!;
    assert.deepEqual([st.requested, st.running, st.failure], [2, 2, null]);
    assert.ok(st.workerTasks > 0, `the worker ran no task: ${JSON.stringify(st)}`);
    assert.deepEqual(report.differences, []);
    assert.deepEqual(errors, [], 'no uncaught page errors');
  });
});
