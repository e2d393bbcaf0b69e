/**
 * The `Backend` interface: memory and a small set of primitive kernels. Every tensor op is composed from
 * these, so a new backend implements only this file's interface (see `cpu/cpu-backend.ts`). A backend may
 * also offer fused kernels for hot compositions ({@link FusedKernels}: softmax, layer/RMS norm, GELU,
 * AdamW), which the op layer prefers when present.
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

/** Which row normalisation a fused norm kernel computes: layer norm (centred) or RMS norm. */
export type NormKind = 'layer' | 'rms';

/** The gradients a fused norm backward returns (`null` where the op has no weight or bias). */
export interface NormGrads {
  /** The input's gradient, shaped as the input. */
  dx: DeviceBuffer;
  /** The weight's gradient (`n` elements). */
  dweight: DeviceBuffer | null;
  /** The bias's gradient (`n` elements). */
  dbias: DeviceBuffer | null;
}

/** One AdamW step's settings, as `torch.optim.AdamW` takes them, with the step number `t` (from 1). */
export interface AdamWStep {
  /** Learning rate. */
  lr: number;
  /** First-moment decay β₁. */
  beta1: number;
  /** Second-moment decay β₂. */
  beta2: number;
  /** Added to the denominator. */
  eps: number;
  /** Decoupled weight decay λ. */
  weightDecay: number;
  /** The step number t, from 1 (for the bias corrections). */
  step: number;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/** The moments an AdamW step writes: fresh buffers, so that earlier state stays as it was. */
export interface AdamWMoments {
  /** The new first moment. */
  m: DeviceBuffer;
  /** The new second moment. */
  v: DeviceBuffer;
}

/**
 * Optional fused kernels: several primitive steps in one pass over memory. The op layer calls one when
 * the backend has it, and composes the op from the primitive kernels when it has not or when it returns
 * `null` ("not handled here": another dtype, a layout it does not take, a feature it lacks). Both ways
 * give the same results within float32 rounding (the conformance table checks it), and gradients are
 * recorded by the op layer either way.
 */
export interface FusedKernels {
  /**
   * Softmax (or, with `log`, log-softmax) along the last axis: `exp(x − max) / Σ exp(x − max)`, or
   * `x − max − log Σ exp(x − max)`. The output is shaped as `x`.
   */
  softmax?(x: Operand, log: boolean): DeviceBuffer | null;
  /**
   * The gradient of {@link FusedKernels.softmax} along the last axis given its output `y` and the
   * output gradient `g` (same shape): `y·(g − Σ g·y)`, or with `log` `g − exp(y)·Σ g`.
   */
  softmaxBackward?(y: Operand, g: Operand, log: boolean): DeviceBuffer | null;
  /**
   * Normalises each row of `n` = the last axis of `x`: layer norm `(x − μ)/√(σ² + eps)·w + b` (population
   * variance) or RMS norm `x/√(mean(x²) + eps)·w`. `weight` and `bias` are `[n]` or null (a bias only
   * with a weight).
   */
  norm?(kind: NormKind, x: Operand, weight: Operand | null, bias: Operand | null, eps: number): DeviceBuffer | null;
  /**
   * The gradients of {@link FusedKernels.norm} for the output gradient `g` (shaped as `x`); `hasBias`
   * asks for the bias gradient `Σ_rows g`.
   */
  normBackward?(kind: NormKind, x: Operand, weight: Operand | null, hasBias: boolean, g: Operand, eps: number): NormGrads | null;
  /**
   * Exact GELU `½x(1 + erf(x/√2))` elementwise, or, given the output gradient `g` (same shape), the input
   * gradient `g·(Φ(x) + x·φ(x))`.
   */
  gelu?(x: Operand, g: Operand | null): DeviceBuffer | null;
  /**
   * One AdamW step, as `torch.optim.AdamW` without AMSGrad: writes the new parameter into `param`'s
   * storage in place and returns the new moments in fresh buffers (`m` and `v` are not changed).
   */
  adamwUpdate?(param: Operand, grad: Operand, m: Operand, v: Operand, step: AdamWStep): AdamWMoments | null;
}

/**
 * What a backend implements. All outputs are freshly allocated contiguous (row-major) buffers, except
 * `copy`, which writes into a view of an existing buffer. Inputs are strided {@link Operand}s whose
 * shapes the op layer has already checked and broadcast, so kernels do no shape inference.
 */
export interface Backend extends FusedKernels {
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
