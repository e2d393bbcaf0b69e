/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and (coupled) weight decay,
 * step for step as `torch.optim.SGD`.
 * @module
 */
import type { Tensor } from '../../tensor/index.js';
import { Optimizer, type ParamState, type ParamsInput } from './optimizer.js';

/** Settings of {@link SGD}, per group. */
export type SGDOptions = {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Momentum factor μ (default 0: plain SGD). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay: number;
  /** Use Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
};

/**
 * SGD, as `torch.optim.SGD`. For each parameter with a gradient g:
 * `g ← g + λp`; with momentum, `b ← g` on the first step and `b ← μb + (1 − τ)g` after, then
 * `g ← g + μb` (Nesterov) or `g ← b`; finally `p ← p − lr·g`.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class SGD extends Optimizer<SGDOptions> {
  /** An optimiser over `params` (tensors, or groups with their own settings); `defaults` fill the rest. */
  constructor(params: ParamsInput<SGDOptions>, defaults: Partial<SGDOptions> = {}) {
    super('SGD', params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...defaults });
  }

  /** Checks one group's settings. */
  protected validate(g: SGDOptions): void {
    if (!(g.lr >= 0)) throw new RangeError(`SGD: invalid learning rate ${g.lr}`);
    if (!(g.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new RangeError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (!Number.isFinite(g.dampening)) throw new RangeError(`SGD: invalid dampening ${g.dampening}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires a momentum > 0 and zero dampening');
    }
  }

  /** One parameter's update (PyTorch's `_single_tensor_sgd`, op for op). */
  protected update(p: Tensor, grad: Tensor, state: ParamState, g: SGDOptions): Tensor {
    let d = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(p.mul(g.weightDecay));
    if (g.momentum !== 0) {
      const prev = state.tensors.momentumBuffer;
      const buf = prev === undefined ? d.clone() : prev.mul(g.momentum).add(d.mul(1 - g.dampening));
      state.tensors.momentumBuffer = buf;
      d = g.nesterov ? d.add(buf.mul(g.momentum)) : buf;
    }
    return p.add(d.mul(-g.lr));
  }
}
