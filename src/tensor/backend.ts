/**
 * The `Backend` interface: memory and a small set of primitive kernels. Every tensor op is composed from
 * these, so a new backend implements only this file's interface (see `cpu/cpu-backend.ts`).
 *
 * Kernels know nothing of autograd; gradients live in the op layer above them.
 * @module
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** A block of device memory holding `size` elements of `dtype`. Backends subclass it with their storage. */
export interface DeviceBuffer {
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements. */
  readonly size: number;
}

/**
 * A strided view of a buffer, as kernels read it: element `(i0, i1, …)` lives at
 * `offset + Σ i_k · strides[k]`. Strides may be 0 (broadcast) but never negative.
 */
export interface Operand {
  /** The buffer the view reads. */
  readonly buffer: DeviceBuffer;
  /** The logical shape. */
  readonly shape: Shape;
  /** The step, in elements, between neighbours along each axis. */
  readonly strides: readonly number[];
  /** The index of element `(0, 0, …)` in the buffer. */
  readonly offset: number;
}

/** Elementwise functions of one argument. `not` is logical negation (0 → 1, anything else → 0). */
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'log1p'
  | 'sqrt'
  | 'rsqrt'
  | 'abs'
  | 'sign'
  | 'sin'
  | 'cos'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'erf'
  | 'softplus'
  | 'not';

/** Elementwise functions of two arguments. Comparisons and logic give 0/1. */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'and'
  | 'or';

/** Reductions of a set of axes to one value. */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';

/** Reductions of one axis to the index of its extreme value (the first one on ties). */
export type ArgReduceOp = 'argmax' | 'argmin';

/** The result of a sort or top-k kernel. */
export interface SortedBuffers {
  /** The values in order. */
  values: DeviceBuffer;
  /** The int32 source index of each value along the sorted axis. */
  indices: DeviceBuffer;
}

/**
 * What a backend implements. All outputs are freshly allocated contiguous (row-major) buffers, except
 * `copy`, which writes into a view of an existing buffer. Inputs are strided {@link Operand}s whose
 * shapes the op layer has already checked and broadcast, so kernels do no shape inference.
 */
export interface Backend {
  /** The name used by `setBackend`. */
  readonly name: string;
  /**
   * True when buffers hold memory the garbage collector cannot reclaim promptly (GPU memory): then
   * `Tensor.dispose()` and `scope()` free a buffer once no tensor views it. Otherwise (cpu) dispose only
   * drops the reference and the garbage collector frees the memory.
   */
  readonly explicitMemory?: boolean;

  /** Allocates `size` zeroed elements of `dtype`. */
  alloc(dtype: DType, size: number): DeviceBuffer;
  /** Copies host data into a buffer (the array's length must equal the buffer's size). */
  write(buffer: DeviceBuffer, data: TypedArray): void;
  /** Reads a whole buffer back to the host. */
  read(buffer: DeviceBuffer): Promise<TypedArray>;
  /** Reads synchronously, where the backend can; otherwise `undefined`. */
  readSync?(buffer: DeviceBuffer): TypedArray;
  /** Releases a buffer. Using it afterwards is an error. */
  free(buffer: DeviceBuffer): void;

  /** `out = op(x)` elementwise, stored as `outDtype`. */
  unary(op: UnaryOp, x: Operand, outDtype: DType): DeviceBuffer;
  /** `out = op(a, b)` elementwise; `a` and `b` have the same (already broadcast) shape. */
  binary(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): DeviceBuffer;
  /** `out = cond ? a : b` elementwise over equal shapes. */
  where(cond: Operand, a: Operand, b: Operand, outDtype: DType): DeviceBuffer;
  /** Reduces `axes` (ascending, distinct) away; the output has the remaining axes in order. */
  reduce(op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): DeviceBuffer;
  /** Index (int32) of the extreme value along `axis`, which is removed from the output shape. */
  argReduce(op: ArgReduceOp, x: Operand, axis: number): DeviceBuffer;
  /** Inclusive prefix sum along `axis`. */
  cumsum(x: Operand, axis: number, outDtype: DType): DeviceBuffer;
  /**
   * Batched matrix product: `a` is `[...batch, M, K]`, `b` is `[...batch, K, N]` (same batch shape, strides
   * may be 0 for broadcast batches); the output is `[...batch, M, N]`.
   */
  matmul(a: Operand, b: Operand, outDtype: DType): DeviceBuffer;
  /**
   * `out[…, i_axis, …] = x[…, index[…, i_axis, …], …]` with the output shaped like `index` (int32), as
   * `torch.gather`. Throws a RangeError for an index outside `[0, x.shape[axis])`.
   */
  gather(x: Operand, axis: number, index: Operand): DeviceBuffer;
  /**
   * A copy of `base` (shape `outShape`) to which `src[p]` is added at `p` with its `axis` coordinate
   * replaced by `index[p]`, as `torch.scatter_add`.
   */
  scatterAdd(base: Operand, axis: number, index: Operand, src: Operand): DeviceBuffer;
  /** Stable sort along `axis`: the sorted values and their int32 source indices. */
  sort(x: Operand, axis: number, descending: boolean): SortedBuffers;
  /** The `k` largest (or smallest) values along `axis`, in order, ties by lower index first. */
  topk(x: Operand, k: number, axis: number, largest: boolean): SortedBuffers;
  /** Writes `src` into the view `dst` (same shape), converting to `dst`'s dtype: a strided copy and cast. */
  copy(src: Operand, dst: Operand): void;
}
