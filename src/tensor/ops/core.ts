/**
 * What every op needs: turning arguments into tensors, describing tensors to kernels, and wrapping
 * kernel outputs as tensors.
 * @module
 */
import type { Backend, DeviceBuffer, Operand } from '../backend.js';
import { getBackend } from '../backend-registry.js';
import { castScalar, isFloat, type DType } from '../dtype.js';
import { contiguousStrides, fmt, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** A tensor or a JS scalar, which ops turn into a 0-d tensor of a matching dtype. */
export type TensorLike = Tensor | number | boolean;

/** Wraps a fresh contiguous buffer as a tensor. */
export function fromBuffer(backend: Backend, buffer: DeviceBuffer, shape: Shape): Tensor {
  return new Tensor(backend, buffer, shape, contiguousStrides(shape), 0);
}

/** A 0-d tensor holding `v` as `dtype` on `backend`. */
export function scalarTensor(v: number, dtype: DType, backend: Backend = getBackend()): Tensor {
  const buf = backend.alloc(dtype, 1);
  const host = dtype === 'float64' ? Float64Array.of(v) : dtype === 'float32' ? Float32Array.of(v) : dtype === 'int32' ? Int32Array.of(v) : Uint8Array.of(v ? 1 : 0);
  backend.write(buf, host);
  return fromBuffer(backend, buf, []);
}

/**
 * The dtype a JS scalar takes beside a tensor of dtype `other` (PyTorch's "weak" scalars): the tensor's
 * dtype when it can hold the value's kind, else the next wider kind.
 */
export function weakDType(v: number | boolean, other: DType): DType {
  if (typeof v === 'boolean') return other;
  if (isFloat(other)) return other;
  return Number.isInteger(v) ? (other === 'bool' ? 'int32' : other) : 'float32';
}

/** Turns `x` into a tensor; scalars take a dtype fitting `like` (float32 alone). */
export function asTensor(op: string, x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number' || typeof x === 'boolean') {
    const dtype = like ? weakDType(x, like.dtype) : typeof x === 'boolean' ? 'bool' : 'float32';
    return scalarTensor(castScalar(Number(x), dtype), dtype, like?.backend ?? getBackend());
  }
  throw new TypeError(`${op}: expected a Tensor or a number, got ${describe(x)}`);
}

/** Checks that all tensors live on one backend and returns it. */
export function sameBackend(op: string, ts: readonly Tensor[]): Backend {
  const b = ts[0]!.backend;
  for (const t of ts) {
    if (t.backend !== b) {
      throw new Error(`${op}: tensors are on different backends (${b.name} and ${t.backend.name}); bring them onto one first`);
    }
  }
  return b;
}

/** The kernel's view of a tensor. */
export function operand(t: Tensor): Operand {
  return { buffer: t.buffer, shape: t.shape, strides: t.strides, offset: t.offset };
}

/** The kernel's view of `t` broadcast to `shape` (broadcast axes get stride 0). */
export function broadcastOperand(t: Tensor, shape: Shape): Operand {
  const lead = shape.length - t.shape.length;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const td = t.shape[i - lead]!;
    return td === d ? t.strides[i - lead]! : 0;
  });
  return { buffer: t.buffer, shape, strides, offset: t.offset };
}

/** Throws unless `t` has an integer dtype (int32), naming the op and the argument. */
export function checkIndexTensor(op: string, what: string, t: Tensor): void {
  if (t.dtype !== 'int32') throw new TypeError(`${op}: ${what} must be int32, got ${t.dtype}`);
}

/** Throws unless `t` is floating (for ops that only make sense on real numbers, or need gradients). */
export function checkFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) throw new TypeError(`${op}: expected a float32 or float64 tensor, got ${t.dtype} ${fmt(t.shape)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array (wrap it with tensor())';
  return typeof x;
}
