/**
 * A static server, bound to 127.0.0.1, for tests that run compiled code in headless Chromium: `build/`
 * (the compiled `src/` and `test/`) at `/`, the two CommonJS dependencies turned into ES modules behind an
 * import map, and gpu.js's browser bundle at `/gpu.js`, which the page at `/` loads (it defines the global
 * `GPU` that the WebGL backend is created from). A module is run with
 * `page.evaluate((m) => import(m).then((x) => x.run()), '/test/browser/….js')`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { createRequire } from 'node:module';
import { cjsToEsm } from '../helpers/cjs-to-esm.js';

/** A running server: its origin, and how to stop it. */
export interface BuildServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Whether gpu.js's browser bundle was found (the optional dependency may be missing). */
  readonly gpuJs: boolean;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Where gpu.js's browser bundle is, or null when the optional dependency is not installed. */
export function gpuJsBundle(root = process.cwd()): string | null {
  try {
    const pkg = createRequire(join(root, 'package.json')).resolve('gpu.js/package.json');
    const bundle = join(pkg, '..', 'dist', 'gpu-browser.min.js');
    return existsSync(bundle) ? bundle : null;
  } catch {
    return null;
  }
}

/** Serves `build/` (relative to the working directory) until `close()`. */
export async function serveBuild(root = process.cwd()): Promise<BuildServer> {
  const build = join(root, 'build');
  const shims = Object.fromEntries(['seedrandom', 'ndarray'].map((n) => [`/shim/${n}.js`, cjsToEsm(n, join(root, 'package.json'))]));
  const importMap = JSON.stringify({ imports: { seedrandom: '/shim/seedrandom.js', ndarray: '/shim/ndarray.js' } });
  const bundle = gpuJsBundle(root);
  const gpuJs = bundle === null ? '' : '<script src="/gpu.js"></script>';
  const server = http.createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const js = { 'content-type': 'text/javascript' };
    if (path === '/') return void res.end(`<!doctype html><title>being-ts</title><script type="importmap">${importMap}</script>${gpuJs}`);
    if (shims[path] !== undefined) return void res.writeHead(200, js).end(shims[path]);
    const file = path === '/gpu.js' && bundle !== null ? bundle : join(build, path);
    if (!file.startsWith(build) && file !== bundle) return void res.writeHead(404).end();
    readFile(file)
      .then((body) => res.writeHead(200, path.endsWith('.js') ? js : { 'content-type': 'application/octet-stream' }).end(body))
      .catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    gpuJs: bundle !== null,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
