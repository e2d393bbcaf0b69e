/**
 * The conformance table on WebGL2 (gpu.js) and WebGPU in Debian's Chromium, headless, driven by
 * playwright-core: the compiled `build/` is served from 127.0.0.1 (`server.ts`) and the pages
 * `conformance-page.ts`, `webgl-page.ts` and `policy-page.ts` run inside it; their results come back and
 * become one test each here. On a machine without a GPU, Chromium's WebGL2 and WebGPU run on SwiftShader.
 * Skipped, with the reason, where no Chromium is installed (CI installs Debian's `chromium`) or gpu.js is
 * missing (an optional dependency).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CASES } from '../helpers/conformance-cases.js';
import type { BackendReport } from './conformance-page.js';
import type { PolicyReport } from './policy-page.js';
import type { WebGLChecks } from './webgl-page.js';
import { gpuJsBundle, serveBuild, type BuildServer } from './server.js';

const executable = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const skip = !existsSync(executable)
  ? `no Chromium at ${executable} (set CHROMIUM_PATH; CI installs Debian's chromium)`
  : gpuJsBundle() === null
    ? 'the optional dependency gpu.js is not installed'
    : false;
if (skip) console.log(`# chromium conformance skipped: ${skip}`);

/** Flags for headless Chromium without a GPU: WebGPU enabled, and WebGL allowed onto SwiftShader. */
const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];

let server: BuildServer;
let browser: Browser;
let page: Page;

/** Imports a compiled module in the page and returns what its `run()` resolves to. */
function runInPage<T>(module: string): Promise<T> {
  return page.evaluate((m) => import(m).then((x: { run(): Promise<unknown> }) => x.run()), module) as Promise<T>;
}

describe('headless Chromium: WebGL2 and WebGPU backends', { skip, timeout: 120_000 }, () => {
  let reports: Map<string, BackendReport>;
  let checks: WebGLChecks;
  let policy: PolicyReport;
  before(async () => {
    server = await serveBuild();
    browser = await chromium.launch({ executablePath: executable, headless: true, args: ARGS });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.origin}/`);
    const list = await runInPage<BackendReport[]>('/test/browser/conformance-page.js');
    reports = new Map(list.map((r) => [r.backend, r]));
    checks = await runInPage<WebGLChecks>('/test/browser/webgl-page.js');
    policy = await runInPage<PolicyReport>('/test/browser/policy-page.js');
    assert.deepEqual(errors, [], 'no uncaught page errors');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const backend of ['webgl', 'webgpu']) {
    for (const c of CASES) {
      test(`${backend}: ${c.name}`, (t) => {
        const r = reports.get(backend)!;
        if (r.skip !== undefined) {
          // WebGL2 through SwiftShader is always there in Chromium; only WebGPU may lack an adapter.
          assert.equal(backend, 'webgpu', `the ${backend} backend could not be created: ${r.skip}`);
          return t.skip(`Chromium has no WebGPU adapter: ${r.skip}`);
        }
        const res = r.cases.find((x) => x.name === c.name);
        assert.ok(res, `the page ran ${c.name}`);
        assert.equal(res.error, undefined, res.error);
      });
    }
  }

  const CHECK_NAMES = [
    'reads are synchronous: dataSync, item and toArray give what await data() gives',
    'float64 is refused, naming the op',
    'an out-of-range gather or scatterAdd index is raised at the next read, naming op, index and axis size',
    'dispose and scope release every texture they own',
    'a copy into a view whose strides cannot be inverted greedily runs on the host, as on the cpu backend',
    'int32 is exact up to 2^24 (stored in float textures)',
    'kernels are compiled per rank, not per size: other sizes reuse them',
  ];
  for (const name of CHECK_NAMES) {
    test(`webgl: ${name}`, () => {
      assert.deepEqual(Object.keys(checks).sort(), [...CHECK_NAMES].sort(), 'the page ran exactly these checks');
      assert.equal(checks[name], null, checks[name] ?? undefined);
    });
  }

  test('webgl: the tiny policy’s action inference (Eq. 20 denoising, Eq. 21 MPG rounds) matches the cpu backend within 1e-4·(1 + max|a|), and scope frees its temporaries', (t) => {
    assert.equal(policy.skip, undefined, `the webgl backend could not be created: ${policy.skip}`);
    assert.deepEqual(policy.shape, [16, 6], 'a chunk of 16 SO-101 actions (6 joints)');
    assert.ok(policy.maxAbs! > 0.1, `the actions are not trivially small (max |a| ${policy.maxAbs})`);
    const tol = 1e-4 * (1 + policy.maxAbs!);
    assert.ok(policy.maxDiff! <= tol, `raw actions differ by ${policy.maxDiff} (tolerance ${tol})`);
    assert.ok(policy.roundDiffs!.length >= 2, 'the stage-1 chunk and at least one MPG refinement round');
    policy.roundDiffs!.forEach((d, i) => assert.ok(d <= tol, `round ${i} differs by ${d}`));
    assert.equal(policy.liveAfter, policy.liveBefore, 'every texture made during inference was freed');
    t.diagnostic(`max |webgl − cpu| ${policy.maxDiff}; ${policy.hostReads} synchronous host reads during inference (MoE routing, MPG gate, sliced-Wasserstein checks)`);
  });
});
