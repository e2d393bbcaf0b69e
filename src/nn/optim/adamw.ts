/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), step for step as `torch.optim.AdamW`.
 * @module
 */
import { adamwUpdate, maximum, zerosLike, type Tensor } from '../../tensor/index.js';
import { Optimizer, type ParamState, type ParamsInput } from './optimizer.js';

/** Settings of {@link AdamW}, per group (PyTorch's defaults). */
export type AdamWOptions = {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates (β₁, β₂) of the first and second moment averages (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** Decoupled weight decay λ: `p ← p − lr·λ·p` before the Adam step (default 1e-2). */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
};

/**
 * AdamW, as `torch.optim.AdamW`. For each parameter with a gradient g, at step t:
 * `p ← p·(1 − lr·λ)`; `m ← m + (1 − β₁)(g − m)`; `v ← β₂v + (1 − β₂)g²`;
 * `p ← p − (lr / (1 − β₁ᵗ))·m / (√v̂ / √(1 − β₂ᵗ) + ε)` with v̂ = v (or its running maximum with
 * AMSGrad). Parameters never stepped (no gradient) are not decayed either. Without AMSGrad, a backend's
 * fused kernel (`adamwUpdate`) does the whole step in one pass where it has one, with the same float32
 * operations in the same order (so the same numbers).
 *
 * @example
 * const opt = new AdamW([
 *   { params: decayed, weightDecay: 0.1 },
 *   { params: norms, weightDecay: 0 },
 * ], { lr: 3e-4 });
 */
export class AdamW extends Optimizer<AdamWOptions> {
  /** An optimiser over `params` (tensors, or groups with their own settings); `defaults` fill the rest. */
  constructor(params: ParamsInput<AdamWOptions>, defaults: Partial<AdamWOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...defaults });
  }

  /** Checks one group's settings. */
  protected validate(g: AdamWOptions): void {
    if (!(g.lr >= 0)) throw new RangeError(`AdamW: invalid learning rate ${g.lr}`);
    if (!(g.eps >= 0)) throw new RangeError(`AdamW: invalid eps ${g.eps}`);
    if (!Array.isArray(g.betas) || g.betas.length !== 2) throw new RangeError(`AdamW: betas must be a pair, got ${JSON.stringify(g.betas)}`);
    g.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new RangeError(`AdamW: invalid beta parameter at index ${i}: ${b}`);
    });
    if (!(g.weightDecay >= 0)) throw new RangeError(`AdamW: invalid weightDecay ${g.weightDecay}`);
  }

  /** One parameter's update (PyTorch's `_single_tensor_adamw`, op for op, so the numbers agree). */
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: AdamWOptions): Tensor | null {
    const [beta1, beta2] = g.betas;
    const d = g.maximize ? grad.neg() : grad;
    const s = state.tensors;
    const m0 = s.expAvg ?? zerosLike(p);
    const v0 = s.expAvgSq ?? zerosLike(p);
    const step = (state.numbers.step ?? 0) + 1;
    state.numbers.step = step;

    if (!g.amsgrad) {
      const { lr, eps, weightDecay, maximize } = g;
      const fused = adamwUpdate(p, grad, m0, v0, { lr, beta1, beta2, eps, weightDecay, step, maximize });
      if (fused !== null) {
        s.expAvg = fused.m;
        s.expAvgSq = fused.v;
        return null;
      }
    }

    const decayed = g.weightDecay !== 0 ? p.mul(1 - g.lr * g.weightDecay) : p;
    // m.lerp_(g, 1 − β₁), with torch's two-sided lerp formula.
    const w = 1 - beta1;
    const m = w < 0.5 ? m0.add(d.sub(m0).mul(w)) : d.sub(d.sub(m0).mul(1 - w));
    // v.mul_(β₂).addcmul_(g, g, value=1 − β₂)
    const v = v0.mul(beta2).add(d.mul(1 - beta2).mul(d));
    s.expAvg = m;
    s.expAvgSq = v;
    let vHat = v;
    if (g.amsgrad) {
      vHat = s.maxExpAvgSq === undefined ? v : maximum(s.maxExpAvgSq, v);
      s.maxExpAvgSq = vHat;
    }
    const stepSize = g.lr / (1 - beta1 ** step);
    const denom = vHat.sqrt().div(Math.sqrt(1 - beta2 ** step)).add(g.eps);
    // p.addcdiv_(m, denom, value=−stepSize)
    return decayed.add(m.mul(-stepSize).div(denom));
  }
}
