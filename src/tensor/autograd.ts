/**
 * Reverse-mode automatic differentiation. Each op records a {@link GradNode} whose backward rule is
 * written in differentiable tensor ops, so gradients of gradients work. The graph is walked in an
 * iterative, deterministic topological order (no recursion: deep chains cannot overflow the stack).
 * @module
 */
import { sameShape, fmt } from './shape.js';
import type { Tensor } from './tensor.js';
import { add } from './ops/arithmetic.js';
import { onesLike } from './ops/creation.js';

/** Sends the output gradient `g` back to each input; `null` where an input gets no gradient. */
export type BackwardFn = (g: Tensor) => readonly (Tensor | null)[];

/** One recorded op: its name, its inputs, and its backward rule. */
export class GradNode {
  /** The op's name, for error messages and debugging. */
  readonly name: string;
  /** The tensors the op read, in the order its backward rule returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** The backward rule. */
  readonly backward: BackwardFn;

  /** Creates a node; ops do this through {@link record}. */
  constructor(name: string, inputs: readonly Tensor[], backward: BackwardFn) {
    this.name = name;
    this.inputs = inputs;
    this.backward = backward;
  }
}

let gradEnabled = true;

/** True unless inside {@link noGrad}. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = on;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs `fn` without recording gradients (as `torch.no_grad`). `fn` must be synchronous: the mode is
 * restored when it returns.
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside {@link noGrad}. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/**
 * Attaches a backward rule to `out` when recording is on and some input requires a gradient; returns `out`.
 * Every differentiable op calls this right after computing its output; so can a user's custom op (as
 * `torch.autograd.Function`), computing `out` under {@link noGrad} and giving its own rule.
 *
 * @example
 * const out = noGrad(() => x.exp());
 * record('myExp', out, [x], (g) => [g.mul(out)]);
 */
export function record(name: string, out: Tensor, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return out;
  out.setGradFn(new GradNode(name, inputs, backward));
  return out;
}

/** Tensors reachable from `roots` through recorded nodes, inputs before the tensors computed from them. */
function topoOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<Tensor, number>(); // 1 = on the stack, 2 = done
  const stack: { t: Tensor; next: number }[] = [];
  for (const root of roots) {
    if (state.has(root)) continue;
    state.set(root, 1);
    stack.push({ t: root, next: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const inputs = top.t.gradFn?.inputs ?? [];
      if (top.next < inputs.length) {
        const child = inputs[top.next++]!;
        if (child.requiresGrad && !state.has(child)) {
          state.set(child, 1);
          stack.push({ t: child, next: 0 });
        }
      } else {
        state.set(top.t, 2);
        order.push(top.t);
        stack.pop();
      }
    }
  }
  return order;
}

/** Options of {@link backprop}. */
export interface BackpropOptions {
  /** Record the backward computation so its results can be differentiated again. */
  createGraph?: boolean;
  /** Return the gradients of these tensors instead of accumulating into leaves' `.grad`. */
  inputs?: readonly Tensor[];
}

/**
 * The engine: propagates `grads` (one per root, same shapes) back through the graph. Without
 * `inputs`, gradients accumulate into the `.grad` of leaf tensors that require them; with `inputs`,
 * their gradients are returned (`null` where an input is not reached) and no `.grad` changes.
 */
export function backprop(
  roots: readonly Tensor[],
  grads: readonly Tensor[],
  opts: BackpropOptions = {},
): (Tensor | null)[] {
  const createGraph = opts.createGraph ?? false;
  const wanted = opts.inputs ? new Set(opts.inputs) : null;
  const found = new Map<Tensor, Tensor>();
  const pending = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, g: Tensor): void => {
    const prev = pending.get(t);
    pending.set(t, prev === undefined ? g : withGradMode(createGraph, () => add(prev, g)));
  };
  roots.forEach((r, i) => {
    const g = grads[i]!;
    if (!sameShape(g.shape, r.shape)) {
      throw new RangeError(`backward: gradient shape ${fmt(g.shape)} does not match output shape ${fmt(r.shape)}`);
    }
    if (r.requiresGrad) accumulate(r, g);
  });
  const order = topoOrder(roots.filter((r) => r.requiresGrad));
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = pending.get(t);
    if (g === undefined) continue;
    pending.delete(t);
    if (wanted?.has(t)) found.set(t, g);
    const node = t.gradFn;
    if (node === null) {
      if (wanted === null) t.accumulateGrad(createGraph ? g : g.detach());
      continue;
    }
    const inputGrads = withGradMode(createGraph, () => node.backward(g));
    node.inputs.forEach((inp, k) => {
      const gi = inputGrads[k];
      if (gi === null || gi === undefined || !inp.requiresGrad) return;
      if (!sameShape(gi.shape, inp.shape)) {
        throw new Error(`backward of ${node.name}: gradient shape ${fmt(gi.shape)} != input shape ${fmt(inp.shape)}`);
      }
      accumulate(inp, gi);
    });
  }
  return opts.inputs ? opts.inputs.map((t) => found.get(t) ?? null) : [];
}

/** The seed gradient of a root: ones for a scalar, else the caller's. */
export function seedGrad(op: string, root: Tensor, g: Tensor | undefined): Tensor {
  if (g !== undefined) return g;
  if (root.size !== 1) {
    throw new RangeError(`${op}: a gradient can be created implicitly only for a scalar output, got shape ${fmt(root.shape)}`);
  }
  return onesLike(root);
}
