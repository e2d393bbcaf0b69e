/**
 * The real policy behind the runtime: adapts `BeingPolicy` + `sampleActions` (model layer) to the
 * runtime's {@link PolicyLike} — raw action rows in the driver's layout, the committed prefix locked
 * (Eq. 23), and the largest delay the checkpoint was trained with (Eq. 17: d < d_max). Its rows are Φ_e⁻¹
 * of the unified rows the policy predicts, in the policy's own form: for a checkpoint trained on delta
 * end-effector actions (§5.1.1), wrap it in `DeltaActionPolicy` to get absolute targets for the driver.
 * @module
 */
import { sampleActions, type BeingPolicy, type Embodiment, type Observation } from '../../model/index.js';
import { Generator, tensor } from '../../tensor/index.js';
import type { PolicyLike, SampleActionsOptions } from './policy.js';

/** What the runtime reads for each chunk: an observation without its embodiment (fixed per runner). */
export type RunnerObservation = Omit<Observation, 'embodiment'>;

/** Options of {@link BeingPolicyRunner}. */
export interface BeingPolicyRunnerOptions {
  /** The robot the runtime drives; actions are its raw rows (Φ_e⁻¹, Eq. 1). */
  embodiment: Embodiment;
  /** K, Euler steps (default: the config's). */
  steps?: number;
  /** N_ref, MPG refinement rounds (default: the config's). */
  refine?: number;
  /** The noise source; one generator serves every chunk, so a run repeats from its seed. */
  generator?: Generator;
}

/**
 * Runs a `BeingPolicy` for the real-time runtime. `trainedMaxDelay` is `uac.maxDelay − 1` when the
 * checkpoint was trained with UAC (delays d ∈ {0, …, d_max − 1}, Eq. 17) and 0 otherwise, so the runtime
 * never declares a delay the policy has not seen.
 *
 * @example
 * const runner = new BeingPolicyRunner(policy, { embodiment: getRobot('so101').embodiment });
 * const chunk = await runner.sampleActions(obs, { committedPrefix: null, delay: 0 });
 */
export class BeingPolicyRunner implements PolicyLike<RunnerObservation> {
  /** T, rows per chunk. */
  readonly chunkLength: number;
  /** The embodiment's raw action size. */
  readonly actionDim: number;
  /** The largest delay the checkpoint was trained with. */
  readonly trainedMaxDelay: number;
  readonly #policy: BeingPolicy;
  readonly #opts: BeingPolicyRunnerOptions;
  readonly #generator: Generator;

  /** Wraps `policy` for the robot `opts.embodiment`. */
  constructor(policy: BeingPolicy, opts: BeingPolicyRunnerOptions) {
    const cfg = policy.config;
    this.#policy = policy;
    this.#opts = opts;
    this.#generator = opts.generator ?? new Generator(0);
    this.chunkLength = cfg.flow.chunkLength;
    this.actionDim = opts.embodiment.rawDim;
    this.trainedMaxDelay = cfg.uac.enabled ? Math.min(cfg.uac.maxDelay - 1, this.chunkLength - 1) : 0;
  }

  /** Samples a chunk of raw action rows whose first `delay` rows are the committed prefix (Eq. 23). */
  async sampleActions(observation: RunnerObservation, options: SampleActionsOptions): Promise<Float32Array> {
    options.signal?.throwIfAborted();
    const d = options.delay;
    if (!Number.isInteger(d) || d < 0 || d > this.trainedMaxDelay) {
      throw new RangeError(`BeingPolicyRunner: delay ${d} is outside [0, ${this.trainedMaxDelay}], the range the policy was trained for`);
    }
    const prefix = options.committedPrefix;
    if (d > 0 && (prefix === null || prefix.length < d * this.actionDim)) {
      throw new RangeError(`BeingPolicyRunner: delay ${d} needs ${d}×${this.actionDim} committed values, got ${prefix?.length ?? 0}`);
    }
    const committed = d > 0 ? tensor(prefix!.subarray(0, d * this.actionDim), { shape: [d, this.actionDim] }) : undefined;
    const result = sampleActions(this.#policy, { ...observation, embodiment: this.#opts.embodiment }, {
      committedPrefix: committed,
      delay: d,
      steps: this.#opts.steps,
      refine: this.#opts.refine,
      generator: this.#generator,
    });
    return Float32Array.from(await result.raw.data());
  }
}
