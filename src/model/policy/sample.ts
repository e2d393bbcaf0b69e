/**
 * Action inference (§6.1-6.2): rectified-flow denoising with a cached vision-language prefix, hard prefix
 * locking of the committed actions, and MPG's two-stage refinement.
 *
 * - Eq. 20: `a^(k+1) = a^(k) + Δt·v_θ(a^(k), t^(k) | H)`, Δt = 1/K, t^(k) = k/K, from a^(0) ~ N(0, I).
 *   "During denoising, only the action-token embeddings evolve with a^(k), so the vision-language prefix
 *   can be cached": the prefix (everything before `<state_begin>`) runs once into a KV cache, which is
 *   then frozen, and each of the K steps runs only the suffix — the state and action segments — against it.
 * - Eq. 23, hard prefix locking: `a_i^(k) ← B_i for i < d`, for every k ∈ {0, …, K}: the committed actions
 *   are written into the state before and after every step, and the field sees them at t = 1 as UAC
 *   trained it to (Eq. 18), so the output's prefix is the committed prefix bit for bit.
 * - Eq. 21, two-stage refinement: stage 1 denoises without MPG (H̃ = H) to a^(0)_pred; each of N_ref rounds
 *   then anchors MPG on `Z̄^(n−1) = MeanPool(Enc(a^(n−1)_pred, σ = 0))` (the previous prediction encoded
 *   noise-free, t = 1) and denoises again with MPG inside every Euler step. Every round starts from the
 *   same noise a^(0), so the rounds differ only through the gate.
 *
 * Backends: the whole chunk is recorded without reading anything back, inside `scope` (the KV cache and
 * every temporary are freed when it ends, on backends with explicit memory; the returned tensors are the
 * caller's to dispose). Only MPG's gates come back as numbers, from one read at the end: {@link
 * sampleActions} reads synchronously (cpu, wasm), {@link sampleActionsAsync} awaits (every backend,
 * webgpu included).
 * @module
 */
import { Generator, Tensor, concat, formatShape, noGrad, randn, scope, tensor, where, zeros, type TypedArray } from '../../tensor/index.js';
import { KVCache } from '../../nn/index.js';
import { eulerSample, type EulerOptions } from '../flow.js';
import { lockPrefix } from '../uac.js';
import { randomDirections } from '../sliced-wasserstein.js';
import type { Observation, UnifiedChunk } from './samples.js';
import type { BeingPolicy } from './policy.js';

/** Options of {@link sampleActions}. */
export interface SampleActionsOptions {
  /** K, Euler steps (default `flow.steps`). */
  steps?: number;
  /**
   * The execution buffer B of Eq. 23: at least d committed actions `[≥ d, D]` in the unified space, or
   * (a tensor or rows) `[≥ d, rawDim]` in the embodiment's raw units; the first d are locked. Unified
   * values outside the embodiment's active dims are ignored (the output is zero there).
   */
  committedPrefix?: UnifiedChunk;
  /** d, the number of locked actions (default: the rows of `committedPrefix`, else 0); d < T. */
  delay?: number;
  /** N_ref, MPG refinement rounds (Eq. 21; default `mpg.refineRounds` with MPG, else 0). */
  refine?: number;
  /** Run the prefix once into a KV cache (default true); false recomputes the whole sequence at every step. */
  cache?: boolean;
  /** The source of the noise and of MPG's directions (default: a generator seeded 0). */
  generator?: Generator;
  /** a^(0) `[T, D]` (default: N(0, I) from the generator). */
  noise?: Tensor;
}

/** What {@link sampleActions} returns. */
export interface SampledActions {
  /** The chunk in the unified space `[T, D]`, zero outside the embodiment's active dims. */
  unified: Tensor;
  /** The chunk in the embodiment's raw units `[T, rawDim]` (Φ_e⁻¹, Eq. 1). */
  raw: Tensor;
  /** d, the locked prefix length. */
  delay: number;
  /** Each round's chunk `[T, D]`: the stage-1 prediction, then one per refinement round (Eq. 21). */
  rounds: Tensor[];
  /** MPG's gate g at each Euler step of each refinement round (Eq. 15). */
  gates: number[][];
}

/** A chunk recorded but not yet read: its tensors, and MPG's gates as one vector, or null. */
interface PendingChunk {
  out: Omit<SampledActions, 'gates'>;
  gates: Tensor | null;
  /** How many of the gates each refinement round holds. */
  perRound: number[];
}

/** The committed chunk `[T, D]` (zeros past d) from the buffer, in unified or raw units. */
function committedChunk(policy: BeingPolicy, obs: Observation, buffer: UnifiedChunk, d: number): Tensor {
  const { unifiedDim: D, flow } = policy.config;
  const T = flow.chunkLength;
  const e = obs.embodiment;
  let t: Tensor;
  if (buffer instanceof Tensor) t = buffer;
  else if (Array.isArray(buffer) && buffer.length > 0 && typeof buffer[0] === 'object') {
    const rows = buffer as readonly ArrayLike<number>[];
    t = tensor(Float64Array.from(rows.flatMap((r) => Array.from(r))), { shape: [rows.length, rows[0]!.length], dtype: policy.dtype });
  } else {
    // Flat numbers are unified rows, as everywhere a `UnifiedChunk` is taken.
    const flat = buffer as ArrayLike<number>;
    if (flat.length % D !== 0) throw new RangeError(`sampleActions: a flat committedPrefix holds ${flat.length} numbers, not whole unified rows of ${D}`);
    t = tensor(Float64Array.from(flat), { shape: [flat.length / D, D], dtype: policy.dtype });
  }
  if (t.ndim !== 2 || (t.shape[1] !== D && t.shape[1] !== e.rawDim) || t.shape[0]! < d) {
    throw new RangeError(`sampleActions: committedPrefix must be [≥ ${d}, ${D}] (unified) or [≥ ${d}, ${e.rawDim}] (raw ${e.name}), got ${formatShape(t.shape)}`);
  }
  let unified = (t.shape[1] === D ? t : e.toUnified(t.cast(policy.dtype))).narrow(0, 0, d).cast(policy.dtype);
  if (d < T) unified = concat([unified, zeros([T - d, D], { dtype: policy.dtype })], 0);
  return unified;
}

/**
 * Samples an action chunk for one observation (see the module notes): Eq. 20 with K steps, the first d
 * actions locked to the committed prefix (Eq. 23), and N_ref MPG refinement rounds (Eq. 21). Runs
 * without recording gradients. Reads MPG's gates synchronously: on asynchronous backends (webgpu) use
 * {@link sampleActionsAsync}.
 *
 * @example
 * const { raw } = sampleActions(policy, { embodiment: so101, images: [img], instruction: 'pick', state });
 * const next = sampleActions(policy, obs, { committedPrefix: buffer, delay: 3 }); // next.raw[0..2] = buffer[0..2]
 */
export function sampleActions(policy: BeingPolicy, observation: Observation, opts: SampleActionsOptions = {}): SampledActions {
  const pending = recordChunk(policy, observation, opts);
  try {
    return withGates(pending, pending.gates?.dataSync() ?? null);
  } finally {
    pending.gates?.dispose();
  }
}

/**
 * {@link sampleActions} for every backend: the chunk is recorded without reading anything back, then
 * MPG's gates come from one awaited read. The result is the same as `sampleActions`'s.
 *
 * @example
 * setBackend('webgpu');
 * const { raw } = await sampleActionsAsync(policy, observation);
 * const actions = await raw.data();
 */
export async function sampleActionsAsync(policy: BeingPolicy, observation: Observation, opts: SampleActionsOptions = {}): Promise<SampledActions> {
  const pending = recordChunk(policy, observation, opts);
  try {
    return withGates(pending, pending.gates === null ? null : await pending.gates.data());
  } finally {
    pending.gates?.dispose();
  }
}

/** The result with the gates' values laid out per round. */
function withGates(p: PendingChunk, values: TypedArray | null): SampledActions {
  let at = 0;
  const gates = p.perRound.map((n) => Array.from(values!.subarray(at, (at += n))));
  return { ...p.out, gates };
}

/** Checks the options and records the whole chunk inside `scope`, keeping the outputs and the gates. */
function recordChunk(policy: BeingPolicy, observation: Observation, opts: SampleActionsOptions): PendingChunk {
  const fn = 'sampleActions';
  const cfg = policy.config;
  const T = cfg.flow.chunkLength;
  const D = cfg.unifiedDim;
  const K = opts.steps ?? cfg.flow.steps;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`${fn}: steps must be an integer ≥ 1, got ${K}`);
  const rounds = opts.refine ?? (policy.mpg ? cfg.mpg.refineRounds : 0);
  if (!Number.isInteger(rounds) || rounds < 0) throw new RangeError(`${fn}: refine must be an integer ≥ 0, got ${rounds}`);
  if (rounds > 0 && policy.mpg === null) throw new RangeError(`${fn}: refine = ${rounds} needs MPG, but config.mpg.enabled is false`);
  const buffer = opts.committedPrefix;
  const d = opts.delay ?? (buffer === undefined ? 0 : buffer instanceof Tensor ? buffer.shape[0]! : Array.isArray(buffer) && typeof buffer[0] === 'object' ? buffer.length : (buffer as ArrayLike<number>).length / D);
  if (!Number.isInteger(d) || d < 0 || d >= T) throw new RangeError(`${fn}: delay must be an integer in [0, ${T - 1}] (chunk length ${T}), got ${d}`);
  if (d > 0 && buffer === undefined) throw new RangeError(`${fn}: delay ${d} needs a committedPrefix to lock`);
  const generator = opts.generator ?? new Generator(0);

  return scope(() => noGrad(() => {
    const batch = policy.observations([observation]);
    const emb = observation.embodiment;
    if (opts.noise !== undefined && opts.noise.size !== T * D) throw new RangeError(`${fn}: noise must be [${T}, ${D}], got ${formatShape(opts.noise.shape)}`);
    const x0 = opts.noise === undefined ? randn([1, T, D], { generator, dtype: policy.dtype }) : opts.noise.reshape([1, T, D]).cast(policy.dtype);
    const directions = policy.mpg ? randomDirections(policy.mpg.numDirections, policy.mpg.embedDim, { generator, dtype: policy.dtype }) : undefined;

    // The vision-language prefix, once (Eq. 20's cache); the suffix starts at <state_begin>.
    const P = batch.suffixStart[0]!;
    let cache: KVCache | undefined;
    if (opts.cache !== false && P > 0) {
      cache = new KVCache();
      policy.forward(batch, {}, { start: 0, end: P, cache });
      cache.freeze();
    }
    const range = cache ? { start: P, cache } : {};

    // Eq. 23: the first d actions are held at t = 1 and locked before and after every step.
    const euler: EulerOptions = { steps: K };
    if (d > 0) {
      const prefix = tensor(Array.from({ length: T }, (_, i) => i < d), { shape: [1, T], dtype: 'bool' });
      const lock = lockPrefix(committedChunk(policy, observation, buffer!, d).unsqueeze(0), prefix);
      Object.assign(euler, { held: prefix, beforeStep: lock, afterStep: lock });
    }
    // MPG's gates stay on the device until the end: reading one per step would stall every step.
    const gates: Tensor[] = [];
    const perRound: number[] = [];
    const denoise = (anchor: Tensor | undefined): Tensor => {
      const before = gates.length;
      const out = eulerSample(
        (x, t) => {
          const o = policy.forward(batch, { xt: x, t, ...(anchor ? { anchor, directions } : {}) }, range);
          if (anchor && o.gate) gates.push(o.gate.reshape([1]));
          return policy.velocity(batch, o);
        },
        x0,
        euler,
      );
      if (anchor) perRound.push(gates.length - before);
      return out;
    };
    const predictions = [denoise(undefined)]; // stage 1: H̃ = H
    for (let n = 1; n <= rounds; n++) {
      // Eq. 21: Z^nf from the previous prediction at zero noise (t = 1); MPG mean-pools it into Z̄.
      const anchor = policy.encodeActions(predictions[n - 1]!, 1, [emb]);
      predictions.push(denoise(anchor));
    }
    const active = emb.activeMaskTensor();
    const roundsOut = predictions.map((p) => where(active, p.reshape([T, D]), 0));
    const unified = roundsOut[roundsOut.length - 1]!;
    const out = { unified, raw: emb.fromUnified(unified), delay: d, rounds: roundsOut };
    return { out, gates: gates.length > 0 ? concat(gates, 0) : null, perRound };
  }));
}
