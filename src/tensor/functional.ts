/**
 * JAX-style function transformations over tensors: `grad`, `valueAndGrad`, `vjp`. They compose
 * (`grad(grad(f))`): when an argument already takes part in an outer differentiation, the inner pass
 * records its backward computation so the outer one can differentiate through it.
 * @module
 */
import { backprop, enableGrad, seedGrad } from './autograd.js';
import { fmt } from './shape.js';
import { Tensor } from './tensor.js';
import { zerosLike } from './ops/creation.js';

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which arguments to differentiate with respect to (default 0). An array gives an array of gradients. */
  argnums?: number | readonly number[];
}

/** A function of tensors returning a tensor. */
export type TensorFn = (...args: Tensor[]) => Tensor;

/** How many transformations are evaluating their function right now (grad inside grad …). */
let depth = 0;

function nested<T>(fn: () => T): T {
  depth++;
  try {
    return enableGrad(fn);
  } finally {
    depth--;
  }
}

function prepare(op: string, args: readonly Tensor[], nums: readonly number[]): { inputs: Tensor[]; traced: boolean } {
  // Inside another transformation, the inner backward must be recorded: the outer one may be
  // differentiating through it, via an argument or via a tensor the function closes over.
  let traced = depth > 0;
  const inputs = args.map((a, i) => {
    if (!(a instanceof Tensor)) throw new TypeError(`${op}: argument ${i} is not a Tensor`);
    // Any argument that takes part in an outer differentiation, differentiated here or not, means the
    // inner pass must record its backward (e.g. the mixed partial grad(grad(f, {argnums: 0}), {argnums: 1})).
    if (a.requiresGrad) traced = true;
    if (!nums.includes(i) || a.requiresGrad) return a;
    return a.detach().requiresGrad_(true);
  });
  return { inputs, traced };
}

function argnumList(op: string, argnums: number | readonly number[] | undefined, n: number): number[] {
  const list = argnums === undefined ? [0] : typeof argnums === 'number' ? [argnums] : argnums.slice();
  for (const k of list) {
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new RangeError(`${op}: argnum ${k} is out of range for ${n} arguments`);
  }
  return list;
}

function differentiate(op: string, f: TensorFn, args: Tensor[], opts: GradOptions): { value: Tensor; grads: Tensor[] } {
  const nums = argnumList(op, opts.argnums, args.length);
  const { inputs, traced } = prepare(op, args, nums);
  const value = nested(() => f(...inputs));
  if (!(value instanceof Tensor)) throw new TypeError(`${op}: the function must return a Tensor`);
  if (value.size !== 1) throw new RangeError(`${op}: the function must return a scalar, got shape ${fmt(value.shape)}`);
  const targets = nums.map((k) => inputs[k]!);
  const grads = value.requiresGrad
    ? backprop([value], [seedGrad(op, value, undefined)], { inputs: targets, createGraph: traced })
    : targets.map(() => null);
  return {
    value: traced ? value : value.detach(),
    grads: grads.map((g, i) => g ?? zerosLike(targets[i]!)),
  };
}

/**
 * The gradient of a scalar-valued `f` with respect to argument 0 (or `argnums`), as a function.
 *
 * @example
 * const dsin = grad((x) => x.sin().sum());
 * dsin(tensor([0, 1])); // cos([0, 1])
 * grad(grad((x) => x.pow(3).sum()))(tensor(2)); // 12
 */
export function grad(f: TensorFn, opts: GradOptions = {}): (...args: Tensor[]) => Tensor | Tensor[] {
  return (...args) => {
    const { grads } = differentiate('grad', f, args, opts);
    return Array.isArray(opts.argnums) ? grads : grads[0]!;
  };
}

/** Like {@link grad}, also returning the value of `f`: `[value, gradient(s)]`. */
export function valueAndGrad(f: TensorFn, opts: GradOptions = {}): (...args: Tensor[]) => [Tensor, Tensor | Tensor[]] {
  return (...args) => {
    const { value, grads } = differentiate('valueAndGrad', f, args, opts);
    return [value, Array.isArray(opts.argnums) ? grads : grads[0]!];
  };
}

/**
 * Evaluates `f` at `primals` and returns its output with a function that maps an output cotangent to
 * the cotangents of every primal (vector-Jacobian products), as `jax.vjp`.
 *
 * @example
 * const [y, back] = vjp((x) => x.mul(x), tensor([1, 2]));
 * back(tensor([1, 1])); // [tensor([2, 4])]
 */
export function vjp(f: TensorFn, ...primals: Tensor[]): [Tensor, (cotangent: Tensor) => Tensor[]] {
  const nums = primals.map((_, i) => i);
  const { inputs, traced } = prepare('vjp', primals, nums);
  const out = nested(() => f(...inputs));
  if (!(out instanceof Tensor)) throw new TypeError('vjp: the function must return a Tensor');
  const back = (cotangent: Tensor): Tensor[] => {
    if (!out.requiresGrad) return inputs.map((x) => zerosLike(x));
    const gs = backprop([out], [seedGrad('vjp', out, cotangent)], { inputs, createGraph: traced || cotangent.requiresGrad });
    return gs.map((g, i) => g ?? zerosLike(inputs[i]!));
  };
  return [traced ? out : out.detach(), back];
}

/** `x` cut from the graph: gradients do not flow through it (as `jax.lax.stop_gradient`). */
export function stopGradient(x: Tensor): Tensor {
  return x.detach();
}
