/**
 * The fused-op rows of `elementwise.bench.ts`: softmax, log-softmax, layer norm and exact GELU over rows
 * of 128 floats (the width of the training benchmark's model), and one AdamW step over a parameter, in
 * GB/s (bytes each op must read and write at least, over time). being-ts's wasm backend runs each with its
 * fused kernel and, for comparison, composed from its primitive kernels (the backend's fused method
 * hidden); the CPU backend composes. Each being-ts call runs in `scope()`, which frees the temporaries of
 * the composed forms; TensorFlow.js's `wasm` backend runs `tf.softmax`, `tf.logSoftmax`,
 * layer norm as `tf.moments` + `tf.batchNorm` (how tfjs models write it; tfjs has no layer-norm op), and
 * AdamW as the decoupled decay `w·(1 − lr·λ)` followed by `tf.train.adam`'s update (tfjs has no GELU op:
 * that cell is empty). Each timed call allocates its outputs and disposes them.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '../src/nn/index.js';
import { Generator, gelu, getBackend, layerNorm, logSoftmax, randn, scope, setBackend, softmax, tensor } from '../src/tensor/index.js';
import { formatNumber, formatRatio, type BenchCase, type CaseResult } from './harness.js';

/** Row width of the softmax / norm / GELU inputs. */
const WIDTH = 128;

interface FusedOp {
  /** Bytes read and written per element. */
  bytes: number;
  /** The backend method whose absence makes the op composed. */
  method: string;
  /** Makes the timed function on the current being-ts backend (inputs built here, outside the timing). */
  being: (host: Float32Array[], n: number) => () => void;
  /** The tfjs form, or null where tfjs has no counterpart. */
  tfjs: ((host: Float32Array[], n: number) => { fn: () => void; dispose: () => void }) | null;
}

const rowsOf = (n: number): number[] => [n / WIDTH, WIDTH];

const OPS: Record<string, FusedOp> = {
  softmax: {
    bytes: 8,
    method: 'softmax',
    being: (h, n) => {
      const x = tensor(h[0]!, { shape: rowsOf(n) });
      return () => scope(() => void softmax(x, -1));
    },
    tfjs: (h, n) => {
      const x = tf.tensor2d(h[0]!, rowsOf(n) as [number, number]);
      return { fn: () => tf.softmax(x).dispose(), dispose: () => x.dispose() };
    },
  },
  logSoftmax: {
    bytes: 8,
    method: 'softmax',
    being: (h, n) => {
      const x = tensor(h[0]!, { shape: rowsOf(n) });
      return () => scope(() => void logSoftmax(x, -1));
    },
    tfjs: (h, n) => {
      const x = tf.tensor2d(h[0]!, rowsOf(n) as [number, number]);
      return { fn: () => tf.logSoftmax(x).dispose(), dispose: () => x.dispose() };
    },
  },
  layerNorm: {
    bytes: 8,
    method: 'norm',
    being: (h, n) => {
      const x = tensor(h[0]!, { shape: rowsOf(n) });
      const [w, b] = [tensor(h[1]!.subarray(0, WIDTH)), tensor(h[1]!.subarray(WIDTH, 2 * WIDTH))];
      return () => scope(() => void layerNorm(x, WIDTH, w, b));
    },
    tfjs: (h, n) => {
      const x = tf.tensor2d(h[0]!, rowsOf(n) as [number, number]);
      // Shaped [1, 128], as tfjs-layers' LayerNormalization broadcasts them (batchNorm wants equal ranks).
      const [w, b] = [tf.tensor2d(h[1]!.subarray(0, WIDTH), [1, WIDTH]), tf.tensor2d(h[1]!.subarray(WIDTH, 2 * WIDTH), [1, WIDTH])];
      const fn = (): void =>
        tf
          .tidy(() => {
            const { mean, variance } = tf.moments(x, -1, true);
            return tf.batchNorm(x, mean, variance, b, w, 1e-5);
          })
          .dispose();
      return { fn, dispose: () => tf.dispose([x, w, b]) };
    },
  },
  gelu: {
    bytes: 8,
    method: 'gelu',
    being: (h, n) => {
      const x = tensor(h[0]!, { shape: rowsOf(n) });
      return () => scope(() => void gelu(x));
    },
    tfjs: null,
  },
  adamw: {
    bytes: 28,
    method: 'adamwUpdate',
    being: (h) => {
      const p = tensor(h[0]!).requiresGrad_();
      p.grad = tensor(h[1]!);
      const opt = new AdamW([p], { lr: 1e-3, weightDecay: 0.01 });
      return () => scope(() => opt.step());
    },
    tfjs: (h) => {
      const w = tf.variable(tf.tensor1d(h[0]!));
      const g = tf.tensor1d(h[1]!);
      const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
      const fn = (): void => {
        tf.tidy(() => w.assign(tf.mul(w, 1 - 1e-3 * 0.01)));
        opt.applyGradients([{ name: w.name, tensor: g }]);
      };
      return { fn, dispose: () => (opt.dispose(), tf.dispose([w, g])) };
    },
  },
};

/** The implementations in the table's columns. */
const IMPLS = ['cpu', 'wasm composed', 'wasm fused', 'tfjs-wasm'] as const;

/** The benchmark cases for inputs of `n` floats (a multiple of 128), for `runSuite`. */
export function fusedOpCases(n: number): BenchCase[] {
  const gen = new Generator(`fused-${n}`);
  const host = [randn([n], { generator: gen }).dataSync() as Float32Array, randn([n], { generator: gen }).mul(0.01).dataSync() as Float32Array];
  const options = { minSamples: 10, maxTime: 1 };
  const cases: BenchCase[] = [];
  for (const [name, op] of Object.entries(OPS)) {
    for (const impl of ['cpu', 'wasm composed', 'wasm fused'] as const) {
      let fn: (() => void) | null = null;
      let hidden: Record<string, unknown> | null = null;
      cases.push({
        name: `${name} ${impl} n=${n}`,
        options,
        setup: () => {
          setBackend(impl === 'cpu' ? 'cpu' : 'wasm');
          if (impl === 'wasm composed') {
            hidden = getBackend() as unknown as Record<string, unknown>;
            hidden[op.method] = undefined;
          }
          fn = op.being(host, n);
        },
        fn: () => fn!(),
        teardown: () => {
          if (hidden !== null) delete hidden[op.method];
          setBackend('cpu');
          fn = null;
        },
      });
    }
    if (op.tfjs !== null) {
      let t: { fn: () => void; dispose: () => void } | null = null;
      const make = op.tfjs;
      cases.push({
        name: `${name} tfjs-wasm n=${n}`,
        options,
        setup: () => {
          t = make(host, n);
        },
        fn: () => t!.fn(),
        teardown: () => t?.dispose(),
      });
    }
  }
  return cases;
}

/** The header of {@link fusedOpRows}' table. */
export const FUSED_HEADER = ['fused op', 'n', ...IMPLS.map((i) => `${i} GB/s`), 'fused/composed', 'fused/tfjs-wasm'];

/** The table rows for size `n` from the results of {@link fusedOpCases}. */
export function fusedOpRows(n: number, results: Map<string, CaseResult>): string[][] {
  return Object.entries(OPS).map(([name, op]) => {
    const gbs = Object.fromEntries(IMPLS.map((impl) => [impl, ((results.get(`${name} ${impl} n=${n}`)?.hz ?? NaN) * op.bytes * n) / 1e9]));
    return [
      name,
      String(n),
      ...IMPLS.map((i) => formatNumber(gbs[i]!)),
      formatRatio(gbs['wasm fused']!, gbs['wasm composed']!),
      formatRatio(gbs['wasm fused']!, gbs['tfjs-wasm']!),
    ];
  });
}
