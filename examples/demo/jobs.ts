/**
 * The demo's units of work, each self-contained so that it can run in a worker thread: a job names its
 * data by world seeds (the worker re-records the demonstrations, which is deterministic and cheap) and
 * carries checkpoints as bytes.
 *
 * - `train`: pre-train from scratch, or adapt a checkpoint (ESA: only the slot adapters and the action
 *   expert learn; the understanding expert, the projector and the ViT are frozen — Table 6's `und+proj+vit`).
 *   With masked motion tokens on, a motion tokenizer (Eq. 8's pretrained tokenizer) is first fitted to the
 *   demonstrations' chunks, and every other sample is a hybrid FM + MASK sample (Eq. 9's sequence).
 * - `evaluate`: closed-loop episodes in the world with `sampleActions`, optionally under latency
 *   (UAC's prefix locking, Eq. 23, and MPG's refinement, Eq. 21, on or off) and observation noise; the
 *   smoothness reported is the step-to-step jump of the commanded end-effector position, in metres.
 * - `mwds`: Table 8's MWDS of predicted chunks against held-out demonstrations.
 * @module
 */
import { AdamW, clipGradNorm } from '../../src/nn/index.js';
import { Generator, scope, stack, type Tensor } from '../../src/tensor/index.js';
import {
  BeingPolicy,
  MotionTokenizer,
  PolicyTrainer,
  PRESETS,
  UNIFIED_LAYOUT,
  freezePolicy,
  meanWristDisplacementSimilarity,
  policyConfig,
  policyFromCheckpoint,
  sampleActions,
  serializePolicyCheckpoint,
  type ActionTaskSample,
  type PolicyConfigOverrides,
} from '../../src/model/index.js';
import { TabletopWorld, demonstrationSamples, rolloutPolicy, type ChunkPolicy, type SceneSnapshot, type SimEmbodimentName } from '../../src/robot/index.js';
import { balancedBatch, demonstrations, samplePools, type SamplePools } from './data.js';
import { taskOf } from './plan.js';

/** Pre-train or adapt a policy. */
export interface TrainJob {
  /** Discriminator. */
  readonly kind: 'train';
  /** A label for progress lines. */
  readonly label: string;
  /** Demonstration world seeds per embodiment. */
  readonly data: readonly (readonly [SimEmbodimentName, readonly number[]])[];
  /** Optimiser steps. */
  readonly steps: number;
  /** Samples per step. */
  readonly batchSize: number;
  /** Every `stride`-th frame starts a sample. */
  readonly stride: number;
  /** Initialisation and data-order seed. */
  readonly seed: number;
  /** Peak learning rate. */
  readonly lr: number;
  /** Config changes from the `tiny` preset (pre-training only). */
  readonly overrides?: PolicyConfigOverrides;
  /** Adapt this checkpoint instead of starting from scratch. */
  readonly init?: Uint8Array;
}

/** Closed-loop episodes. */
export interface EvaluateJob {
  /** Discriminator. */
  readonly kind: 'evaluate';
  /** A label for progress lines. */
  readonly label: string;
  /** The policy. */
  readonly checkpoint: Uint8Array;
  /** The robot. */
  readonly embodiment: SimEmbodimentName;
  /** One episode per world seed (task kinds alternate). */
  readonly seeds: readonly number[];
  /** Actions executed from each chunk before the next inference. */
  readonly executeSteps: number;
  /** Inference latency in control steps (0: synchronous). */
  readonly latencySteps: number;
  /** Std of the noise added to the state the policy sees. */
  readonly observationNoise: number;
  /** Lock the committed prefix (UAC, Eq. 23) and refine with MPG (Eq. 21); false: neither. */
  readonly uacMpg: boolean;
  /** Keep the first episode's trace (for a rollout picture). */
  readonly keepTrace?: boolean;
}

/** MWDS on held-out demonstrations. */
export interface MwdsJob {
  /** Discriminator. */
  readonly kind: 'mwds';
  /** A label for progress lines. */
  readonly label: string;
  /** The policy. */
  readonly checkpoint: Uint8Array;
  /** The robot. */
  readonly embodiment: SimEmbodimentName;
  /** Held-out demonstration seeds. */
  readonly seeds: readonly number[];
  /** Every `stride`-th frame is scored. */
  readonly stride: number;
}

/** Any job. */
export type Job = TrainJob | EvaluateJob | MwdsJob;

/** A point of a loss curve. */
export interface CurvePoint {
  /** Optimiser step. */
  readonly step: number;
  /** The total loss. */
  readonly loss: number;
  /** L_FM (Eq. 7). */
  readonly flowMatching: number | null;
  /** L_MASK (Eq. 8). */
  readonly maskedMotion: number | null;
}

/** What a train job gives back. */
export interface TrainResult {
  /** Discriminator. */
  readonly kind: 'train';
  /** The trained policy. */
  readonly checkpoint: Uint8Array;
  /** The loss every few steps. */
  readonly curve: readonly CurvePoint[];
  /** Training samples available per embodiment. */
  readonly samples: Readonly<Record<string, number>>;
  /** Expert demonstrations that failed and were dropped. */
  readonly droppedDemos: number;
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/** What an evaluate job gives back. */
export interface EvaluateResult {
  /** Discriminator. */
  readonly kind: 'evaluate';
  /** Successful episodes. */
  readonly successes: number;
  /** Episodes run. */
  readonly episodes: number;
  /** Mean over episodes of the mean step-to-step jump of the commanded EEF position (metres; `positionJumps`, Fig. 13). */
  readonly meanPositionJump: number;
  /** The largest step-to-step jump of the commanded EEF position in any episode (metres). */
  readonly maxPositionJump: number;
  /** The first episode's scene trace, when asked for. */
  readonly trace?: readonly SceneSnapshot[];
  /** The first episode's instruction. */
  readonly instruction: string;
  /** Whether the first episode succeeded. */
  readonly firstSuccess: boolean;
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/** What an MWDS job gives back. */
export interface MwdsResult {
  /** Discriminator. */
  readonly kind: 'mwds';
  /** Table 8's MWDS over the scored frames. */
  readonly mwds: number;
  /** Frames scored. */
  readonly frames: number;
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/** Any job's result. */
export type JobResult = TrainResult | EvaluateResult | MwdsResult;

/** Progress of a running job: `done` of `total` units, with an optional loss. */
export type ProgressFn = (done: number, total: number, loss?: number) => void;

/** The demo's policy config: the `tiny` preset with `overrides`. */
export function demoConfig(overrides: PolicyConfigOverrides = {}) {
  return policyConfig(PRESETS.tiny, overrides);
}

/** Fits Eq. 8's motion tokenizer to the pools' target chunks (AdamW on its reconstruction + VQ loss). */
export function fitMotionTokenizer(policy: BeingPolicy, pools: SamplePools, seed: number, steps = 150): MotionTokenizer {
  const { maskedMotion: mm, flow, unifiedDim } = policy.config;
  const g = new Generator(`tokenizer-${seed}`);
  const tok = new MotionTokenizer({ chunkLength: flow.chunkLength, actionDim: unifiedDim, numTokens: mm.numTokens, numCodes: mm.numCodes, codeDim: mm.codeDim, hidden: mm.tokenizerHidden, generator: g });
  const opt = new AdamW(tok.parameters(), { lr: 2e-3, weightDecay: 0 });
  for (let i = 0; i < steps; i++) {
    scope(() => {
      const batch = balancedBatch(pools, 32, g);
      const chunks = stack(batch.map((s) => s.actions as Tensor));
      opt.zeroGrad();
      tok.forward(chunks).loss.backward();
      clipGradNorm(tok.parameters(), 1);
      opt.step();
    });
  }
  return tok;
}

function runTrain(job: TrainJob, progress: ProgressFn): TrainResult {
  const t0 = performance.now();
  const policy = job.init ? policyFromCheckpoint(job.init) : new BeingPolicy(demoConfig(job.overrides), { seed: job.seed });
  if (job.init) freezePolicy(policy, 'und+proj+vit');
  const demos = new Map<SimEmbodimentName, ReturnType<typeof demonstrations>['kept']>();
  let dropped = 0;
  for (const [e, seeds] of job.data) {
    const { kept, failed } = demonstrations(e, seeds);
    demos.set(e, kept);
    dropped += failed;
  }
  const pools = samplePools(demos, policy.config.flow.chunkLength, job.stride);
  const tokenizer = policy.config.maskedMotion.enabled ? fitMotionTokenizer(policy, pools, job.seed) : undefined;
  const trainer = new PolicyTrainer(policy, { lr: job.lr, warmupSteps: Math.min(50, Math.floor(job.steps / 10)), totalSteps: job.steps, seed: job.seed });
  const g = new Generator(`batches-${job.seed}`);
  const curve: CurvePoint[] = [];
  const every = Math.max(1, Math.floor(job.steps / 100));
  for (let step = 0; step < job.steps; step++) {
    scope(() => {
      const picked = balancedBatch(pools, job.batchSize, g);
      // Every other sample is hybrid (FM + masked motion tokens, Eq. 9) when masked motion is on.
      const samples: ActionTaskSample[] = tokenizer ? picked.map((s, i) => (i % 2 === 1 ? { ...s, task: 'hybrid' } : s)) : picked;
      const r = trainer.trainStep(policy.batch(samples, tokenizer ? { motionTokenizer: tokenizer } : {}));
      if (step % every === 0 || step === job.steps - 1) {
        curve.push({ step: r.step, loss: r.loss, flowMatching: r.terms.flowMatching, maskedMotion: r.terms.maskedMotion });
        progress(step + 1, job.steps, r.loss);
      }
    });
  }
  const samples = Object.fromEntries([...pools].map(([e, p]) => [e, p.length]));
  return { kind: 'train', checkpoint: serializePolicyCheckpoint(policy), curve, samples, droppedDemos: dropped, seconds: (performance.now() - t0) / 1000 };
}

/**
 * A {@link ChunkPolicy} sampling the policy for one embodiment (UAC prefix locking and MPG on or off). The
 * policy was trained on delta end-effector actions (`demonstrationSamples`, §5.1.1), and `rolloutPolicy`
 * speaks the same form: the committed prefix arrives as deltas from the request's state and the sampled
 * unified chunk goes back as deltas, which `rolloutPolicy` makes absolute. No conversion happens here.
 */
export function chunkPolicyOf(policy: BeingPolicy, world: TabletopWorld, uacMpg: boolean, generator: Generator): ChunkPolicy {
  const embodiment = world.robot.embodiment;
  const trainedMaxDelay = policy.config.uac.enabled ? policy.config.uac.maxDelay - 1 : 0;
  return (obs, ctx) =>
    scope(() => {
      const locked = uacMpg && ctx.delay > 0;
      if (locked && ctx.delay > trainedMaxDelay) throw new RangeError(`chunkPolicyOf: latency ${ctx.delay} is past the trained delay range [0, ${trainedMaxDelay}]`);
      const out = sampleActions(
        policy,
        { embodiment, images: obs.images, instruction: obs.instruction, state: obs.state },
        { generator, refine: uacMpg ? undefined : 0, ...(locked ? { committedPrefix: ctx.committedPrefix, delay: ctx.delay } : {}) },
      );
      const [T, D] = out.unified.shape as [number, number];
      const flat = out.unified.dataSync();
      return Array.from({ length: T }, (_, i) => Float64Array.from(flat.subarray(i * D, (i + 1) * D)));
    });
}

function runEvaluate(job: EvaluateJob, progress: ProgressFn): EvaluateResult {
  const t0 = performance.now();
  const policy = policyFromCheckpoint(job.checkpoint);
  let successes = 0;
  let jumpSum = 0;
  let maxPositionJump = 0;
  let trace: readonly SceneSnapshot[] | undefined;
  let instruction = '';
  let firstSuccess = false;
  job.seeds.forEach((seed, i) => {
    const world = new TabletopWorld({ embodiment: job.embodiment, seed, task: taskOf(i), imageSize: policy.config.vision.imageSize as 32 | 64 });
    const g = new Generator(`episode-${seed}`);
    const r = rolloutPolicy(world, chunkPolicyOf(policy, world, job.uacMpg, g), {
      executeSteps: job.executeSteps,
      latencySteps: job.latencySteps,
      observationNoise: job.observationNoise,
      rng: new Generator(`noise-${seed}`),
    });
    if (r.success) successes++;
    jumpSum += r.positionJumps.mean;
    maxPositionJump = Math.max(maxPositionJump, r.positionJumps.max);
    if (i === 0) {
      instruction = world.task.instruction;
      firstSuccess = r.success;
      if (job.keepTrace) trace = r.trace;
    }
    progress(i + 1, job.seeds.length);
  });
  const n = job.seeds.length;
  return { kind: 'evaluate', successes, episodes: n, meanPositionJump: jumpSum / n, maxPositionJump, ...(trace ? { trace } : {}), instruction, firstSuccess, seconds: (performance.now() - t0) / 1000 };
}

function runMwds(job: MwdsJob, progress: ProgressFn): MwdsResult {
  const t0 = performance.now();
  const policy = policyFromCheckpoint(job.checkpoint);
  const { kept } = demonstrations(job.embodiment, job.seeds);
  const T = policy.config.flow.chunkLength;
  const samples = kept.flatMap((d) => demonstrationSamples(d, { chunkLength: T, stride: job.stride }));
  if (samples.length === 0) throw new RangeError(`mwds: no held-out frames for '${job.embodiment}'`);
  const g = new Generator(`mwds-${job.label}`);
  const wrist = UNIFIED_LAYOUT.slot('right_eef_pos');
  let sum = 0;
  samples.forEach((s, i) => {
    // Table 8's mean over samples, one sample at a time (B = 1) to keep memory flat. Both chunks hold
    // position deltas from one state (the sample's), so their first-to-last displacement is the absolute one.
    sum += scope(() => {
      const pred = sampleActions(policy, s, { generator: g, refine: 0 }).unified.cast('float64').unsqueeze(0);
      const truth = (s.actions as Tensor).cast('float64').unsqueeze(0);
      return meanWristDisplacementSimilarity(pred, truth, { indices: wrist }).item();
    });
    progress(i + 1, samples.length);
  });
  const mwds = sum / samples.length;
  return { kind: 'mwds', mwds, frames: samples.length, seconds: (performance.now() - t0) / 1000 };
}

/** Runs a job. */
export function runJob(job: Job, progress: ProgressFn = () => {}): JobResult {
  switch (job.kind) {
    case 'train':
      return runTrain(job, progress);
    case 'evaluate':
      return runEvaluate(job, progress);
    case 'mwds':
      return runMwds(job, progress);
  }
}
