/**
 * A training loop for the policy: the joint objective (`objective.ts`) over micro-batches with gradient
 * accumulation, AdamW with decoupled weight decay on matrices, a warm-up + cosine learning-rate schedule,
 * gradient clipping by global norm, a progress display, and a state that checkpoints and resumes exactly
 * (see `checkpoint.ts`).
 *
 * Exact resume: a step's random draws come from the run's seed and the step number alone (step s uses
 * the seed `${seed}:${s}`, and within it each sample's draws their own generators), the optimiser's
 * moments and step counts and the schedule's position are saved, and parameters are float tensors that
 * safetensors stores bit for bit. On the CPU backend, a run resumed from a checkpoint at step k therefore
 * reaches the same parameters, bit for bit, as one that never stopped.
 *
 * Backends: a step records its whole computation without reading anything back, runs inside `scope`
 * (so its temporaries are freed when it ends, on backends with explicit memory), and returns its numbers —
 * the loss, the terms and the gradient norm — from one read of a small vector at the end. {@link
 * PolicyTrainer.trainStep} reads it synchronously (cpu, wasm); {@link PolicyTrainer.trainStepAsync} awaits
 * it, which is how to train on asynchronous backends such as webgpu.
 * @module
 */
import { concat, noGrad, scope, type Tensor, type TypedArray } from '../../tensor/index.js';
import { AdamW, LRScheduler, clipGradNorm, warmupCosine, type LRSchedulerState, type OptimizerStateDict, type Schedule, type StateDict } from '../../nn/index.js';
import type { PolicyBatch } from './batch.js';
import { policyLoss } from './objective.js';
import type { BeingPolicy } from './policy.js';
import { ProgressDisplay, type ProgressOptions } from './progress.js';

/** Options of {@link PolicyTrainer}. */
export interface PolicyTrainerOptions {
  /** Peak learning rate (default 1e-4). */
  lr?: number;
  /** AdamW's decoupled weight decay on matrices (ndim ≥ 2, embeddings excepted; default 0.01). */
  weightDecay?: number;
  /** AdamW's (β₁, β₂) (default [0.9, 0.95]). */
  betas?: readonly [number, number];
  /** AdamW's ε (default 1e-8). */
  eps?: number;
  /** Linear warm-up steps (default 0). */
  warmupSteps?: number;
  /** The step where the cosine reaches its floor; omitted: the rate stays at its peak after warm-up. */
  totalSteps?: number;
  /** The cosine's floor as a fraction of the peak (default 0.1). */
  minLrRatio?: number;
  /** Clip the global gradient norm to this (default 1; null: no clipping). */
  clipNorm?: number | null;
  /** The run's seed (default 0); see the module notes. */
  seed?: number | string;
}

/** A step's loss terms as numbers, each a mean over the samples that have it (null when none has, or MoF is off). */
export interface TrainStepTerms {
  /** L_text (Eq. 5). */
  text: number | null;
  /** L_FM (Eq. 7 / 19). */
  flowMatching: number | null;
  /** L_MASK (Eq. 8). */
  maskedMotion: number | null;
  /** The MoF load-balancing loss. */
  aux: number | null;
  /** The MoF router z-loss. */
  z: number | null;
}

/** What one optimiser step did. */
export interface TrainStepResult {
  /** The step number after it (1 for the first). */
  step: number;
  /** The loss (summed over the micro-batches, each a share of the step's mean). */
  loss: number;
  /** The loss terms, each a mean over the samples that have it (null when none has). */
  terms: TrainStepTerms;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** The learning rate the step used. */
  lr: number;
  /** Samples in the step. */
  samples: number;
}

/** Everything a checkpoint holds for a trainer (see `checkpoint.ts`). */
export interface PolicyTrainerState {
  /** The policy's parameters. */
  model: StateDict;
  /** AdamW's state. */
  optimizer: OptimizerStateDict;
  /** The schedule's position. */
  scheduler: LRSchedulerState;
  /** Optimiser steps taken. */
  step: number;
  /** The run's seed. */
  seed: string;
}

/** A step recorded but not yet read: its scalars on the device and what they stand for. */
interface PendingStep {
  /** Per micro-batch the loss and its present terms, then the gradient norm, as one vector. */
  scalars: Tensor;
  /** Per micro-batch, the sample count of each term present (in the order of `scalars`). */
  layout: { terms: [keyof TrainStepTerms, number][] }[];
  /** The step number after it, the learning rate it used, and its samples. */
  step: number;
  lr: number;
  samples: number;
}

const TERM_KEYS: readonly (keyof TrainStepTerms)[] = ['text', 'flowMatching', 'maskedMotion', 'aux', 'z'];

/** Options of {@link PolicyTrainer.fit}. */
export interface FitOptions {
  /** Show progress (see {@link ProgressOptions}); omitted: silent. */
  progress?: ProgressOptions;
  /** Called after each step (e.g. to save a checkpoint every n steps). */
  onStep?: (result: TrainStepResult) => void;
}

/**
 * Trains a {@link BeingPolicy} (see the module notes). The optimiser holds every parameter, so freezing
 * (`freezePolicy`) may be applied or changed at any time: frozen parameters get no gradient and AdamW
 * leaves them alone.
 *
 * @example
 * const trainer = new PolicyTrainer(policy, { lr: 3e-4, warmupSteps: 100, totalSteps: 10_000 });
 * trainer.fit(10_000, (step) => [policy.batch(nextSamples()), policy.batch(nextSamples())], {
 *   progress: { write: (s) => process.stdout.write(s), isTTY: process.stdout.isTTY },
 * });
 */
export class PolicyTrainer {
  /** AdamW over every parameter: matrices decayed, vectors and embeddings not. */
  readonly optimizer: AdamW;
  /** The learning-rate schedule. */
  readonly scheduler: LRScheduler;
  /** The global-norm clip, or null. */
  readonly clipNorm: number | null;
  #step = 0;
  #seed: string;

  /** A trainer for `policy`. */
  constructor(
    /** The policy being trained. */
    readonly policy: BeingPolicy,
    opts: PolicyTrainerOptions = {},
  ) {
    const decay: Tensor[] = [];
    const rest: Tensor[] = [];
    for (const [name, p] of policy.namedParameters()) (p.ndim >= 2 && !/embedding/i.test(name) ? decay : rest).push(p);
    const wd = opts.weightDecay ?? 0.01;
    const defaults = { lr: opts.lr ?? 1e-4, betas: opts.betas ?? ([0.9, 0.95] as const), eps: opts.eps ?? 1e-8 };
    this.optimizer = new AdamW([{ params: decay, weightDecay: wd }, ...(rest.length ? [{ params: rest, weightDecay: 0 }] : [])], defaults);
    const warmup = opts.warmupSteps ?? 0;
    if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`PolicyTrainer: warmupSteps must be an integer ≥ 0, got ${warmup}`);
    const schedule: Schedule =
      opts.totalSteps !== undefined ? warmupCosine({ warmupSteps: warmup, totalSteps: opts.totalSteps, minLrRatio: opts.minLrRatio ?? 0.1 }) : (s, base) => (s < warmup ? (base * s) / warmup : base);
    this.scheduler = new LRScheduler(this.optimizer, schedule);
    this.clipNorm = opts.clipNorm === undefined ? 1 : opts.clipNorm;
    if (this.clipNorm !== null && !(this.clipNorm > 0)) throw new RangeError(`PolicyTrainer: clipNorm must be > 0 or null, got ${this.clipNorm}`);
    this.#seed = String(opts.seed ?? 0);
  }

  /** The run's seed (a loaded state brings its own). */
  get seed(): string {
    return this.#seed;
  }

  /** Optimiser steps taken. */
  get step(): number {
    return this.#step;
  }

  /** The seed of step `step` (0-based: the next step is `this.step`). */
  stepSeed(step: number = this.#step): string {
    return `${this.#seed}:${step}`;
  }

  /**
   * One optimiser step over `microBatches`, whose gradients are accumulated: the result equals one step on
   * all their samples together (the objective is a mean over samples; see `objective.ts`). Reads its
   * numbers synchronously: on asynchronous backends (webgpu) use {@link trainStepAsync}.
   */
  trainStep(microBatches: PolicyBatch | readonly PolicyBatch[]): TrainStepResult {
    const pending = this.#record(microBatches);
    try {
      return this.#result(pending, pending.scalars.dataSync());
    } finally {
      pending.scalars.dispose();
    }
  }

  /**
   * {@link trainStep} for every backend: the step is recorded without reading anything back, then its
   * numbers come from one awaited read at the end. Results are the same as `trainStep`'s.
   */
  async trainStepAsync(microBatches: PolicyBatch | readonly PolicyBatch[]): Promise<TrainStepResult> {
    const pending = this.#record(microBatches);
    try {
      return this.#result(pending, await pending.scalars.data());
    } finally {
      pending.scalars.dispose();
    }
  }

  /** Runs a step (losses, backward, clipping, AdamW, schedule) inside `scope`, keeping only its scalars. */
  #record(microBatches: PolicyBatch | readonly PolicyBatch[]): PendingStep {
    const list = Array.isArray(microBatches) ? (microBatches as readonly PolicyBatch[]) : [microBatches as PolicyBatch];
    if (list.length === 0) throw new RangeError('PolicyTrainer.trainStep: needs at least one micro-batch');
    const N = list.reduce((n, b) => n + b.size, 0);
    const seed = this.stepSeed();
    const lr = this.optimizer.paramGroups[0]!.lr;
    const dtype = this.policy.dtype;
    const layout: PendingStep['layout'] = [];
    const scalars = scope(() => {
      this.optimizer.zeroGrad();
      const parts: Tensor[] = [];
      let offset = 0;
      for (const batch of list) {
        const out = policyLoss(this.policy, batch, { seed, sampleOffset: offset, stepSamples: N });
        if (out.loss.requiresGrad) out.loss.backward(); // not when every parameter is frozen
        const counts = { text: out.counts.text, flowMatching: out.counts.flowMatching, maskedMotion: out.counts.maskedMotion, aux: batch.size, z: batch.size };
        const terms = TERM_KEYS.filter((k) => out.terms[k] !== null && counts[k] > 0);
        layout.push({ terms: terms.map((k) => [k, counts[k]]) });
        noGrad(() => parts.push(...[out.loss, ...terms.map((k) => out.terms[k]!)].map((t) => t.detach().reshape([1]).cast(dtype))));
        offset += batch.size;
      }
      const params = this.policy.parameters().filter((p) => p.requiresGrad);
      const gradNorm = clipGradNorm(params, this.clipNorm ?? Infinity);
      // Read in one go after the step: the norm is taken before the update changes anything.
      const all = noGrad(() => concat([...parts, gradNorm.reshape([1]).cast(dtype)], 0));
      this.optimizer.step();
      this.optimizer.zeroGrad();
      return all;
    });
    this.scheduler.step();
    this.#step++;
    return { scalars, layout, step: this.#step, lr, samples: N };
  }

  /** The step's result from the values of its scalars. */
  #result(p: PendingStep, v: TypedArray): TrainStepResult {
    let at = 0;
    let loss = 0;
    const sums: Record<keyof TrainStepTerms, [number, number]> = { text: [0, 0], flowMatching: [0, 0], maskedMotion: [0, 0], aux: [0, 0], z: [0, 0] };
    for (const mb of p.layout) {
      loss += v[at++]!;
      for (const [k, count] of mb.terms) {
        sums[k][0] += v[at++]! * count;
        sums[k][1] += count;
      }
    }
    const gradNorm = v[at]!;
    const mean = ([s, n]: [number, number]): number | null => (n > 0 ? s / n : null);
    const terms: TrainStepTerms = { text: mean(sums.text), flowMatching: mean(sums.flowMatching), maskedMotion: mean(sums.maskedMotion), aux: mean(sums.aux), z: mean(sums.z) };
    if (!this.policy.config.mof.enabled) [terms.aux, terms.z] = [null, null];
    return { step: p.step, loss, terms, gradNorm, lr: p.lr, samples: p.samples };
  }

  /**
   * Trains until `this.step` reaches `steps`, taking each step's micro-batches from `data(step)`, with an
   * optional progress display (steps/s, ETA, loss terms) and a per-step callback.
   */
  fit(steps: number, data: (step: number) => PolicyBatch | readonly PolicyBatch[], opts: FitOptions = {}): TrainStepResult[] {
    const run = this.#fitRun('fit', steps, opts);
    while (this.#step < steps) run.done(this.trainStep(data(this.#step)));
    return run.finish();
  }

  /** {@link fit} with {@link trainStepAsync}: for every backend, webgpu included. */
  async fitAsync(steps: number, data: (step: number) => PolicyBatch | readonly PolicyBatch[], opts: FitOptions = {}): Promise<TrainStepResult[]> {
    const run = this.#fitRun('fitAsync', steps, opts);
    while (this.#step < steps) run.done(await this.trainStepAsync(data(this.#step)));
    return run.finish();
  }

  /** The bookkeeping of a fit: the checked target, the results, the display and the callback. */
  #fitRun(fn: string, steps: number, opts: FitOptions): { done(r: TrainStepResult): void; finish(): TrainStepResult[] } {
    if (!Number.isInteger(steps) || steps < this.#step) throw new RangeError(`PolicyTrainer.${fn}: steps must be an integer ≥ the current step ${this.#step}, got ${steps}`);
    const results: TrainStepResult[] = [];
    const display = opts.progress && steps > this.#step ? new ProgressDisplay(steps, opts.progress, this.#step) : null;
    return {
      done: (r) => {
        results.push(r);
        const t = r.terms;
        display?.update(r.step, { loss: r.loss, text: t.text, fm: t.flowMatching, mask: t.maskedMotion, aux: t.aux, lr: r.lr });
        opts.onStep?.(r);
      },
      finish: () => {
        display?.finish();
        return results;
      },
    };
  }

  /** The trainer's state (live tensors; serialise it at once, see `checkpoint.ts`). */
  stateDict(): PolicyTrainerState {
    return { model: this.policy.stateDict(), optimizer: this.optimizer.stateDict(), scheduler: this.scheduler.stateDict(), step: this.#step, seed: this.seed };
  }

  /** Restores a state saved by {@link stateDict} (its seed included) into a trainer over a policy of the same shape. */
  loadStateDict(state: PolicyTrainerState): void {
    if (typeof state.seed !== 'string') throw new TypeError(`PolicyTrainer.loadStateDict: the state's seed must be a string, got ${typeof state.seed}`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`PolicyTrainer.loadStateDict: invalid step ${state.step}`);
    this.policy.loadStateDict(state.model);
    this.optimizer.loadStateDict(state.optimizer);
    this.scheduler.loadStateDict(state.scheduler);
    this.#step = state.step;
    this.#seed = state.seed;
  }
}
