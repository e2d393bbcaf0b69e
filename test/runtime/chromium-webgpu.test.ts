import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { cjsToEsm } from '../helpers/cjs-to-esm.js';

// The built package in Debian's Chromium, headless, with --enable-unsafe-webgpu (on a machine without a
// GPU, Chromium's WebGPU runs on SwiftShader). `dist/` is served from 127.0.0.1, with the two CommonJS
// dependencies turned into ES modules behind an import map, and the page runs kernels and a small MLP's
// backward pass on webgpu and on cpu. Skipped where no Chromium is installed.
const executable = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

interface PageResult {
  skip?: string;
  adapter?: string;
  maxDiff?: number[];
  liveBefore?: number;
  liveAfter?: number;
}

/** Runs in the page: imports the package, compares webgpu with cpu, and counts live buffers around a scope. */
async function inPage(): Promise<PageResult> {
  // Variable specifiers: the page resolves them, TypeScript does not.
  const [tensorUrl, nnUrl] = ['/dist/tensor/index.js', '/dist/nn/index.js'];
  const B = { ...((await import(tensorUrl)) as typeof import('../../src/tensor/index.js')), nn: (await import(nnUrl)) as typeof import('../../src/nn/index.js') };
  let gpu;
  try {
    gpu = await B.initWebGPU();
  } catch (e) {
    return { skip: (e as Error).message };
  }
  const run = async (name: string): Promise<Float32Array[]> => {
    B.setBackend(name);
    try {
      const outs = B.scope(() => {
        const g = new B.Generator('chromium-webgpu');
        const x = B.randn([16, 5], { generator: g });
        const w1 = B.randn([5, 12], { generator: g }).mul(0.4).requiresGrad_();
        const w2 = B.randn([12, 2], { generator: g }).mul(0.4).requiresGrad_();
        const y = B.randn([16, 2], { generator: g });
        const loss = B.nn.mseLoss(x.matmul(w1).tanh().matmul(w2), y);
        loss.backward();
        return [loss, w1.grad!, w2.grad!, B.randn([3, 300], { generator: g }).sort(1).values, x.softmax(1), x.cumsum(0)];
      });
      const host = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
      for (const t of outs) t.dispose();
      return host;
    } finally {
      B.setBackend('cpu');
    }
  };
  const [onGpu, onCpu] = [await run('webgpu'), await run('cpu')];
  const maxDiff = onGpu.map((a, k) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - onCpu[k]![i]!)), 0));
  B.setBackend('webgpu');
  const liveBefore = gpu.liveBuffers;
  const s = B.scope(() => B.randn([64, 64]).matmul(B.randn([64, 64])).relu().sum());
  await s.data();
  s.dispose();
  const liveAfter = gpu.liveBuffers;
  B.setBackend('cpu');
  const info = (gpu.ctx.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  gpu.destroy();
  return { adapter: info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() : 'unknown', maxDiff, liveBefore, liveAfter };
}

test(
  'the built package runs on Chromium’s WebGPU (headless): kernels and an MLP backward match the cpu backend, scope frees',
  { skip: existsSync(executable) ? false : `no Chromium at ${executable} (set CHROMIUM_PATH)`, timeout: 120_000 },
  async (t) => {
    const root = join(process.cwd(), 'dist');
    const shims = Object.fromEntries(['seedrandom', 'ndarray'].map((n) => [`/shim/${n}.js`, cjsToEsm(n, join(process.cwd(), 'package.json'))]));
    const importMap = JSON.stringify({ imports: { seedrandom: '/shim/seedrandom.js', ndarray: '/shim/ndarray.js' } });
    const server = http.createServer((req, res) => {
      const path = normalize(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      if (path === '/') return void res.end(`<!doctype html><title>being-ts webgpu</title><script type="importmap">${importMap}</script>`);
      if (shims[path] !== undefined) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(shims[path]);
      if (!path.startsWith('/dist/')) return void res.writeHead(404).end();
      readFile(join(root, path.slice('/dist/'.length)))
        .then((body) => res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' }).end(body))
        .catch(() => res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const browser = await chromium.launch({ executablePath: executable, headless: true, args: ['--enable-unsafe-webgpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const out = await page.evaluate(inPage);
      if (out.skip !== undefined) return t.skip(`Chromium has no WebGPU adapter: ${out.skip}`);
      assert.equal(out.maxDiff?.length, 6);
      out.maxDiff!.forEach((d, i) => assert.ok(d <= 1e-4, `output ${i} differs by ${d} (adapter ${out.adapter})`));
      assert.equal(out.liveBefore, 0, 'every tensor of the runs was disposed');
      assert.equal(out.liveAfter, 0, 'the scoped step left no buffer behind');
    } finally {
      await browser.close();
      await new Promise((r) => server.close(r));
    }
  },
);
