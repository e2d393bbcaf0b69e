/**
 * `Dropout` with a seeded generator.
 * @module
 */
import { rand, type Generator, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';

/**
 * Zeroes each element with probability `p` in training mode and scales the rest by `1/(1−p)`; the
 * identity in eval mode. The mask comes from `generator` (or the global one), so runs repeat exactly.
 */
export class Dropout extends Module {
  /** A dropout layer with drop probability `p` ∈ [0, 1). */
  constructor(
    /** Drop probability. */
    readonly p = 0.5,
    /** Source of the masks (the global generator when omitted). */
    readonly generator?: Generator,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  /** Applies dropout to `x`. */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const keep = rand(x.shape, { generator: this.generator, dtype: x.dtype }).ge(this.p);
    return x.mul(keep.cast(x.dtype)).mul(1 / (1 - this.p));
  }
}
