/**
 * The joint training objective of Being-H0.5 over a batch of mixed task kinds (§5.2.2-5.2.3, §5.3):
 *
 *   Eq. 4: L = λ_text·L_text + λ_act·L_act,      Eq. 6: L_act = λ₁·L_FM + λ₂·L_MASK,
 *   Eq. 5: L_text = −Σ_{i∈Ω_text} log p_θ(y_i | S_{<i}),
 *   Eq. 7: L_FM = Σ_{i∈Ω_FM} ‖v_θ(x_t, t, c) − (a_i − x0)‖²,  x_t = (1 − t)·x0 + t·a,
 *   Eq. 8: L_MASK = −Σ_{i∈Ω_MASK} log p_θ(z_i | c),
 *
 * with the switches: UAC (Eq. 17-19: per target a delay d ~ π^(e), the prefix i < d clean at t = 1 and
 * without loss), ESA (Eq. 12, in the policy's IO layers), MPG (Eq. 13-15: the suffix features enhanced
 * with the ground-truth chunk as anchor), MoF (its routers' load-balancing and z-losses, weighted by
 * `mof.auxLossWeight` and `mof.zLossWeight`) and masked motion tokens (Eq. 8, ratio ρ).
 *
 * Scale: each sample's terms are means over its own index set (Ω_text tokens, postfix × active dims, the
 * masked tokens), and the batch loss is the mean over samples of `λ_text·L_text,b + λ_act·(λ₁·L_FM,b +
 * λ₂·L_MASK,b)` (the paper's sums, normalised per sample so the loss scale does not depend on chunk
 * length, embodiment width or delay). A sample only has the terms of its task. Being a mean over samples,
 * the loss of k micro-batches, each divided by the step's sample count, sums to that of the whole batch:
 * gradient accumulation is exact up to rounding (the MoF router losses, batch statistics, excepted).
 *
 * Randomness: every draw comes from a generator seeded with the step seed, the sample's index in the
 * step and the draw's purpose (`${seed}/${index}/noise`), so the draws do not depend on how a step is split
 * into micro-batches or on which switches are on, and a resumed run draws what the original would have.
 * @module
 */
import { Generator, noGrad, randn, stack, tensor, type Tensor } from '../../tensor/index.js';
import { crossEntropy } from '../../nn/index.js';
import { sampleTime } from '../flow.js';
import { DelayDistribution, uacInputs, uacLoss } from '../uac.js';
import { maskMotionTokens } from '../masked-motion.js';
import { randomDirections } from '../sliced-wasserstein.js';
import type { PolicyBatch } from './batch.js';
import type { BeingPolicy, PolicyOutput } from './policy.js';

/** Options of {@link policyLoss}. */
export interface PolicyLossOptions {
  /** The step's seed (default 0); see the module notes. */
  seed?: number | string;
  /** Index of the batch's first sample within the step (micro-batches after the first; default 0). */
  sampleOffset?: number;
  /** Samples in the whole step, the divisor of the mean (default: the batch's size). */
  stepSamples?: number;
}

/** The flow-matching details of a loss (for inspection and tests). */
export interface FlowMatchingDetails {
  /** d per target chunk (0 without UAC). */
  delays: number[];
  /** Bool `[Nt, T]`: the committed prefix i < d. */
  prefix: Tensor;
  /** Per-token times `[Nt, T]` (Eq. 18). */
  t: Tensor;
  /** The expert's input x_t `[Nt, T, D]`: the clean actions on the prefix. */
  xt: Tensor;
  /** The predicted velocities `[Nt, T, D]`. */
  velocity: Tensor;
  /** The targets a − x0 `[Nt, T, D]`. */
  target: Tensor;
  /** Each token's squared error summed over its active dims `[Nt, T]` (0 on the prefix). */
  perToken: Tensor;
}

/** The loss terms of a batch, each a mean over the samples that have it (null when none has); for display. */
export interface PolicyLossTerms {
  /** L_text (Eq. 5). */
  text: Tensor | null;
  /** L_FM (Eq. 7, or L_UAC of Eq. 19). */
  flowMatching: Tensor | null;
  /** L_MASK (Eq. 8). */
  maskedMotion: Tensor | null;
  /** The MoF routers' load-balancing loss (unweighted). */
  aux: Tensor;
  /** The MoF routers' z-loss (unweighted). */
  z: Tensor;
}

/** How many samples of a batch carry each term. */
export interface PolicyLossCounts {
  /** Samples with a text answer. */
  text: number;
  /** Target chunks (flow matching). */
  flowMatching: number;
  /** Motion-token chunks (MASK targets). */
  maskedMotion: number;
}

/** The MASK targets' input and Ω_MASK (Eq. 8). */
export interface MaskedMotionInputs {
  /** Int32 `[Nm, T_z]`: the motion tokens with [MASK] on Ω_MASK. */
  input: Tensor;
  /** Bool `[Nm, T_z]`: Ω_MASK. */
  mask: Tensor;
}

/** What {@link policyLoss} returns. */
export interface PolicyLoss {
  /** The scalar to minimise (see the module notes). */
  loss: Tensor;
  /** The terms, for display. */
  terms: PolicyLossTerms;
  /** How many samples carry each term. */
  counts: PolicyLossCounts;
  /** Flow-matching details, or null without target chunks. */
  flow: FlowMatchingDetails | null;
  /** The MASK targets' input and Ω_MASK, or null. */
  motion: MaskedMotionInputs | null;
  /** The forward pass. */
  output: PolicyOutput;
}

/** `per[r]` averaged into one value per sample: `[S]` from `[N]` values and the owner of each. */
function perSampleMean(values: Tensor, owners: Int32Array): { means: Tensor; samples: number[] } {
  const samples = [...new Set(owners)];
  const count = new Map<number, number>();
  for (const b of owners) count.set(b, (count.get(b) ?? 0) + 1);
  const A = new Float64Array(samples.length * owners.length);
  owners.forEach((b, n) => (A[samples.indexOf(b) * owners.length + n] = 1 / count.get(b)!));
  const avg = tensor(A, { shape: [samples.length, owners.length], dtype: values.dtype });
  return { means: avg.matmul(values.reshape([owners.length, 1])).reshape([samples.length]), samples };
}

/**
 * The joint objective (Eq. 4-8 with UAC, ESA, MPG, MoF and masked tokens as the config switches them) of
 * `policy` on `batch`; see the module notes for its scale and its random draws.
 *
 * @example
 * const { loss, terms } = policyLoss(policy, batch, { seed: `run-1:${step}` });
 * loss.backward();
 */
export function policyLoss(policy: BeingPolicy, batch: PolicyBatch, opts: PolicyLossOptions = {}): PolicyLoss {
  const cfg = policy.config;
  const seed = String(opts.seed ?? 0);
  const offset = opts.sampleOffset ?? 0;
  const N = opts.stepSamples ?? batch.size;
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`policyLoss: sampleOffset must be an integer ≥ 0, got ${offset}`);
  if (!Number.isInteger(N) || N < batch.size) throw new RangeError(`policyLoss: stepSamples must be an integer ≥ the batch size ${batch.size}, got ${N}`);
  const rng = (b: number, purpose: string): Generator => new Generator(`${seed}/${offset + b}/${purpose}`);
  const dtype = policy.dtype;
  const w = cfg.loss;
  const inputs: Parameters<BeingPolicy['forward']>[1] = {};

  // Flow-matching targets with UAC (Eq. 7, 17-18).
  let fm: Omit<FlowMatchingDetails, 'velocity' | 'perToken'> | null = null;
  if (batch.targets !== null) {
    const T = cfg.flow.chunkLength;
    const D = cfg.unifiedDim;
    const owners = Array.from(batch.targetOwner);
    const delays = owners.map((b, j) => {
      if (!cfg.uac.enabled) return 0;
      const timing = batch.targetTiming[j];
      const pi = timing ? DelayDistribution.forEmbodiment({ ...timing, chunkLength: T }, cfg.uac.delayWeighting) : new DelayDistribution(cfg.uac.maxDelay, cfg.uac.delayWeighting);
      return Math.min(pi.sample(rng(b, 'delay')), T - 1);
    });
    const tBase = stack(owners.map((b) => sampleTime([], { sampling: cfg.flow.timeSampling, generator: rng(b, 'time'), dtype })));
    const noise = stack(owners.map((b) => randn([T, D], { generator: rng(b, 'noise'), dtype })));
    const u = uacInputs(batch.targets, noise, delays, tBase);
    fm = { delays, prefix: u.prefix, t: u.t, xt: u.xt, target: u.target };
    Object.assign(inputs, { xt: u.xt, t: u.t });
    if (policy.mpg) {
      // Eq. 13-15 in training: the anchor is the ground-truth chunk encoded noise-free (t = 1).
      const embs = owners.map((b) => batch.embodiments[b]!);
      Object.assign(inputs, {
        anchor: noGrad(() => policy.encodeActions(batch.targets!, 1, embs)),
        directions: randomDirections(policy.mpg.numDirections, policy.mpg.embedDim, { generator: new Generator(`${seed}/directions`), dtype }),
      });
    }
  }
  // Ω_MASK (Eq. 8): a fixed fraction ρ of each chunk's motion tokens replaced by [MASK].
  let motionMask: Tensor | null = null;
  if (batch.motion !== null && policy.motionHead !== null) {
    const rows = Array.from(batch.motionOwner, (b, m) =>
      maskMotionTokens(batch.motion!.narrow(0, m, 1), { ratio: cfg.maskedMotion.maskRatio, maskId: policy.motionHead!.maskId, generator: rng(b, 'mask') }),
    );
    inputs.motion = stack(rows.map((r) => r.input.reshape([-1])));
    motionMask = stack(rows.map((r) => r.mask.reshape([-1])));
  }

  const output = policy.forward(batch, inputs);
  const parts: Tensor[] = [];
  const zero = tensor(0, { dtype });

  let text: Tensor | null = null;
  if (batch.textTargets.length > 0) {
    const ce = crossEntropy(policy.textLogits(batch, output), tensor(batch.textTargets, { dtype: 'int32' }), { reduction: 'none' });
    const { means } = perSampleMean(ce, batch.textOwner);
    text = means.mean();
    parts.push(means.sum().mul(w.text));
  }
  let flow: FlowMatchingDetails | null = null;
  let flowTerm: Tensor | null = null;
  if (fm !== null) {
    const velocity = policy.velocity(batch, output);
    const owners = Array.from(batch.targetOwner);
    const mask = stack(owners.map((b) => batch.embodiments[b]!.activeMaskTensor()));
    const perElement = uacLoss(velocity, fm, { mask, reduction: 'none' }); // Eq. 19: zero on the prefix
    const perToken = perElement.sum(-1);
    const T = cfg.flow.chunkLength;
    const count = owners.map((b, j) => (T - fm!.delays[j]!) * batch.embodiments[b]!.activeIndices.length);
    const perChunk = perToken.sum(-1).div(tensor(Float64Array.from(count), { dtype }));
    flowTerm = perChunk.mean();
    parts.push(perChunk.sum().mul(w.action * w.flowMatching));
    flow = { ...fm, velocity, perToken };
  }
  let maskTerm: Tensor | null = null;
  if (motionMask !== null) {
    const ce = crossEntropy(policy.motionLogits(batch, output), batch.motion!, { mask: motionMask, reduction: 'none' });
    const counts = motionMask.cast(dtype).sum(-1);
    const perChunk = ce.sum(-1).div(counts);
    maskTerm = perChunk.mean();
    parts.push(perChunk.sum().mul(w.action * w.maskedMotion));
  }
  let loss = parts.length === 0 ? zero : parts.reduce((x, y) => x.add(y)).div(N);
  const share = batch.size / N;
  if (cfg.mof.enabled && output.routing.length > 0) {
    loss = loss.add(output.auxLoss.mul(cfg.mof.auxLossWeight * share)).add(output.zLoss.mul(cfg.mof.zLossWeight * share));
  }
  return {
    loss,
    terms: { text, flowMatching: flowTerm, maskedMotion: maskTerm, aux: output.auxLoss, z: output.zLoss },
    counts: { text: new Set(batch.textOwner).size, flowMatching: batch.targetOwner.length, maskedMotion: batch.motionOwner.length },
    flow,
    motion: motionMask === null ? null : { input: inputs.motion!, mask: motionMask },
    output,
  };
}
