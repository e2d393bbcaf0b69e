/**
 * `Tensor`: an n-dimensional array on a backend, viewed through shape, strides and offset, that records
 * the ops applied to it for reverse-mode differentiation. Methods are thin wrappers over the functions
 * in `ops/`, which hold each op's forward and backward rule.
 * @module
 */
import { backprop, type GradNode, seedGrad } from './autograd.js';
import type { Backend, DeviceBuffer } from './backend.js';
import { allocArray, isFloat, type DType, type TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import { adoptTensor, releaseTensor } from './memory.js';
import * as A from './ops/arithmetic.js';
import type { TensorLike } from './ops/core.js';
import * as I from './ops/indexing.js';
import { copyInto } from './ops/inplace.js';
import { matmul } from './ops/matmul.js';
import * as R from './ops/reduce.js';
import * as V from './ops/views.js';
import { contiguousStrides, fmt, isContiguous, sizeOf, type Shape } from './shape.js';

/** Nested arrays as returned by {@link Tensor.toArray}. */
export type NestedValues = number | boolean | NestedValues[];

/** Options of {@link Tensor.backward}. */
export interface BackwardOptions {
  /** Record the backward pass so that the gradients can be differentiated again. */
  createGraph?: boolean;
}

/**
 * An n-dimensional array with autograd. Create one with `tensor()`, `zeros()`, `randn()`, …; most ops are
 * available both as functions and as methods (`add(a, b)` or `a.add(b)`).
 *
 * @example
 * const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const loss = w.matmul(w).sum();
 * loss.backward();
 * w.grad?.toArray(); // [[7, 11], [9, 13]]
 */
export class Tensor {
  /** The backend whose memory holds the elements. */
  readonly backend: Backend;
  /** The storage, possibly shared with other views. */
  readonly buffer: DeviceBuffer;
  /** The size of each axis. */
  readonly shape: readonly number[];
  /** The step in elements between neighbours along each axis. */
  readonly strides: readonly number[];
  /** The storage index of the first element. */
  readonly offset: number;
  /** The accumulated gradient of a leaf after `backward()`; `null` before. */
  grad: Tensor | null = null;
  #requiresGrad = false;
  #gradFn: GradNode | null = null;
  #disposed = false;

  /** Wraps a view of `buffer`. Ops and creation functions call this; users rarely need to. */
  constructor(backend: Backend, buffer: DeviceBuffer, shape: Shape, strides: readonly number[], offset: number) {
    this.backend = backend;
    this.buffer = buffer;
    this.shape = Object.freeze(shape.slice());
    this.strides = Object.freeze(strides.slice());
    this.offset = offset;
    adoptTensor(this);
  }

  /**
   * Releases this tensor's hold on its storage. On backends with explicit memory (webgpu) the buffer is
   * freed once no other view of it (reshape, slice, detach, …) is alive, after which reading any of its
   * views throws; on the cpu backend the memory is left to the garbage collector. Calling it twice does
   * nothing. Also `using t = …` where the runtime has `Symbol.dispose`; see `scope` for disposing in bulk.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    releaseTensor(this);
  }

  /** Whether {@link dispose} has been called. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** The element type. */
  get dtype(): DType {
    return this.buffer.dtype;
  }
  /** The number of axes. */
  get ndim(): number {
    return this.shape.length;
  }
  /** The number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** The op that produced this tensor, when it was recorded for autograd; `null` for leaves. */
  get gradFn(): GradNode | null {
    return this.#gradFn;
  }
  /** True for a leaf (not produced by a recorded op). */
  get isLeaf(): boolean {
    return this.#gradFn === null;
  }

  /** Whether gradients are computed for this tensor. Only leaves can be switched, and only float ones. */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  /** Switches gradient tracking of a float leaf on or off. */
  set requiresGrad(on: boolean) {
    if (this.#gradFn !== null) {
      throw new Error('requiresGrad: can only be set on leaf tensors; use detach() to make a new leaf');
    }
    if (on && !isFloat(this.dtype)) {
      throw new TypeError(`requiresGrad: only float tensors can require gradients, got ${this.dtype}`);
    }
    this.#requiresGrad = on;
  }

  /** Sets {@link requiresGrad} and returns this tensor (as `requires_grad_()`). */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** Attaches the node that produced this tensor (the autograd engine's hook). */
  setGradFn(node: GradNode): void {
    this.#gradFn = node;
    this.#requiresGrad = true;
  }

  /** Adds `g` into `.grad` (the engine's hook for leaves). */
  accumulateGrad(g: Tensor): void {
    this.grad = this.grad === null ? g : A.add(this.grad, g);
  }

  /**
   * Back-propagates from this tensor, accumulating into the `.grad` of every leaf that requires a
   * gradient. `gradOutput` defaults to 1 for a scalar.
   */
  backward(gradOutput?: Tensor, opts: BackwardOptions = {}): void {
    if (!this.requiresGrad) {
      throw new Error('backward: this tensor does not require a gradient (no input had requiresGrad set)');
    }
    backprop([this], [seedGrad('backward', this, gradOutput)], { createGraph: opts.createGraph ?? false });
  }

  /** The same values, cut from the graph (shares storage). */
  detach(): Tensor {
    return new Tensor(this.backend, this.buffer, this.shape, this.strides, this.offset);
  }

  /**
   * Overwrites this tensor's elements with `src` (broadcast, converted to this dtype), in place, and
   * returns this tensor. Refused on a tensor that requires a gradient unless inside `noGrad`.
   */
  copy_(src: TensorLike): this {
    copyInto(this, src);
    return this;
  }

  // --- reading ---------------------------------------------------------------------------------------

  /** The elements in row-major order as a new typed array (works on every backend). */
  async data(): Promise<TypedArray> {
    return this.#gatherHost(await this.backend.read(this.buffer));
  }

  /** The elements in row-major order, synchronously; throws on backends that cannot read synchronously. */
  dataSync(): TypedArray {
    if (!this.backend.readSync) {
      throw new Error(`dataSync: the ${this.backend.name} backend reads asynchronously; use await t.data()`);
    }
    return this.#gatherHost(this.backend.readSync(this.buffer));
  }

  #gatherHost(all: TypedArray): TypedArray {
    const n = this.size;
    if (isContiguous(this.shape, this.strides)) return all.slice(this.offset, this.offset + n);
    const out = allocArray(this.dtype, n);
    const nd = this.ndim;
    const idx = new Array<number>(nd).fill(0);
    let off = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = all[off]!;
      for (let a = nd - 1; a >= 0; a--) {
        idx[a]!++;
        off += this.strides[a]!;
        if (idx[a]! < this.shape[a]!) break;
        off -= this.strides[a]! * this.shape[a]!;
        idx[a] = 0;
      }
    }
    return out;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new RangeError(`item: tensor has ${this.size} elements (shape ${fmt(this.shape)}), not 1`);
    return this.dataSync()[0]!;
  }

  /** The values as nested arrays (booleans for bool tensors). */
  toArray(): NestedValues {
    const flat = this.dataSync();
    const conv = this.dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
    if (this.ndim === 0) return conv(flat[0]!);
    const strides = contiguousStrides(this.shape);
    const build = (axis: number, off: number): NestedValues[] => {
      const n = this.shape[axis]!;
      const out: NestedValues[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const o = off + i * strides[axis]!;
        out[i] = axis === this.ndim - 1 ? conv(flat[o]!) : build(axis + 1, o);
      }
      return out;
    };
    return build(0, 0);
  }

  /** A readable form in PyTorch's style (synchronous backends only; otherwise a summary). */
  toString(): string {
    if (!this.backend.readSync) return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype, this.requiresGrad);
  }

  // --- views ------------------------------------------------------------------------------------------

  /** See {@link V.reshape}. */
  reshape(shape: readonly number[]): Tensor {
    return V.reshape(this, shape);
  }
  /** See {@link V.view}. */
  view(shape: readonly number[]): Tensor {
    return V.view(this, shape);
  }
  /** See {@link V.transpose}. */
  transpose(a = -2, b = -1): Tensor {
    return V.transpose(this, a, b);
  }
  /** See {@link V.permute}. */
  permute(dims: readonly number[]): Tensor {
    return V.permute(this, dims);
  }
  /** See {@link V.expand}. */
  expand(shape: readonly number[]): Tensor {
    return V.expand(this, shape);
  }
  /** Alias of {@link expand}, as `torch.broadcast_to`. */
  broadcastTo(shape: readonly number[]): Tensor {
    return V.expand(this, shape);
  }
  /** See {@link V.squeeze}. */
  squeeze(axes?: number | readonly number[]): Tensor {
    return V.squeeze(this, axes);
  }
  /** See {@link V.unsqueeze}. */
  unsqueeze(axis: number): Tensor {
    return V.unsqueeze(this, axis);
  }
  /** See {@link V.slice}. */
  slice(...ranges: V.SliceRange[]): Tensor {
    return V.slice(this, ranges);
  }
  /** See {@link V.narrow}. */
  narrow(axis: number, start: number, length: number): Tensor {
    return V.narrow(this, axis, start, length);
  }
  /** See {@link V.flatten}. */
  flatten(start = 0, end = -1): Tensor {
    return V.flatten(this, start, end);
  }
  /** See {@link V.contiguous}. */
  contiguous(): Tensor {
    return V.contiguous(this);
  }
  /** See {@link V.clone}. */
  clone(): Tensor {
    return V.clone(this);
  }

  // --- elementwise ------------------------------------------------------------------------------------

  /** `this + other`, broadcasting. */
  add(other: TensorLike): Tensor {
    return A.add(this, other);
  }
  /** `this − other`, broadcasting. */
  sub(other: TensorLike): Tensor {
    return A.sub(this, other);
  }
  /** `this · other` elementwise, broadcasting. */
  mul(other: TensorLike): Tensor {
    return A.mul(this, other);
  }
  /** `this / other` (true division), broadcasting. */
  div(other: TensorLike): Tensor {
    return A.div(this, other);
  }
  /** `this ^ other`, broadcasting. */
  pow(other: TensorLike): Tensor {
    return A.pow(this, other);
  }
  /** Elementwise maximum with `other`. */
  maximum(other: TensorLike): Tensor {
    return A.maximum(this, other);
  }
  /** Elementwise minimum with `other`. */
  minimum(other: TensorLike): Tensor {
    return A.minimum(this, other);
  }
  /** `−this`. */
  neg(): Tensor {
    return A.neg(this);
  }
  /** `e^this`. */
  exp(): Tensor {
    return A.exp(this);
  }
  /** Natural logarithm. */
  log(): Tensor {
    return A.log(this);
  }
  /** `log(1 + this)`. */
  log1p(): Tensor {
    return A.log1p(this);
  }
  /** Square root. */
  sqrt(): Tensor {
    return A.sqrt(this);
  }
  /** `1/√this`. */
  rsqrt(): Tensor {
    return A.rsqrt(this);
  }
  /** Absolute value. */
  abs(): Tensor {
    return A.abs(this);
  }
  /** −1, 0 or 1. */
  sign(): Tensor {
    return A.sign(this);
  }
  /** Sine. */
  sin(): Tensor {
    return A.sin(this);
  }
  /** Cosine. */
  cos(): Tensor {
    return A.cos(this);
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return A.tanh(this);
  }
  /** Logistic sigmoid. */
  sigmoid(): Tensor {
    return A.sigmoid(this);
  }
  /** `max(this, 0)`. */
  relu(): Tensor {
    return A.relu(this);
  }
  /** GELU, exact (erf) or `'tanh'`-approximated. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return A.gelu(this, approximate);
  }
  /** SiLU / swish. */
  silu(): Tensor {
    return A.silu(this);
  }
  /** `log(1 + e^this)`. */
  softplus(): Tensor {
    return A.softplus(this);
  }
  /** The error function. */
  erf(): Tensor {
    return A.erf(this);
  }
  /** Clamps into `[min, max]`. */
  clamp(min?: TensorLike, max?: TensorLike): Tensor {
    return A.clamp(this, min, max);
  }
  /** `this == other`, as bool. */
  eq(other: TensorLike): Tensor {
    return A.eq(this, other);
  }
  /** `this != other`, as bool. */
  ne(other: TensorLike): Tensor {
    return A.ne(this, other);
  }
  /** `this < other`, as bool. */
  lt(other: TensorLike): Tensor {
    return A.lt(this, other);
  }
  /** `this <= other`, as bool. */
  le(other: TensorLike): Tensor {
    return A.le(this, other);
  }
  /** `this > other`, as bool. */
  gt(other: TensorLike): Tensor {
    return A.gt(this, other);
  }
  /** `this >= other`, as bool. */
  ge(other: TensorLike): Tensor {
    return A.ge(this, other);
  }
  /** Logical and, as bool. */
  logicalAnd(other: TensorLike): Tensor {
    return A.logicalAnd(this, other);
  }
  /** Logical or, as bool. */
  logicalOr(other: TensorLike): Tensor {
    return A.logicalOr(this, other);
  }
  /** Logical not, as bool. */
  logicalNot(): Tensor {
    return A.logicalNot(this);
  }
  /** A copy as `dtype` (this tensor itself when it already has that dtype). */
  cast(dtype: DType): Tensor {
    return A.cast(this, dtype);
  }
  /** `value` wherever `mask` is true. */
  maskedFill(mask: Tensor, value: TensorLike): Tensor {
    return I.maskedFill(this, mask, value);
  }

  // --- reductions -------------------------------------------------------------------------------------

  /** Sum over `axes` (all when omitted). */
  sum(axes?: R.Axes, keepdim = false): Tensor {
    return R.sum(this, axes, keepdim);
  }
  /** Mean over `axes`. */
  mean(axes?: R.Axes, keepdim = false): Tensor {
    return R.mean(this, axes, keepdim);
  }
  /** Product over `axes`. */
  prod(axes?: R.Axes, keepdim = false): Tensor {
    return R.prod(this, axes, keepdim);
  }
  /** Largest value over `axes`. */
  max(axes?: R.Axes, keepdim = false): Tensor {
    return R.max(this, axes, keepdim);
  }
  /** Smallest value over `axes`. */
  min(axes?: R.Axes, keepdim = false): Tensor {
    return R.min(this, axes, keepdim);
  }
  /** Index of the largest value along `axis` (flattened when omitted). */
  argmax(axis?: number, keepdim = false): Tensor {
    return R.argmax(this, axis, keepdim);
  }
  /** Index of the smallest value along `axis` (flattened when omitted). */
  argmin(axis?: number, keepdim = false): Tensor {
    return R.argmin(this, axis, keepdim);
  }
  /** Variance over `axes` (Bessel-corrected by default). */
  var(axes?: R.Axes, opts?: R.VarOptions): Tensor {
    return R.variance(this, axes, opts);
  }
  /** Standard deviation over `axes`. */
  std(axes?: R.Axes, opts?: R.VarOptions): Tensor {
    return R.std(this, axes, opts);
  }
  /** `log Σ exp` over `axes`, stable. */
  logsumexp(axes?: R.Axes, keepdim = false): Tensor {
    return R.logsumexp(this, axes, keepdim);
  }
  /** The p-norm over `axes`. */
  norm(p = 2, axes?: R.Axes, keepdim = false): Tensor {
    return R.norm(this, p, axes, keepdim);
  }
  /** Softmax along `axis`. */
  softmax(axis = -1): Tensor {
    return R.softmax(this, axis);
  }
  /** Log-softmax along `axis`. */
  logSoftmax(axis = -1): Tensor {
    return R.logSoftmax(this, axis);
  }
  /** Inclusive cumulative sum along `axis`. */
  cumsum(axis: number): Tensor {
    return R.cumsum(this, axis);
  }

  // --- linear algebra and indexing ----------------------------------------------------------------------

  /** Matrix product, as `torch.matmul`. */
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }
  /** See {@link I.gather}. */
  gather(axis: number, index: Tensor): Tensor {
    return I.gather(this, axis, index);
  }
  /** See {@link I.indexSelect}. */
  indexSelect(axis: number, index: Tensor): Tensor {
    return I.indexSelect(this, axis, index);
  }
  /** See {@link I.scatterAdd}. */
  scatterAdd(axis: number, index: Tensor, src: Tensor): Tensor {
    return I.scatterAdd(this, axis, index, src);
  }
  /** See {@link I.split}. */
  split(sizes: number | readonly number[], axis = 0): Tensor[] {
    return I.split(this, sizes, axis);
  }
  /** See {@link I.chunk}. */
  chunk(chunks: number, axis = 0): Tensor[] {
    return I.chunk(this, chunks, axis);
  }
  /** Lower triangle of the last two axes. */
  tril(k = 0): Tensor {
    return I.tril(this, k);
  }
  /** Upper triangle of the last two axes. */
  triu(k = 0): Tensor {
    return I.triu(this, k);
  }
  /** Stable sort along `axis`. */
  sort(axis = -1, descending = false): I.SortResult {
    return I.sort(this, axis, descending);
  }
  /** Indices that sort `axis` (stable). */
  argsort(axis = -1, descending = false): Tensor {
    return I.argsort(this, axis, descending);
  }
  /** The `k` largest (or smallest) entries along `axis`. */
  topk(k: number, axis = -1, largest = true): I.SortResult {
    return I.topk(this, k, axis, largest);
  }
}

// `using t = …` support where the runtime defines Symbol.dispose (a method keyed by a symbol the
// compile-time lib may not declare, so it is attached here rather than in the class body).
const disposeSymbol = (Symbol as { dispose?: symbol }).dispose;
if (disposeSymbol !== undefined) {
  Object.defineProperty(Tensor.prototype, disposeSymbol, {
    value: function (this: Tensor): void {
      this.dispose();
    },
    configurable: true,
    writable: true,
  });
}
