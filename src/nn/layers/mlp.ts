/**
 * Feed-forward blocks of transformers: `MLP` (GELU) and `SwiGLU`.
 * @module
 */
import type { Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { Linear, type LinearOptions } from './linear.js';

/** Options of {@link MLP}. */
export interface MLPOptions extends LinearOptions {
  /** GELU form (exact erf by default). */
  approximate?: 'none' | 'tanh';
}

/** `fc2(gelu(fc1(x)))`: the feed-forward block of GPT-style transformers. */
export class MLP extends Module {
  /** `dim → hidden`. */
  readonly fc1: Linear;
  /** `hidden → dim`. */
  readonly fc2: Linear;
  readonly #approximate: 'none' | 'tanh';

  /** A block `dim → hidden → dim` (`outDim` defaults to `dim`). */
  constructor(dim: number, hidden: number, opts: MLPOptions & { outDim?: number } = {}) {
    super();
    this.fc1 = this.module('fc1', new Linear(dim, hidden, opts));
    this.fc2 = this.module('fc2', new Linear(hidden, opts.outDim ?? dim, opts));
    this.#approximate = opts.approximate ?? 'none';
  }

  /** Applies the block. */
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).gelu(this.#approximate));
  }
}

/** `down(silu(gate(x)) · up(x))`: the gated feed-forward block of LLaMA/Qwen (no biases by default). */
export class SwiGLU extends Module {
  /** `dim → hidden`, through SiLU. */
  readonly gateProj: Linear;
  /** `dim → hidden`. */
  readonly upProj: Linear;
  /** `hidden → dim`. */
  readonly downProj: Linear;

  /** A block `dim → hidden → dim` (`outDim` defaults to `dim`). */
  constructor(dim: number, hidden: number, opts: LinearOptions & { outDim?: number } = {}) {
    super();
    const o = { bias: false, ...opts };
    this.gateProj = this.module('gateProj', new Linear(dim, hidden, o));
    this.upProj = this.module('upProj', new Linear(dim, hidden, o));
    this.downProj = this.module('downProj', new Linear(hidden, opts.outDim ?? dim, o));
  }

  /** Applies the block. */
  forward(x: Tensor): Tensor {
    return this.downProj.forward(this.gateProj.forward(x).silu().mul(this.upProj.forward(x)));
  }
}
