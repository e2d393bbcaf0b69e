/**
 * The state encoder: proprioceptive state in the unified space, s = Φ_e(s^(e)) (Eq. 1), becomes the
 * action expert's state tokens (§5.3.2: H is formed by "concatenating proprioceptive state embeddings
 * and current action-token embeddings"). Unused slots are zeros (Eq. 1), so the columns of the first
 * layer that read them get no gradient from an embodiment that leaves them unused.
 * @module
 */
import { formatShape, type DType, type Tensor } from '../../tensor/index.js';
import { Linear, Module, type init } from '../../nn/index.js';

/** Options of {@link StateEncoder}. */
export interface StateEncoderOptions extends init.InitOptions {
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

/**
 * A two-layer MLP `fc2(swish(fc1(s)))` from unified states `[..., stateDim]` (`[B, D]` for one state
 * vector per sample, `[B, S, D]` for S of them) to `[..., hidden]`, the action expert's width.
 *
 * @example
 * const enc = new StateEncoder(200, 128, 64);
 * enc.forward(state); // [B, 200] → [B, 64]
 */
export class StateEncoder extends Module {
  /** `stateDim → mlpHidden`. */
  readonly fc1: Linear;
  /** `mlpHidden → hidden`. */
  readonly fc2: Linear;

  /** An MLP `stateDim → mlpHidden → hidden`. */
  constructor(
    /** Width of the unified state (200 for `UNIFIED_LAYOUT`). */
    readonly stateDim: number,
    /** Hidden width of the MLP. */
    readonly mlpHidden: number,
    /** Width of the action expert. */
    readonly hidden: number,
    opts: StateEncoderOptions = {},
  ) {
    super();
    for (const [name, v] of [['stateDim', stateDim], ['mlpHidden', mlpHidden], ['hidden', hidden]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`StateEncoder: ${name} must be a positive integer, got ${v}`);
    }
    const lin = { dtype: opts.dtype, generator: opts.generator };
    this.fc1 = this.module('fc1', new Linear(stateDim, mlpHidden, lin));
    this.fc2 = this.module('fc2', new Linear(mlpHidden, hidden, lin));
  }

  /** Encodes `[B, stateDim]` or `[B, S, stateDim]` states into `[B, hidden]` or `[B, S, hidden]`. */
  forward(state: Tensor): Tensor {
    if ((state.ndim !== 2 && state.ndim !== 3) || state.shape[state.ndim - 1] !== this.stateDim) {
      throw new RangeError(`StateEncoder: expected states [B, ${this.stateDim}] or [B, S, ${this.stateDim}], got ${formatShape(state.shape)}`);
    }
    return this.fc2.forward(this.fc1.forward(state).silu());
  }
}
