/**
 * One training step of a small decoder-only transformer — forward, backward and AdamW update — in
 * milliseconds per step: being-ts (its `nn` modules on the CPU backend) against the same model written
 * by hand with TensorFlow.js ops on tfjs's `wasm` backend (XNNPACK; SIMD where the runtime has it,
 * single-threaded in Node), measured in the same process. Also the forward latency at batch 1 (64
 * tokens) without gradients, and being-ts's step split into forward, backward and optimiser.
 *
 *     npm run bench:train                                              # full run (about 1.5–2 minutes)
 *     npm run build:all && node build/bench/train-step.bench.js --quick          # fewer samples (about 30 s)
 *     npm run build:all && node build/bench/train-step.bench.js --backend=wasm   # being-ts on its wasm backend
 *     npm run build:all && node build/bench/train-step.bench.js --tfjs-cpu       # also tfjs's plain-JS cpu backend (~5 s a step)
 *
 * The model (GPT-2 style): learned token embedding (vocabulary 256) plus learned positional embedding
 * (sequence 64), 4 pre-LayerNorm blocks of width 128 with 4-head causal self-attention (biased q/k/v/o
 * projections) and a 4× MLP with exact (erf) GELU, a final LayerNorm and an untied, bias-free output head
 * 128 → 256; loss: mean cross-entropy of next-token prediction on random tokens; batch 8 × 64 tokens.
 * 867,072 parameters; about 2.7 GFLOP of matrix products per step (0.9 forward, twice that backward).
 * AdamW: lr 3e-4, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter.
 *
 * - being-ts: `Embedding`, `TransformerBlock` (`{ causal: true }`), `LayerNorm`, `Linear`, `crossEntropy`,
 *   `AdamW`; a step is `zeroGrad`, forward, `loss.backward()`, `step()` — all synchronous.
 * - tfjs: `tf.variable` weights copied from being-ts's initial weights, the same ops written with tfjs
 *   (additive −1e9 causal mask, `tf.softmax`, `tf.logSoftmax` + one-hot cross-entropy), gradients from
 *   `tf.variableGrads`, then AdamW = the decoupled decay `w ← w·(1 − lr·λ)` written by hand followed by
 *   `tf.train.adam` (PyTorch's AdamW order, so the two agree step for step). A step ends with reading the
 *   loss back (`dataSync`), with everything it allocated disposed (`tf.tidy`). Two choices favour tfjs:
 *   Linear weights are stored transposed, `[in, out]` — a plain `matMul(x, W)` takes XNNPACK's fast path,
 *   while `matMul(x, W, false, true)` on `[out, in]` weights was ~10× slower here (this is probably why the
 *   issue measured ~1.9 s a step); and the token embedding's gradient is summed with `scatterND`
 *   (tfjs's own gradient of `gather` needs `UnsortedSegmentSum`, which the wasm backend lacks).
 *   tfjs's backward still uses its stock gradients, whose transposed products leave the fast path.
 *   tfjs-core registers no gradients in Node by itself: see `tfjs-gradients.ts`.
 *
 * Before timing, the two are checked to be the same model: equal parameter counts, the same first loss
 * from the same weights and batch (to 1e-3 relative; they agree to ~1e-6), and the same losses over a
 * few optimiser steps. A mismatch prints a warning and sets a non-zero exit code.
 *
 * Figures are medians over benchmark.js samples (means are in the progress lines on stderr); on a busy
 * machine the median is the steadier one.
 *
 * Reference figures from the issue, for this machine: PyTorch ≈ 75 ms per step on one core; tfjs wasm
 * ≈ 1.9 s per step.
 * @module
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { arange, Generator, noGrad, scope, setBackend, tensor, type Tensor } from '../src/tensor/index.js';
import { AdamW, crossEntropy, Embedding, LayerNorm, Linear, Module, ModuleList, TransformerBlock } from '../src/nn/index.js';
import { registerTfjsGradients } from './tfjs-gradients.js';
import { formatNumber, formatRatio, formatTable, runSuite, type BenchCase, type CaseOptions, type CaseResult } from './harness.js';

const CFG = {
  vocab: 256,
  dim: 128,
  layers: 4,
  heads: 4,
  seq: 64,
  batch: 8,
  mlpRatio: 4,
  lr: 3e-4,
  betas: [0.9, 0.999] as const,
  eps: 1e-8,
  weightDecay: 0.01,
  lnEps: 1e-5,
};

// ---------------------------------------------------------------------------------------------------
// being-ts

/** The decoder-only transformer, from being-ts's `nn` modules. */
class TinyGPT extends Module {
  readonly tokEmb: Embedding;
  readonly posEmb: Embedding;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly lnF: LayerNorm;
  readonly head: Linear;

  constructor(generator: Generator) {
    super();
    const { vocab, dim, layers, heads, seq, mlpRatio } = CFG;
    this.tokEmb = this.module('tokEmb', new Embedding(vocab, dim, { generator }));
    this.posEmb = this.module('posEmb', new Embedding(seq, dim, { generator }));
    const blocks: TransformerBlock[] = [];
    for (let i = 0; i < layers; i++) {
      blocks.push(new TransformerBlock(dim, { numHeads: heads, mlp: 'gelu', mlpHidden: mlpRatio * dim, norm: 'layer', generator }));
    }
    this.blocks = this.module('blocks', new ModuleList(blocks));
    this.lnF = this.module('lnF', new LayerNorm(dim));
    this.head = this.module('head', new Linear(dim, vocab, { bias: false, generator }));
  }

  /** int32 ids `[B, T]` → logits `[B, T, vocab]`. */
  forward(ids: Tensor): Tensor {
    const T = ids.shape[1]!;
    let x = this.tokEmb.forward(ids).add(this.posEmb.forward(arange(T)));
    for (const block of this.blocks) x = block.forward(x, { causal: true });
    return this.head.forward(this.lnF.forward(x));
  }
}

// ---------------------------------------------------------------------------------------------------
// tfjs

type TfWeights = Map<string, tf.Variable>;

/** Names of being-ts's Linear weights (`[out, in]`), which tfjs stores transposed (`[in, out]`). */
function isLinearWeight(name: string, m: TinyGPT): boolean {
  return name.endsWith('.weight') && !name.startsWith('tokEmb') && !name.startsWith('posEmb') && m.stateDict()[name]!.ndim === 2;
}

/** tfjs variables holding a copy of being-ts's current weights, under the same names. */
function tfWeightsFrom(model: TinyGPT, prefix: string): TfWeights {
  const out: TfWeights = new Map();
  for (const [name, p] of model.namedParameters()) {
    const host = Float32Array.from(p.dataSync() as ArrayLike<number>);
    let t: tf.Tensor = tf.tensor(host, p.shape as number[], 'float32');
    if (isLinearWeight(name, model)) {
      const tt = tf.transpose(t);
      t.dispose();
      t = tt;
    }
    out.set(name, tf.variable(t, true, `${prefix}/${name}`));
    t.dispose();
  }
  return out;
}

/**
 * `table[ids]` with a gradient that tfjs's wasm backend can run: tfjs's own gradient of `gather` needs
 * the `UnsortedSegmentSum` kernel, which the wasm backend lacks, so the rows' gradients are summed into
 * the table's with `scatterND` (which adds up repeated indices) instead.
 */
const embeddingLookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [table, ids, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([ids]);
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(tf.expandDims(saved[0]!, 1), dy, table.shape), tf.zerosLike(ids)],
  };
}) as (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D;

/** The same forward pass in tfjs ops: int32 ids `[B, T]` → logits `[B·T, vocab]`. */
function tfForward(w: TfWeights, ids: tf.Tensor2D, causalBias: tf.Tensor2D): tf.Tensor2D {
  const [B, T] = ids.shape;
  const { dim: C, heads: H, layers } = CFG;
  const hd = C / H;
  const W = (n: string): tf.Variable => {
    const v = w.get(n);
    if (v === undefined) throw new Error(`tfjs model: no weight '${n}'`);
    return v;
  };
  const linear = (x: tf.Tensor2D, n: string, bias = true): tf.Tensor2D => {
    const y = tf.matMul(x, W(`${n}.weight`) as tf.Tensor2D) as tf.Tensor2D;
    return bias ? (tf.add(y, W(`${n}.bias`)) as tf.Tensor2D) : y;
  };
  const layerNorm = (x: tf.Tensor2D, n: string): tf.Tensor2D => {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const inv = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), CFG.lnEps));
    return tf.add(tf.mul(tf.mul(centred, inv), W(`${n}.weight`)), W(`${n}.bias`));
  };
  const gelu = (x: tf.Tensor2D): tf.Tensor2D => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as tf.Tensor2D;
  const heads = (x: tf.Tensor2D): tf.Tensor4D => tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]);

  const tok = tf.reshape(embeddingLookup(W('tokEmb.weight') as tf.Tensor2D, tf.reshape(ids, [-1]) as tf.Tensor1D), [B, T, C]);
  const pos = tf.slice(W('posEmb.weight'), [0, 0], [T, C]);
  let x = tf.reshape(tf.add(tok, pos), [B * T, C]) as tf.Tensor2D;
  for (let l = 0; l < layers; l++) {
    const p = `blocks.${l}`;
    const h = layerNorm(x, `${p}.norm1`);
    const q = heads(linear(h, `${p}.attn.qProj`));
    const k = heads(linear(h, `${p}.attn.kProj`));
    const v = heads(linear(h, `${p}.attn.vProj`));
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), causalBias);
    const o = tf.matMul(tf.softmax(scores), v); // [B, H, T, hd]
    const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D;
    x = tf.add(x, linear(merged, `${p}.attn.oProj`));
    const m = linear(gelu(linear(layerNorm(x, `${p}.norm2`), `${p}.mlp.fc1`)), `${p}.mlp.fc2`);
    x = tf.add(x, m);
  }
  return linear(layerNorm(x, 'lnF'), 'head', false);
}

/** Mean next-token cross-entropy of logits `[B·T, V]` against int32 targets `[B, T]`. */
function tfLoss(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const oneHot = tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, CFG.vocab);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1)));
}

/** `[T, T]` additive causal mask: 0 where key j ≤ query i, −1e9 elsewhere. */
function tfCausalBias(T: number): tf.Tensor2D {
  const host = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) host[i * T + j] = -1e9;
  return tf.tensor2d(host, [T, T]);
}

/** A tfjs model with AdamW state: `step` runs one training step and returns the loss. */
class TfTrainer {
  readonly weights: TfWeights;
  readonly #vars: tf.Variable[];
  readonly #opt: tf.AdamOptimizer;
  readonly #bias: tf.Tensor2D;

  constructor(model: TinyGPT, prefix: string) {
    this.weights = tfWeightsFrom(model, prefix);
    this.#vars = [...this.weights.values()];
    this.#opt = tf.train.adam(CFG.lr, CFG.betas[0], CFG.betas[1], CFG.eps);
    this.#bias = tfCausalBias(CFG.seq);
  }

  numParameters(): number {
    return this.#vars.reduce((n, v) => n + v.size, 0);
  }

  loss(ids: tf.Tensor2D, targets: tf.Tensor2D): number {
    return tf.tidy(() => tfLoss(tfForward(this.weights, ids, this.#bias), targets).dataSync()[0]!);
  }

  forward(ids: tf.Tensor2D): void {
    tf.tidy(() => {
      tfForward(this.weights, ids, this.#bias).dataSync();
    });
  }

  step(ids: tf.Tensor2D, targets: tf.Tensor2D): number {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tfLoss(tfForward(this.weights, ids, this.#bias), targets), this.#vars);
      // Decoupled weight decay before the Adam step, as torch.optim.AdamW.
      const keep = 1 - CFG.lr * CFG.weightDecay;
      for (const v of this.#vars) v.assign(tf.mul(v, keep));
      this.#opt.applyGradients(grads as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      return value.dataSync()[0]!;
    });
  }

  dispose(): void {
    this.#opt.dispose();
    this.#bias.dispose();
    for (const v of this.#vars) v.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------
// The run

interface Batch {
  ids: Int32Array; // [B, T]
  targets: Int32Array; // [B, T]: ids shifted by one
  B: number;
  T: number;
}

/** `B` random sequences of `T + 1` tokens, as inputs and next-token targets. */
function makeBatch(gen: Generator, B: number, T: number): Batch {
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const seq = Array.from({ length: T + 1 }, () => gen.integer(0, CFG.vocab));
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = seq[t]!;
      targets[b * T + t] = seq[t + 1]!;
    }
  }
  return { ids, targets, B, T };
}

async function useTfBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs: backend '${name}' failed to initialize`);
  await tf.ready();
}

interface Args {
  quick: boolean;
  tfjsCpu: boolean;
  /** being-ts's backend: the plain-TS `cpu` (default) or the WebAssembly SIMD `wasm`. */
  backend: 'cpu' | 'wasm';
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, tfjsCpu: false, backend: 'cpu' };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--tfjs-cpu') args.tfjsCpu = true;
    else if (a === '--backend=cpu' || a === '--backend=wasm') args.backend = a.slice('--backend='.length) as Args['backend'];
    else throw new Error(`unknown argument '${a}' (expected --quick, --tfjs-cpu or --backend=cpu|wasm)`);
  }
  return args;
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/**
 * Checks that the tfjs model is being-ts's: same count, same first loss from the same weights, and the
 * same losses over `steps` optimiser steps. Uses fresh copies so the timed models start from step 0.
 */
function checkEquivalence(backend: string, batch: Batch, steps: number): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  const model = new TinyGPT(new Generator('train-step-model'));
  const opt = new AdamW(model.parameters(), { lr: CFG.lr, betas: CFG.betas, eps: CFG.eps, weightDecay: CFG.weightDecay });
  const ids = tensor(batch.ids, { shape: [batch.B, batch.T], dtype: 'int32' });
  const targets = tensor(batch.targets, { shape: [batch.B, batch.T], dtype: 'int32' });
  const tr = new TfTrainer(model, `check-${backend}`);
  const tIds = tf.tensor2d(batch.ids, [batch.B, batch.T], 'int32');
  const tTargets = tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32');
  let ok = true;
  try {
    const l0 = noGrad(() => crossEntropy(model.forward(ids), targets).item());
    const t0 = tr.loss(tIds, tTargets);
    const d0 = relDiff(t0, l0);
    ok &&= d0 < 1e-3;
    lines.push(`initial loss: being-ts ${l0.toFixed(6)}, tfjs-${backend} ${t0.toFixed(6)} (rel. diff ${d0.toExponential(2)}; ln 256 = ${Math.log(256).toFixed(4)})`);
    const bs: number[] = [];
    const ts: number[] = [];
    for (let s = 0; s < steps; s++) {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(ids), targets);
      loss.backward();
      opt.step();
      bs.push(loss.item());
      ts.push(tr.step(tIds, tTargets));
    }
    const after = noGrad(() => crossEntropy(model.forward(ids), targets).item());
    const tAfter = tr.loss(tIds, tTargets);
    const dAfter = relDiff(tAfter, after);
    ok &&= dAfter < 1e-2;
    lines.push(
      `losses over ${steps} AdamW steps: being-ts ${[...bs, after].map((x) => x.toFixed(4)).join(' → ')}; ` +
        `tfjs-${backend} ${[...ts, tAfter].map((x) => x.toFixed(4)).join(' → ')} (final rel. diff ${dAfter.toExponential(2)})`,
    );
  } finally {
    tr.dispose();
    tIds.dispose();
    tTargets.dispose();
  }
  return { ok, lines };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { quick } = args;
  // Every being-ts tensor below lives on this backend; steps run inside scope() so that backends with
  // explicit memory (wasm) free each step's temporaries at once.
  setBackend(args.backend);
  tf.enableProdMode();
  await registerTfjsGradients();
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(join(wasmDir, '/'));
  await useTfBackend('wasm');
  const wasmFeatures = `SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, ${getThreadsCount()} thread(s)`;

  const { batch: B, seq: T, dim, layers, heads, vocab } = CFG;
  console.log(
    `Training step of a decoder-only transformer: d_model ${dim}, ${layers} layers, ${heads} heads, MLP ${CFG.mlpRatio}× GELU, ` +
      `vocab ${vocab}, seq ${T}, batch ${B}; AdamW`,
  );
  console.log(`Node ${process.version}, being-ts backend ${args.backend}, tfjs-core ${tf.version_core}, tfjs-wasm: ${wasmFeatures}${quick ? '; --quick' : ''}`);
  const started = performance.now();

  const data = makeBatch(new Generator('train-step-data'), B, T);
  const data1 = makeBatch(new Generator('train-step-data-1'), 1, T);

  // The timed being-ts model and its tfjs twin (same initial weights).
  const model = new TinyGPT(new Generator('train-step-model'));
  const nBeing = model.numParameters();
  const opt = new AdamW(model.parameters(), { lr: CFG.lr, betas: CFG.betas, eps: CFG.eps, weightDecay: CFG.weightDecay });
  const ids = tensor(data.ids, { shape: [B, T], dtype: 'int32' });
  const targets = tensor(data.targets, { shape: [B, T], dtype: 'int32' });
  const ids1 = tensor(data1.ids, { shape: [1, T], dtype: 'int32' });

  const backends: ('wasm' | 'cpu')[] = args.tfjsCpu ? ['wasm', 'cpu'] : ['wasm'];
  let allOk = true;
  let nTf = NaN;
  for (const be of backends) {
    await useTfBackend(be);
    const check = checkEquivalence(be, data, quick ? 2 : 3);
    allOk &&= check.ok;
    for (const l of check.lines) console.log(`  ${l}`);
  }

  const stepOpts: CaseOptions = quick ? { minSamples: 3, maxTime: 1 } : { minSamples: 10, maxTime: 8 };
  const cpuStepOpts: CaseOptions = { minSamples: quick ? 2 : 3, maxTime: 1 };
  const fwdOpts: CaseOptions = quick ? { minSamples: 10, maxTime: 1 } : { minSamples: 30, maxTime: 4 };

  const beingCases: BenchCase[] = [
    {
      name: 'being-ts step',
      options: stepOpts,
      fn: () =>
        scope(() => {
          opt.zeroGrad();
          const loss = crossEntropy(model.forward(ids), targets);
          loss.backward();
          opt.step();
        }),
    },
    {
      name: 'being-ts forward B=1',
      options: fwdOpts,
      fn: () => {
        scope(() => noGrad(() => model.forward(ids1)));
      },
    },
  ];

  const tfCases = (be: 'wasm' | 'cpu'): BenchCase[] => {
    let tr: TfTrainer | null = null;
    let tIds: tf.Tensor2D | null = null;
    let tTargets: tf.Tensor2D | null = null;
    let tIds1: tf.Tensor2D | null = null;
    const setup = async (): Promise<void> => {
      await useTfBackend(be);
      tr ??= new TfTrainer(new TinyGPT(new Generator('train-step-model')), `timed-${be}`);
      nTf = tr.numParameters();
      tIds ??= tf.tensor2d(data.ids, [B, T], 'int32');
      tTargets ??= tf.tensor2d(data.targets, [B, T], 'int32');
      tIds1 ??= tf.tensor2d(data1.ids, [1, T], 'int32');
    };
    return [
      {
        name: `tfjs-${be} step`,
        options: be === 'cpu' ? cpuStepOpts : stepOpts,
        setup,
        fn: () => {
          tr!.step(tIds!, tTargets!);
        },
      },
      {
        name: `tfjs-${be} forward B=1`,
        options: fwdOpts,
        setup,
        fn: () => {
          tr!.forward(tIds1!);
        },
        teardown: () => {
          tr?.dispose();
          for (const t of [tIds, tTargets, tIds1]) t?.dispose();
          tr = tIds = tTargets = tIds1 = null;
        },
      },
    ];
  };

  const results = await runSuite([...beingCases, ...backends.flatMap(tfCases)]);

  // Where being-ts's step goes: a few more steps of the timed model, timed by phase (untimed above).
  const phases = { forward: [] as number[], backward: [] as number[], optimizer: [] as number[] };
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    scope(() => {
      const t0 = performance.now();
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(ids), targets);
      const t1 = performance.now();
      loss.backward();
      const t2 = performance.now();
      opt.step();
      const t3 = performance.now();
      phases.forward.push(t1 - t0);
      phases.backward.push(t2 - t1);
      phases.optimizer.push(t3 - t2);
    });
  }
  const ms = (name: string): number => {
    const r: CaseResult | undefined = results.get(name);
    return r === undefined ? NaN : 1000 / r.medianHz;
  };
  const row = (label: string, suffix: string): string[] => [
    label,
    formatNumber(ms(`being-ts ${suffix}`), 3),
    formatNumber(ms(`tfjs-wasm ${suffix}`), 3),
    formatRatio(ms(`being-ts ${suffix}`), ms(`tfjs-wasm ${suffix}`)),
    ...(args.tfjsCpu ? [formatNumber(ms(`tfjs-cpu ${suffix}`), 3), formatRatio(ms(`being-ts ${suffix}`), ms(`tfjs-cpu ${suffix}`))] : []),
  ];
  console.log();
  console.log(`parameters: being-ts ${nBeing.toLocaleString('en-US')}, tfjs ${nTf.toLocaleString('en-US')}${nBeing === nTf ? '' : '  MISMATCH'}`);
  console.log(
    formatTable(
      [
        'median ms',
        'being-ts',
        'tfjs-wasm',
        'being-ts/tfjs-wasm',
        ...(args.tfjsCpu ? ['tfjs-cpu', 'being-ts/tfjs-cpu'] : []),
      ],
      [row(`train step (B=${B}, T=${T})`, 'step'), row(`forward no-grad (B=1, T=${T})`, 'forward B=1')],
    ),
  );
  const phaseText = Object.entries(phases)
    .map(([k, v]) => `${k} ${formatNumber(medianOf(v), 3)} ms`)
    .join(', ');
  console.log(`being-ts step by phase (median of ${phases.forward.length}): ${phaseText}`);
  console.log('reference (from the issue, this machine): PyTorch ≈ 75 ms/step on one core; tfjs wasm ≈ 1.9 s/step');
  if (!allOk || nBeing !== nTf) {
    console.log('WARNING: the two implementations do not agree (see the checks above); the comparison is not like for like');
    process.exitCode = 1;
  }
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
