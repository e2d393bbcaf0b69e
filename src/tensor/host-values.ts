/**
 * Reading values only where it costs nothing to wait for them. On backends that read synchronously
 * (cpu, wasm) the data is at hand; on asynchronous ones (webgpu) a read would stall the device queue and
 * can only be awaited. Checks of input *values* (not shapes) that layers make on the way — "the gate lies
 * in [0, 1]", "the directions are unit vectors" — therefore run on synchronous backends and are skipped on
 * asynchronous ones, so that a training step or a sampled chunk never waits for the device midway.
 * @module
 */
import type { TypedArray } from './dtype.js';
import type { Tensor } from './tensor.js';

/**
 * The elements of `t` in row-major order when its backend reads synchronously (as `t.dataSync()`), or
 * null when it reads asynchronously (webgpu): the caller then skips whatever it wanted the values for.
 *
 * @example
 * const v = hostValues(weights);
 * if (v !== null && v.some((w) => w < 0)) throw new RangeError('weights must be ≥ 0');
 */
export function hostValues(t: Tensor): TypedArray | null {
  return t.backend.readSync === undefined ? null : t.dataSync();
}
