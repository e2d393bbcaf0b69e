/**
 * Runs in headless Chromium (see `chromium.test.ts`): behaviours of the WebGL2 backend beyond the
 * conformance table — synchronous reads, float64 refused, out-of-range indices raised at the next read,
 * memory released by `dispose`/`scope`, the host path of `copy` for views it cannot invert, int32 exact up
 * to 2^24, and kernels compiled once per rank (not per size). Each check returns null or what went wrong.
 */
import {
  CpuBackend,
  Generator,
  createWebGLBackend,
  gather,
  randn,
  registerBackend,
  scatterAdd,
  scope,
  setBackend,
  tensor,
  type Backend,
  type Operand,
  type WebGLBackend,
} from '../../src/tensor/index.js';

/** Check name → null when it held, else the reason. */
export type WebGLChecks = Record<string, string | null>;

function on<T>(f: () => T): T {
  setBackend('webgl-checks');
  try {
    return f();
  } finally {
    setBackend('cpu');
  }
}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

/** The error `f` throws (failing the check when it throws none). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

const CHECKS: Record<string, (gl: WebGLBackend) => void | Promise<void>> = {
  'reads are synchronous: dataSync, item and toArray give what await data() gives': async () => {
    const x = on(() => randn([3, 5], { generator: new Generator('sync') }).exp());
    const [sync, async] = [x.dataSync(), await x.data()];
    expect(sync.length === 15 && sync.every((v, i) => v === async[i]), `dataSync ${Array.from(sync)} vs data ${Array.from(async)}`);
    const s = on(() => x.sum());
    const want = Array.from(sync).reduce((a, b) => a + b, 0);
    expect(Math.abs(s.item() - want) <= 1e-5 * want, `item ${s.item()} vs ${want}`);
    expect((x.toArray() as number[][])[2]![4] === sync[14], 'toArray agrees with dataSync');
  },
  'float64 is refused, naming the op': () => {
    const e = thrown(() => on(() => tensor([1, 2], { dtype: 'float64' })));
    expect(e instanceof TypeError && /webgl\.alloc.*float64/.test(e.message), `got ${e.name}: ${e.message}`);
    const c = thrown(() => on(() => tensor([1, 2]).cast('float64')));
    expect(/float64/.test(c.message), `cast: ${c.message}`);
  },
  'an out-of-range gather or scatterAdd index is raised at the next read, naming op, index and axis size': () => {
    const x = on(() => tensor([[1, 2, 3], [4, 5, 6]]));
    const bad = on(() => gather(x, 1, tensor([[0, 7], [2, 1]], { dtype: 'int32' })));
    const e = thrown(() => bad.dataSync());
    expect(e instanceof RangeError && /gather: index 7 is out of range for axis 1 of size 3/.test(e.message), `got ${e.name}: ${e.message}`);
    expect(x.dataSync()[5] === 6, 'the next read works again');
    const s = on(() => scatterAdd(x, 0, tensor([[0, -1, 1]], { dtype: 'int32' }), tensor([[1, 1, 1]])));
    const f = thrown(() => s.dataSync());
    expect(f instanceof RangeError && /scatterAdd: index -1 .* size 2/.test(f.message), `got ${f.name}: ${f.message}`);
    const ok = on(() => gather(x, 0, tensor([[1, 0, 1]], { dtype: 'int32' })));
    expect(Array.from(ok.dataSync()).join() === '4,2,6', `in-range gather: ${Array.from(ok.dataSync())}`);
  },
  'dispose and scope release every texture they own': (gl) => {
    const before = gl.liveBuffers;
    const kept = on(() =>
      scope(() => {
        const x = randn([6, 9], { generator: new Generator('mem') });
        const y = x.matmul(x.transpose()).softmax(-1).add(x.sum(1, true));
        y.slice([1, 4]).copy_(y.slice([0, 3]).mul(2));
        return y.sort(1).values.add(gather(y, 1, tensor([[0], [5], [1], [2], [3], [4]], { dtype: 'int32' })).cumsum(0));
      }),
    );
    expect(gl.liveBuffers === before + 1, `one buffer kept: ${gl.liveBuffers - before}`);
    kept.dataSync();
    kept.dispose();
    expect(gl.liveBuffers === before, `after dispose: ${gl.liveBuffers - before} buffers still live`);
    expect(gl.stats().pendingIndexChecks === 0, 'the read consumed the index checks');
  },
  'a copy into a view whose strides cannot be inverted greedily runs on the host, as on the cpu backend': (gl) => {
    const results = [new CpuBackend() as Backend, gl as Backend].map((be) => {
      const base = be.alloc('float32', 8);
      be.write(base, Float32Array.from({ length: 8 }, (_, i) => -i - 1));
      const src = be.alloc('float32', 6);
      be.write(src, Float32Array.of(10, 20, 30, 40, 50, 60));
      const s: Operand = { buffer: src, shape: [2, 3], strides: [3, 1], offset: 0 };
      // Elements 0, 2, 4 and 3, 5, 7: the stride 3 is below the span 2·2 of the inner axis.
      be.copy(s, { buffer: base, shape: [2, 3], strides: [3, 2], offset: 0 });
      const out = Array.from(be.readSync!(base));
      be.free(base);
      be.free(src);
      return out.join();
    });
    expect(results[0] === results[1], `cpu ${results[0]} vs webgl ${results[1]}`);
    expect(results[0] === '10,-2,20,40,30,50,-7,60', `cpu gave ${results[0]}`);
  },
  'int32 is exact up to 2^24 (stored in float textures)': () => {
    const big = 2 ** 24 - 1;
    const i = on(() => tensor([big, -big, 123457, -7], { dtype: 'int32' }));
    const got = on(() => i.add(0).neg().neg());
    expect(got.dtype === 'int32' && Array.from(got.dataSync()).join() === `${big},${-big},123457,-7`, `got ${Array.from(got.dataSync())}`);
  },
  'kernels are compiled per rank, not per size: other sizes reuse them': (gl) => {
    const run = (n: number): void => void on(() => randn([n, 3], { generator: new Generator('k') }).exp().sum(1).dataSync());
    run(4);
    const compiled = gl.stats().kernels;
    run(9);
    run(257);
    expect(gl.stats().kernels === compiled, `${gl.stats().kernels - compiled} kernels compiled for new sizes`);
  },
};

/** Runs every check on a fresh WebGL backend (registered as `'webgl-checks'`). */
export async function run(): Promise<WebGLChecks> {
  let gl: WebGLBackend;
  try {
    gl = createWebGLBackend();
  } catch (e) {
    return { 'a WebGL2 backend can be created': (e as Error).message };
  }
  registerBackend('webgl-checks', () => gl);
  const out: WebGLChecks = {};
  for (const [name, f] of Object.entries(CHECKS)) {
    try {
      await f(gl);
      out[name] = null;
    } catch (e) {
      out[name] = (e as Error).stack ?? String(e);
    }
  }
  gl.destroy();
  return out;
}
