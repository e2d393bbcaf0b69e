/**
 * Interop with the `ndarray` package (scijs): views share memory where the strides allow.
 * @module
 */
import ndarray from 'ndarray';
import { getBackend } from './backend-registry.js';
import { CpuBuffer } from './cpu/cpu-backend.js';
import { dtypeOfArray, type TypedArray } from './dtype.js';
import { fromHost } from './ops/creation.js';
import { Tensor } from './tensor.js';

/**
 * A CPU tensor over an ndarray's data. Shares memory when the data is a Float32Array, Float64Array,
 * Int32Array or Uint8Array (bool) and the strides are non-negative; otherwise copies.
 */
export function fromNdarray(nd: ndarray.NdArray): Tensor {
  const data = nd.data as unknown;
  const dtype = ArrayBuffer.isView(data) ? dtypeOfArray(data as unknown as ArrayLike<number>) : undefined;
  const shape = nd.shape.slice();
  const backend = getBackend();
  if (dtype !== undefined && backend.name === 'cpu' && nd.stride.every((s) => s >= 0)) {
    return new Tensor(backend, new CpuBuffer(dtype, data as TypedArray), shape, nd.stride.slice(), nd.offset);
  }
  const flat = new Float64Array(nd.size);
  let i = 0;
  const idx = new Array<number>(shape.length).fill(0);
  for (; i < nd.size; i++) {
    flat[i] = Number(nd.get(...idx));
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return fromHost(flat, shape, { dtype: dtype ?? 'float64' });
}

/** An ndarray viewing a CPU tensor's storage (no copy); changes through either are seen by both. */
export function toNdarray(t: Tensor): ndarray.NdArray<TypedArray> {
  if (!(t.buffer instanceof CpuBuffer)) {
    throw new Error(`toNdarray: needs a CPU tensor, got one on ${t.backend.name}; read it with await t.data() first`);
  }
  return ndarray(t.buffer.data, t.shape.slice(), t.strides.slice(), t.offset);
}
