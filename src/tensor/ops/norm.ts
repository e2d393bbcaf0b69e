/**
 * Layer norm and RMS norm over trailing axes, as functions (`torch.nn.functional.layer_norm` and
 * `rms_norm`), each one recorded op with its backward written in differentiable tensor ops. Over N
 * normalised elements, with x̂ the normalised input, r the reciprocal deviation and ĝ = g·w:
 *
 * - layer norm: `μ = Σx/N`, `r = 1/√(Σ(x − μ)²/N + eps)`, `x̂ = (x − μ)·r`, `y = x̂·w + b`;
 *   `dx = ((ĝ − mean ĝ) − x̂·mean(ĝ·x̂))·r`;
 * - RMS norm: `r = 1/√(Σx²/N + eps)`, `x̂ = x·r`, `y = x̂·w`; `dx = (ĝ − x̂·mean(ĝ·x̂))·r`;
 * - both: `dw = Σ_rows g·x̂`, `db = Σ_rows g`.
 *
 * On float32 with contiguous rows, a backend's fused kernels (`Backend.norm`, `normBackward`) run the
 * forward and the first-order backward in one pass each; otherwise, and whenever the backward is itself
 * recorded (gradients of gradients), the same formulas are composed from primitive ops.
 * @module
 */
import { isGradEnabled, noGrad, record } from '../autograd.js';
import type { NormKind, Operand } from '../backend.js';
import { runKernel } from '../debug.js';
import { fmt, isContiguous, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul, rsqrt, sub } from './arithmetic.js';
import { checkFloat, fromBuffer, sameBackend } from './core.js';
import { mean, sumToShape } from './reduce.js';
import { contiguous } from './views.js';

/** `t` viewed as `[rows, n]` rows of its trailing `n` elements, when it is contiguous; else null. */
function rowsOperand(t: Tensor, n: number): Operand | null {
  if (!isContiguous(t.shape, t.strides)) return null;
  const rows = n === 0 ? 0 : t.size / n;
  return { buffer: t.buffer, shape: [rows, n], strides: [n, 1], offset: t.offset };
}

function check(op: string, x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null, bias: Tensor | null, eps: number): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  checkFloat(op, x);
  const k = shape.length;
  if (k === 0 || x.ndim < k || shape.some((d, i) => d !== x.shape[x.ndim - k + i])) {
    throw new RangeError(`${op}: expected input [..., ${shape.join(', ')}], got ${fmt(x.shape)}`);
  }
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p === null) continue;
    if (!sameShape(p.shape, shape)) throw new RangeError(`${op}: ${name} must have the normalized shape ${fmt(shape)}, got ${fmt(p.shape)}`);
    if (p.dtype !== x.dtype) throw new TypeError(`${op}: ${name} is ${p.dtype} but the input is ${x.dtype}`);
  }
  if (!(eps >= 0 && Number.isFinite(eps))) throw new RangeError(`${op}: eps must be a finite number ≥ 0, got ${eps}`);
  sameBackend(op, [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])]);
  return shape.map((_, i) => x.ndim - k + i);
}

function normOp(kind: NormKind, x: Tensor, axes: number[], weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const be = x.backend;
  const name = kind === 'layer' ? 'layerNorm' : 'rmsNorm';
  const f32 = x.dtype === 'float32';
  const vec = (p: Tensor | null): Operand | null | undefined => (p === null ? null : (rowsOperand(p, n) ?? undefined));
  let out: Tensor | null = null;
  if (f32 && be.norm !== undefined) {
    const [xo, wo, bo] = [rowsOperand(x, n), vec(weight), vec(bias)];
    if (xo !== null && wo !== undefined && bo !== undefined) {
      const buf = runKernel(be.name, name, [xo], () => be.norm!(kind, xo, wo, bo, eps));
      if (buf !== null) out = fromBuffer(be, buf, x.shape);
    }
  }
  out ??= noGrad(() => {
    const centred = kind === 'layer' ? sub(x, mean(x, axes, true)) : x;
    let y = mul(centred, rsqrt(add(mean(mul(centred, centred), axes, true), eps)));
    if (weight) y = mul(y, weight);
    if (bias) y = add(y, bias);
    return y;
  });
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(name, out, inputs, (g) => {
    const grads = backward(kind, name, x, axes, n, weight, bias, eps, g);
    return [grads.dx, ...(weight ? [grads.dw] : []), ...(bias ? [grads.db] : [])];
  });
}

interface Grads {
  dx: Tensor | null;
  dw: Tensor | null;
  db: Tensor | null;
}

function backward(
  kind: NormKind,
  name: string,
  x: Tensor,
  axes: number[],
  n: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  g: Tensor,
): Grads {
  const be = x.backend;
  if (!isGradEnabled() && be.normBackward !== undefined && x.dtype === 'float32' && g.dtype === 'float32') {
    // Strided x or g (an expanded gradient) are copied: one pass, still fewer than the composition.
    const [xo, go, wo] = [rowsOperand(contiguous(x), n), rowsOperand(contiguous(g), n), weight === null ? null : rowsOperand(weight, n)];
    if (xo !== null && go !== null && (weight === null || wo !== null)) {
      const r = runKernel(be.name, `${name}Backward`, [xo, go], () => be.normBackward!(kind, xo, wo, bias !== null, go, eps));
      if (r !== null) {
        return {
          dx: fromBuffer(be, r.dx, x.shape),
          dw: r.dweight && weight ? fromBuffer(be, r.dweight, weight.shape) : null,
          db: r.dbias && bias ? fromBuffer(be, r.dbias, bias.shape) : null,
        };
      }
    }
  }
  // The module's formulas, from x again (so that a recorded backward differentiates μ and r too).
  const centred = kind === 'layer' ? sub(x, mean(x, axes, true)) : x;
  const r = rsqrt(add(mean(mul(centred, centred), axes, true), eps));
  const xhat = mul(centred, r);
  const gh = weight ? mul(g, weight) : g;
  const proj = mul(xhat, mean(mul(gh, xhat), axes, true));
  const dx = x.requiresGrad ? mul(sub(kind === 'layer' ? sub(gh, mean(gh, axes, true)) : gh, proj), r) : null;
  return {
    dx,
    dw: weight?.requiresGrad ? sumToShape(mul(g, xhat), weight.shape) : null,
    db: bias?.requiresGrad ? sumToShape(g, bias.shape) : null,
  };
}

/**
 * Layer norm over the trailing `normalizedShape` axes (a number for the last axis alone), as
 * `torch.nn.functional.layer_norm`: `(x − μ)/√(σ² + eps)·weight + bias` with the population variance σ².
 * `weight` and `bias` (optional) have the normalized shape; a float input is required.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const axes = check('layerNorm', x, normalizedShape, weight, bias, eps);
  return normOp('layer', x, axes, weight, bias, eps);
}

/**
 * RMS norm over the trailing `normalizedShape` axes, as `torch.nn.functional.rms_norm`:
 * `x/√(mean(x²) + eps)·weight`, `weight` (optional) having the normalized shape.
 */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null = null, eps = 1e-6): Tensor {
  const axes = check('rmsNorm', x, normalizedShape, weight, null, eps);
  return normOp('rms', x, axes, weight, null, eps);
}
