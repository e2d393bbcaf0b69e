/**
 * Elementwise ops with NumPy/PyTorch broadcasting: arithmetic, math functions, activations,
 * comparisons, logic, `where`, `clamp` and casts. Each op states its backward rule beside its forward.
 * @module
 */
import { isGradEnabled, noGrad, record } from '../autograd.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { runKernel } from '../debug.js';
import { checkDType, isFloat, promoteTypes, toFloat, type DType } from '../dtype.js';
import { broadcastShapes, contiguousStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, broadcastOperand, fromBuffer, operand, sameBackend, type TensorLike } from './core.js';
import { zerosLike } from './creation.js';
import { sumToShape } from './reduce.js';
import { contiguous } from './views.js';

/** Runs a unary kernel (no gradient recording). */
function unaryRaw(op: UnaryOp, x: Tensor, outDtype: DType): Tensor {
  const b = x.backend;
  const xo = operand(x);
  return fromBuffer(b, runKernel(b.name, op, [xo], () => b.unary(op, xo, outDtype)), x.shape);
}

/** Runs a binary kernel over the broadcast shape (no gradient recording). */
function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, outDtype: DType): Tensor {
  const be = sameBackend(op, [a, b]);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const ao = broadcastOperand(a, shape);
  const bo = broadcastOperand(b, shape);
  return fromBuffer(be, runKernel(be.name, op, [ao, bo], () => be.binary(op, ao, bo, outDtype)), shape);
}

function pair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a !== 'object') {
    const tb = asTensor(op, b);
    return [asTensor(op, a, tb), tb];
  }
  const ta = asTensor(op, a);
  return [ta, asTensor(op, b, ta)];
}

/** Arithmetic promotes bool to int32, as adding two booleans counts. */
function arithmeticType(a: Tensor, b: Tensor): DType {
  const t = promoteTypes(a.dtype, b.dtype);
  return t === 'bool' ? 'int32' : t;
}

/** `a + b`, broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair('add', a, b);
  const out = binaryRaw('add', x, y, arithmeticType(x, y));
  // An input that needs no gradient (a constant, a mask) gets none: no wasted reduction to its shape.
  return record('add', out, [x, y], (g) => [x.requiresGrad ? sumToShape(g, x.shape) : null, y.requiresGrad ? sumToShape(g, y.shape) : null]);
}

/** `a − b`, broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair('sub', a, b);
  const out = binaryRaw('sub', x, y, arithmeticType(x, y));
  return record('sub', out, [x, y], (g) => [x.requiresGrad ? sumToShape(g, x.shape) : null, y.requiresGrad ? sumToShape(neg(g), y.shape) : null]);
}

/** `a · b` elementwise, broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair('mul', a, b);
  const out = binaryRaw('mul', x, y, arithmeticType(x, y));
  return record('mul', out, [x, y], (g) => [
    x.requiresGrad ? sumToShape(mul(g, y), x.shape) : null,
    y.requiresGrad ? sumToShape(mul(g, x), y.shape) : null,
  ]);
}

/** `a / b` elementwise (true division: integer inputs give float32), broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair('div', a, b);
  const out = binaryRaw('div', x, y, toFloat(promoteTypes(x.dtype, y.dtype)));
  return record('div', out, [x, y], (g) => [
    sumToShape(div(g, y), x.shape),
    y.requiresGrad ? sumToShape(neg(div(mul(g, out), y)), y.shape) : null,
  ]);
}

/**
 * `a ^ b` elementwise, broadcasting. The gradient with respect to the base is `b · a^(b−1)`, taken as 0
 * where `b = 0` (so `0^0` gives 0, not NaN); with respect to the exponent it is `out · log(a)`, taken as
 * 0 where `a = 0` and `b ≥ 0` (both as PyTorch does).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair('pow', a, b);
  const out = binaryRaw('pow', x, y, arithmeticType(x, y));
  return record('pow', out, [x, y], (g) => [
    x.requiresGrad ? sumToShape(where(eq(y, 0), 0, mul(g, mul(y, pow(x, sub(y, 1))))), x.shape) : null,
    y.requiresGrad
      ? sumToShape(where(logicalAnd(eq(x, 0), ge(y, 0)), 0, mul(g, mul(out, log(x)))), y.shape)
      : null,
  ]);
}

/** Elementwise maximum, broadcasting; on ties the gradient is split evenly (as PyTorch). NaN propagates. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('maximum', a, b);
}

/** Elementwise minimum, broadcasting; on ties the gradient is split evenly (as PyTorch). NaN propagates. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('minimum', a, b);
}

function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(op, a, b);
  const out = binaryRaw(op, x, y, promoteTypes(x.dtype, y.dtype));
  return record(op, out, [x, y], (g) => {
    const xWins = cast(op === 'maximum' ? gt(x, y) : lt(x, y), g.dtype);
    const tie = mul(cast(eq(x, y), g.dtype), 0.5);
    const wx = add(xWins, tie);
    return [sumToShape(mul(g, wx), x.shape), sumToShape(mul(g, sub(1, wx)), y.shape)];
  });
}

function compare(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = pair(op, a, b);
  return binaryRaw(op, x, y, 'bool');
}

/** `a == b` elementwise, as bool. */
export function eq(a: TensorLike, b: TensorLike): Tensor {
  return compare('eq', a, b);
}
/** `a != b` elementwise, as bool. */
export function ne(a: TensorLike, b: TensorLike): Tensor {
  return compare('ne', a, b);
}
/** `a < b` elementwise, as bool. */
export function lt(a: TensorLike, b: TensorLike): Tensor {
  return compare('lt', a, b);
}
/** `a <= b` elementwise, as bool. */
export function le(a: TensorLike, b: TensorLike): Tensor {
  return compare('le', a, b);
}
/** `a > b` elementwise, as bool. */
export function gt(a: TensorLike, b: TensorLike): Tensor {
  return compare('gt', a, b);
}
/** `a >= b` elementwise, as bool. */
export function ge(a: TensorLike, b: TensorLike): Tensor {
  return compare('ge', a, b);
}
/** Logical and (non-zero is true), as bool. */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor {
  return compare('and', a, b);
}
/** Logical or (non-zero is true), as bool. */
export function logicalOr(a: TensorLike, b: TensorLike): Tensor {
  return compare('or', a, b);
}
/** Logical not (zero becomes true), as bool. */
export function logicalNot(a: TensorLike): Tensor {
  return unaryRaw('not', asTensor('logicalNot', a), 'bool');
}

/** A unary op whose output keeps the input dtype (`sameType`) or is floating, with its backward rule. */
function unary(op: UnaryOp, a: TensorLike, sameType: boolean, backward: (x: Tensor, out: Tensor, g: Tensor) => Tensor): Tensor {
  const x = asTensor(op, a);
  const out = unaryRaw(op, x, sameType ? (x.dtype === 'bool' ? 'int32' : x.dtype) : toFloat(x.dtype));
  return record(op, out, [x], (g) => [backward(x, out, g)]);
}

/** `−x`. */
export function neg(x: TensorLike): Tensor {
  return unary('neg', x, true, (_x, _o, g) => neg(g));
}
/** `e^x`. */
export function exp(x: TensorLike): Tensor {
  return unary('exp', x, false, (_x, o, g) => mul(g, o));
}
/** Natural logarithm. */
export function log(x: TensorLike): Tensor {
  return unary('log', x, false, (x, _o, g) => div(g, x));
}
/** `log(1 + x)`, accurate near 0. */
export function log1p(x: TensorLike): Tensor {
  return unary('log1p', x, false, (x, _o, g) => div(g, add(x, 1)));
}
/** Square root. */
export function sqrt(x: TensorLike): Tensor {
  return unary('sqrt', x, false, (_x, o, g) => div(g, mul(o, 2)));
}
/** `1 / √x`. */
export function rsqrt(x: TensorLike): Tensor {
  return unary('rsqrt', x, false, (_x, o, g) => mul(g, mul(pow(o, 3), -0.5)));
}
/** `|x|`; the gradient at 0 is 0. */
export function abs(x: TensorLike): Tensor {
  return unary('abs', x, true, (x, _o, g) => mul(g, sign(x)));
}
/** −1, 0 or 1 by the sign of x; zero gradient. */
export function sign(x: TensorLike): Tensor {
  return unary('sign', x, true, (_x, _o, g) => zerosLike(g));
}
/** Sine. */
export function sin(x: TensorLike): Tensor {
  return unary('sin', x, false, (x, _o, g) => mul(g, cos(x)));
}
/** Cosine. */
export function cos(x: TensorLike): Tensor {
  return unary('cos', x, false, (x, _o, g) => neg(mul(g, sin(x))));
}
/** Hyperbolic tangent. */
export function tanh(x: TensorLike): Tensor {
  return unary('tanh', x, false, (_x, o, g) => mul(g, sub(1, mul(o, o))));
}
/** Logistic sigmoid `1 / (1 + e^(−x))`, stable for large |x|. */
export function sigmoid(x: TensorLike): Tensor {
  return unary('sigmoid', x, false, (_x, o, g) => mul(g, mul(o, sub(1, o))));
}
/** `max(x, 0)`; the gradient at 0 is 0. */
export function relu(x: TensorLike): Tensor {
  return unary('relu', x, true, (x, _o, g) => mul(g, cast(gt(x, 0), g.dtype)));
}
/** The error function. */
export function erf(x: TensorLike): Tensor {
  return unary('erf', x, false, (x, _o, g) => mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))));
}
/** `log(1 + e^x)`, linear above x = 20 (PyTorch's threshold), where its gradient is then exactly 1. */
export function softplus(x: TensorLike): Tensor {
  return unary('softplus', x, false, (x, _o, g) => where(gt(x, 20), g, mul(g, sigmoid(x))));
}

/**
 * The backend's fused exact GELU of float32 `x` (or, given `g`, its input gradient; a strided `g` is
 * copied contiguous first), or null.
 */
function fusedGelu(x: Tensor, g: Tensor | null): Tensor | null {
  const be = x.backend;
  if (be.gelu === undefined || x.dtype !== 'float32' || (g !== null && g.dtype !== 'float32')) return null;
  const xo = operand(x);
  const go = g === null ? null : operand(contiguous(g));
  const buf = runKernel(be.name, g === null ? 'gelu' : 'geluBackward', go === null ? [xo] : [xo, go], () => be.gelu!(xo, go));
  return buf === null ? null : fromBuffer(be, buf, x.shape);
}

/**
 * GELU: `x·Φ(x) = ½x(1 + erf(x/√2))`, or with `approximate: 'tanh'`,
 * `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (PyTorch's two forms). The exact form's gradient is
 * `Φ(x) + x·φ(x) = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π)`; on float32, a backend's fused kernels compute
 * the forward and the first-order backward in one pass each where it has them.
 */
export function gelu(x: TensorLike, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const t = asTensor('gelu', x);
  if (approximate === 'tanh') {
    const inner = mul(add(t, mul(pow(t, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(t, 0.5), add(tanh(inner), 1));
  }
  if (approximate !== 'none') throw new RangeError(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  const out = fusedGelu(t, null) ?? noGrad(() => mul(mul(t, 0.5), add(erf(mul(t, Math.SQRT1_2)), 1)));
  return record('gelu', out, [t], (g) => {
    // Fused only when nothing is recorded; composed (differentiable again) otherwise.
    const fused = isGradEnabled() ? null : fusedGelu(t, g);
    if (fused !== null) return [fused];
    const density = mul(exp(mul(mul(t, t), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [mul(g, add(mul(add(erf(mul(t, Math.SQRT1_2)), 1), 0.5), mul(t, density)))];
  });
}

/** SiLU (swish): `x · sigmoid(x)`. */
export function silu(x: TensorLike): Tensor {
  const t = asTensor('silu', x);
  return mul(t, sigmoid(t));
}

/** `cond ? a : b` elementwise, broadcasting all three; `cond` is read as bool. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const c = asTensor('where', cond);
  const [x, y] = pair('where', a, b);
  const be = sameBackend('where', [c, x, y]);
  const shape = broadcastShapes('where', c.shape, x.shape, y.shape);
  const [co, xo, yo] = [broadcastOperand(c, shape), broadcastOperand(x, shape), broadcastOperand(y, shape)];
  const outDtype = promoteTypes(x.dtype, y.dtype);
  const out = fromBuffer(be, runKernel(be.name, 'where', [co, xo, yo], () => be.where(co, xo, yo, outDtype)), shape);
  return record('where', out, [x, y], (g) => {
    const zero = mul(g, 0);
    return [x.requiresGrad ? sumToShape(where(c, g, zero), x.shape) : null, y.requiresGrad ? sumToShape(where(c, zero, g), y.shape) : null];
  });
}

/**
 * Clamps into `[min, max]` (either bound may be omitted; bounds may be tensors, broadcasting). The
 * gradient reaches `x` where `min ≤ x ≤ max`, as in PyTorch; bounds get no gradient.
 */
export function clamp(x: TensorLike, min?: TensorLike, max?: TensorLike): Tensor {
  const t = asTensor('clamp', x);
  if (min === undefined && max === undefined) throw new RangeError('clamp: give at least one of min and max');
  const inside = (v: Tensor): Tensor => {
    let m = v;
    if (min !== undefined) m = where(ge(t, min), m, 0);
    if (max !== undefined) m = where(le(t, max), m, 0);
    return m;
  };
  const bound = (op: 'maximum' | 'minimum', v: Tensor, b: TensorLike): Tensor => {
    const [p, q] = pair('clamp', v, b);
    return binaryRaw(op, p, q, promoteTypes(p.dtype, q.dtype));
  };
  const lo = min === undefined ? t : bound('maximum', t, min);
  const out = max === undefined ? lo : bound('minimum', lo, max);
  // Tensor bounds may broadcast `x` to a larger shape: sum the gradient back to `x`'s.
  return record('clamp', out, [t], (g) => [sumToShape(inside(g), t.shape)]);
}

/** A copy of `x` as `dtype` (floats to int32 truncate toward zero; anything non-zero is true). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = asTensor('cast', x);
  checkDType('cast', dtype);
  if (t.dtype === dtype) return t;
  const be = t.backend;
  const buf = be.alloc(dtype, t.size);
  const src = operand(t);
  const dst = { buffer: buf, shape: t.shape, strides: contiguousStrides(t.shape), offset: 0 };
  runKernel(be.name, 'cast', [src], () => be.copy(src, dst));
  const out = fromBuffer(be, buf, t.shape);
  if (!isFloat(dtype)) return out;
  return record('cast', out, [t], (g) => [cast(g, t.dtype)]);
}
