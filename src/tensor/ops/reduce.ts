/**
 * Reductions over one or several axes (with `keepdim`), the statistics built on them, softmax and
 * log-softmax, and cumulative sums.
 * @module
 */
import { isGradEnabled, noGrad, record } from '../autograd.js';
import type { ArgReduceOp, ReduceOp } from '../backend.js';
import { runKernel } from '../debug.js';
import { isFloat, type DType } from '../dtype.js';
import { fmt, normAxes, normAxis, sameShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, cast, div, eq, exp, log, mul, sqrt, sub, where } from './arithmetic.js';
import { asTensor, fromBuffer, operand, type TensorLike } from './core.js';
import { contiguous } from './views.js';

/** Axes to reduce: one, several, or all when omitted. */
export type Axes = number | readonly number[] | undefined;

function keptShape(shape: Shape, axes: readonly number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduceRaw(op: ReduceOp, x: Tensor, axes: readonly number[], keepdim: boolean, outDtype: DType): Tensor {
  const be = x.backend;
  const xo = operand(x);
  const buf = runKernel(be.name, op, [xo], () => be.reduce(op, xo, axes, outDtype));
  return fromBuffer(be, buf, keptShape(x.shape, axes, keepdim));
}

/** `g` of a reduced shape broadcast back to `shape` (the reduced axes restored as size 1 first). */
function expandBack(g: Tensor, shape: Shape, axes: readonly number[]): Tensor {
  return g.reshape(keptShape(shape, axes, true)).expand(shape);
}

/** Sum of `g` over the axes that broadcasting added or stretched, giving a tensor of `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  if (lead < 0) throw new RangeError(`sumToShape: cannot reduce ${fmt(g.shape)} to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return sum(g, axes, true).reshape(shape);
}

/** Sum over `axes` (all when omitted); bool and int32 sum to int32. */
export function sum(x: TensorLike, axes?: Axes, keepdim = false): Tensor {
  const t = asTensor('sum', x);
  const ax = normAxes('sum', axes, t.ndim);
  const out = reduceRaw('sum', t, ax, keepdim, t.dtype === 'bool' ? 'int32' : t.dtype);
  return record('sum', out, [t], (g) => [expandBack(g, t.shape, ax)]);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: TensorLike, axes?: Axes, keepdim = false): Tensor {
  const t = asTensor('mean', x);
  const ax = normAxes('mean', axes, t.ndim);
  const n = ax.reduce((p, a) => p * t.shape[a]!, 1);
  return div(sum(isFloat(t.dtype) ? t : cast(t, 'float32'), ax, keepdim), n);
}

/** Product over `axes` (all when omitted). The gradient is `out / x`, so it needs x ≠ 0. */
export function prod(x: TensorLike, axes?: Axes, keepdim = false): Tensor {
  const t = asTensor('prod', x);
  const ax = normAxes('prod', axes, t.ndim);
  const out = reduceRaw('prod', t, ax, keepdim, t.dtype === 'bool' ? 'int32' : t.dtype);
  return record('prod', out, [t], (g) => [div(mul(expandBack(g, t.shape, ax), expandBack(out, t.shape, ax)), t)]);
}

function extreme(op: 'max' | 'min', x: TensorLike, axes: Axes, keepdim: boolean): Tensor {
  const t = asTensor(op, x);
  const ax = normAxes(op, axes, t.ndim);
  for (const a of ax) {
    if (t.shape[a] === 0) throw new RangeError(`${op}: cannot reduce axis ${a} of size 0 in ${fmt(t.shape)}`);
  }
  const out = reduceRaw(op, t, ax, keepdim, t.dtype);
  // Ties share the gradient evenly, as torch.amax does.
  return record(op, out, [t], (g) => {
    const hit = cast(eq(t, expandBack(out, t.shape, ax)), g.dtype);
    const count = expandBack(sum(hit, ax, true), t.shape, ax);
    return [div(mul(expandBack(g, t.shape, ax), hit), count)];
  });
}

/** Largest value over `axes` (all when omitted); ties share the gradient. NaN propagates. */
export function max(x: TensorLike, axes?: Axes, keepdim = false): Tensor {
  return extreme('max', x, axes, keepdim);
}

/** Smallest value over `axes` (all when omitted); ties share the gradient. NaN propagates. */
export function min(x: TensorLike, axes?: Axes, keepdim = false): Tensor {
  return extreme('min', x, axes, keepdim);
}

function argExtreme(op: ArgReduceOp, x: TensorLike, axis: number | undefined, keepdim: boolean): Tensor {
  let t = asTensor(op, x);
  if (axis === undefined) {
    t = t.reshape([-1]);
    axis = 0;
  }
  const a = normAxis(op, axis, t.ndim);
  if (t.ndim === 0) return fromBuffer(t.backend, t.backend.alloc('int32', 1), []);
  if (t.shape[a] === 0) throw new RangeError(`${op}: axis ${a} of ${fmt(t.shape)} is empty`);
  const be = t.backend;
  const xo = operand(t);
  const buf = runKernel(be.name, op, [xo], () => be.argReduce(op, xo, a));
  return fromBuffer(be, buf, keptShape(t.shape, [a], keepdim));
}

/** Index (int32) of the first largest value along `axis`, or in the flattened tensor when omitted. */
export function argmax(x: TensorLike, axis?: number, keepdim = false): Tensor {
  return argExtreme('argmax', x, axis, keepdim);
}

/** Index (int32) of the first smallest value along `axis`, or in the flattened tensor when omitted. */
export function argmin(x: TensorLike, axis?: number, keepdim = false): Tensor {
  return argExtreme('argmin', x, axis, keepdim);
}

/** Options of {@link variance} and {@link std}. */
export interface VarOptions {
  /** Subtracted from the count in the denominator: 1 (Bessel, the default) or 0 (population). */
  correction?: number;
  /** Keep reduced axes as size 1. */
  keepdim?: boolean;
}

/** Variance over `axes`: `Σ(x − mean)² / (N − correction)`. */
export function variance(x: TensorLike, axes?: Axes, opts: VarOptions = {}): Tensor {
  const t = asTensor('var', x);
  const ax = normAxes('var', axes, t.ndim);
  const n = ax.reduce((p, a) => p * t.shape[a]!, 1);
  const c = opts.correction ?? 1;
  const centred = sub(t, mean(t, ax, true));
  return div(sum(mul(centred, centred), ax, opts.keepdim ?? false), Math.max(0, n - c));
}

/**
 * Standard deviation over `axes`: the square root of {@link variance}. Where it is 0 (a constant slice)
 * the gradient is 0, as in PyTorch, rather than the NaN of differentiating √ at 0.
 */
export function std(x: TensorLike, axes?: Axes, opts: VarOptions = {}): Tensor {
  const v = variance(x, axes, opts);
  const out = noGrad(() => sqrt(v));
  return record('std', out, [v], (g) => {
    const zero = eq(out, 0);
    return [where(zero, 0, div(g, mul(where(zero, 1, out), 2)))];
  });
}

/**
 * `log Σ exp(x)` over `axes`, computed as `m + log Σ exp(x − m)` with m the maximum, so it is exact and
 * finite for large inputs. The gradient is softmax(x).
 */
export function logsumexp(x: TensorLike, axes?: Axes, keepdim = false): Tensor {
  const t = asTensor('logsumexp', x);
  const ax = normAxes('logsumexp', axes, t.ndim);
  const out = noGrad(() => {
    const m = max(t, ax, true);
    const safe = where(eq(m, Infinity), 0, where(eq(m, -Infinity), 0, m));
    return add(log(sum(exp(sub(t, safe)), ax, true)), safe).reshape(keptShape(t.shape, ax, keepdim));
  });
  return record('logsumexp', out, [t], (g) => [mul(expandBack(g, t.shape, ax), exp(sub(t, expandBack(out, t.shape, ax))))]);
}

/**
 * The p-norm over `axes` (default: 2-norm of everything). The gradient at a zero vector is 0, as in
 * PyTorch.
 */
export function norm(x: TensorLike, p = 2, axes?: Axes, keepdim = false): Tensor {
  const t = asTensor('norm', x);
  if (!(p > 0)) throw new RangeError(`norm: p must be positive, got ${p}`);
  const ax = normAxes('norm', axes, t.ndim);
  if (p === Infinity) return max(t.abs(), ax, keepdim);
  const out = noGrad(() => sum(t.abs().pow(p), ax, true).pow(1 / p).reshape(keptShape(t.shape, ax, keepdim)));
  return record('norm', out, [t], (g) => {
    const n = expandBack(out, t.shape, ax);
    // d‖x‖_p/dx = sign(x)·|x|^(p−1) / ‖x‖_p^(p−1); zero where the norm is zero.
    const ratio = where(eq(n, 0), 0, div(t.abs(), where(eq(n, 0), 1, n)));
    return [mul(expandBack(g, t.shape, ax), mul(t.sign(), ratio.pow(p - 1)))];
  });
}

/**
 * The backend's fused softmax / log-softmax of float32 `t` along its last axis `a`, or null when the
 * backend has none or declines (then the caller composes it).
 */
function fusedSoftmax(t: Tensor, a: number, log: boolean): Tensor | null {
  const be = t.backend;
  if (be.softmax === undefined || t.dtype !== 'float32' || a !== t.ndim - 1) return null;
  const xo = operand(t);
  const buf = runKernel(be.name, log ? 'logSoftmax' : 'softmax', [xo], () => be.softmax!(xo, log));
  return buf === null ? null : fromBuffer(be, buf, t.shape);
}

/**
 * The input gradient of softmax (`log` false) or log-softmax along `a`, from the output `y` and its
 * gradient `g`: `y ⊙ (g − Σ g⊙y)` or `g − exp(y)·Σ g`. Fused when nothing is being recorded (a
 * first-order backward; a strided `g`, such as the expanded gradient of a sum, is copied contiguous
 * first); composed from differentiable ops otherwise, so gradients of gradients work.
 */
function softmaxGrad(y: Tensor, g: Tensor, a: number, log: boolean): Tensor {
  const be = y.backend;
  if (!isGradEnabled() && be.softmaxBackward !== undefined && y.dtype === 'float32' && g.dtype === 'float32' && a === y.ndim - 1) {
    const [yo, go] = [operand(y), operand(contiguous(g))];
    const buf = runKernel(be.name, log ? 'logSoftmaxBackward' : 'softmaxBackward', [yo, go], () => be.softmaxBackward!(yo, go, log));
    if (buf !== null) return fromBuffer(be, buf, y.shape);
  }
  return log ? sub(g, mul(exp(y), sum(g, a, true))) : mul(y, sub(g, sum(mul(g, y), a, true)));
}

/**
 * Softmax along `axis`: `exp(x − max) / Σ exp(x − max)`; rows sum to 1. Along the last axis of a float32
 * tensor a backend's fused kernel computes it in one pass per row where it has one.
 */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const t = asTensor('softmax', x);
  const a = normAxis('softmax', axis, t.ndim);
  const out =
    fusedSoftmax(t, a, false) ??
    noGrad(() => {
      const e = exp(sub(t, max(t, a, true)));
      return div(e, sum(e, a, true));
    });
  return record('softmax', out, [t], (g) => [softmaxGrad(out, g, a, false)]);
}

/** Log-softmax along `axis`: `x − logsumexp(x)`, stable for large inputs (fused as {@link softmax} is). */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const t = asTensor('logSoftmax', x);
  const a = normAxis('logSoftmax', axis, t.ndim);
  const out = fusedSoftmax(t, a, true) ?? noGrad(() => sub(t, logsumexp(t, a, true)));
  return record('logSoftmax', out, [t], (g) => [softmaxGrad(out, g, a, true)]);
}

/** Inclusive cumulative sum along `axis`. */
export function cumsum(x: TensorLike, axis: number): Tensor {
  const t = asTensor('cumsum', x);
  const a = normAxis('cumsum', axis, t.ndim);
  if (t.ndim === 0) return t.clone();
  const be = t.backend;
  const xo = operand(t);
  const outDtype = t.dtype === 'bool' ? 'int32' : t.dtype;
  const out = fromBuffer(be, runKernel(be.name, 'cumsum', [xo], () => be.cumsum(xo, a, outDtype)), t.shape);
  // The adjoint of a prefix sum is a suffix sum: Σ_{j≥i} g_j = total − cumsum(g)_i + g_i.
  return record('cumsum', out, [t], (g) => [add(sub(sum(g, a, true), cumsum(g, a)), g)]);
}
