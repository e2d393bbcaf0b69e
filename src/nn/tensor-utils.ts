/**
 * Small helpers the nn layer shares.
 * @module
 */
import { checkShape, zeros, type DType, type Tensor } from '../tensor/index.js';

/** A zero tensor of `shape` for a layer to initialise, with the shape checked in the layer's name. */
export function empty(layer: string, shape: readonly number[], dtype: DType): Tensor {
  return zeros(checkShape(layer, shape), { dtype });
}
