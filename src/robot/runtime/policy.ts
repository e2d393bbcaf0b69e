/**
 * What the runtime of §6 needs from a policy: a chunk of T actions sampled with the first d rows
 * locked to the committed prefix (Eq. 23), for a declared delay d (Eq. 22).
 * @module
 */

/** The second argument of {@link PolicyLike.sampleActions}. */
export interface SampleActionsOptions {
  /**
   * The committed prefix 𝓑_{<d}: d × actionDim, row-major — the actions the robot will execute while
   * this chunk is computed — or null when d = 0. The policy must not edit it (Eq. 23).
   */
  readonly committedPrefix: Float32Array | null;
  /** d, the declared delay (0 ≤ d ≤ trainedMaxDelay, d < chunkLength). */
  readonly delay: number;
  /** Aborted when the runtime stops; a policy may give up its computation then. */
  readonly signal?: AbortSignal;
}

/**
 * A policy the runtime can drive. The real policy (flow-matching action expert with UAC) and the
 * runtime's deterministic stand-in implement it.
 */
export interface PolicyLike<O = unknown> {
  /** T, rows per chunk. */
  readonly chunkLength: number;
  /** Entries per action row (the driver's raw layout). */
  readonly actionDim: number;
  /**
   * The largest delay d the checkpoint was trained with (for UAC training with d ∈ {0, …, d_max − 1},
   * Eq. 17, that is d_max − 1). The runtime never declares a larger d.
   */
  readonly trainedMaxDelay: number;
  /**
   * A chunk of `chunkLength × actionDim` actions (row-major) continuing `committedPrefix`: rows i < d
   * equal it (Eq. 23); only rows i ≥ d are used (Eq. 24).
   */
  sampleActions(observation: O, options: SampleActionsOptions): Promise<Float32Array>;
}
