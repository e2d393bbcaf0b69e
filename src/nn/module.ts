/**
 * `Module`: the base class of layers and models, as `torch.nn.Module`. A module registers its parameters,
 * buffers and submodules by name, so that they can be listed with dotted names
 * (`blocks.0.attn.qProj.weight`), frozen, counted, saved and loaded.
 * @module
 */
import { noGrad, type Tensor } from '../tensor/index.js';

/** A selection of parameters by dotted-name prefix, or by a predicate on name and tensor. */
export type ParamFilter = string | ((name: string, p: Tensor) => boolean);

/** Named tensors, as `stateDict()` returns and `loadStateDict()` takes. */
export type StateDict = Record<string, Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadOptions {
  /** Throw when a key is missing or unexpected (default true). Mis-shaped keys always throw. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match. */
export interface LoadResult {
  /** Keys the module has but the state dict lacks. */
  missing: string[];
  /** Keys the state dict has but the module lacks. */
  unexpected: string[];
}

function matches(filter: ParamFilter, name: string, p: Tensor): boolean {
  return typeof filter === 'string' ? name === filter || name.startsWith(filter.endsWith('.') ? filter : filter + '.') : filter(name, p);
}

/**
 * Base class of all layers. Subclasses create their parts in the constructor with {@link param},
 * {@link buffer} and {@link module}, and define a `forward` method with whatever signature fits.
 *
 * @example
 * class Affine extends Module {
 *   readonly w = this.param('weight', randn([3, 2]));
 *   forward(x: Tensor): Tensor { return x.matmul(this.w); }
 * }
 */
export class Module {
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, { t: Tensor; persistent: boolean }>();
  #children = new Map<string, Module>();
  #training = true;

  /** Registers `t` as a trainable parameter called `name` (it is made to require gradients). */
  protected param(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    if (!t.isLeaf) throw new Error(`Module.param: '${name}' must be a leaf tensor (detach it first)`);
    t.requiresGrad = true;
    this.#params.set(name, t);
    return t;
  }

  /**
   * Registers `t` as a buffer: state that is not trained (running statistics, RoPE tables). Persistent
   * buffers are part of the state dict.
   */
  protected buffer(name: string, t: Tensor, persistent = true): Tensor {
    this.#checkName(name);
    this.#buffers.set(name, { t, persistent });
    return t;
  }

  /** Registers a submodule called `name`. */
  protected module<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    if (!(m instanceof Module)) throw new TypeError(`Module.module: '${name}' is not a Module`);
    this.#children.set(name, m);
    return m;
  }

  #checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new RangeError(`Module: invalid name '${name}' (non-empty, no dots)`);
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new RangeError(`Module: '${name}' is already registered`);
    }
  }

  /** Every submodule with its dotted name, this module first (named ''), depth first in registration order. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** The direct submodules, in registration order. */
  children(): Module[] {
    return [...this.#children.values()];
  }

  /** Every parameter with its dotted name, in registration order (a shared tensor is listed once). */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, p] of m.#params) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${n}` : n, p]);
      }
    }
    return out;
  }

  /** Every parameter, in the order of {@link namedParameters}. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, b] of m.#buffers) out.push([prefix ? `${prefix}.${n}` : n, b.t]);
    }
    return out;
  }

  /** The number of parameter elements (only those that require gradients when `trainableOnly`). */
  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /** Stops gradients for the selected parameters (a dotted-name prefix or a predicate); returns this. */
  freeze(filter: ParamFilter): this {
    return this.#setTrainable(filter, false);
  }

  /** Re-enables gradients for the selected parameters; returns this. */
  unfreeze(filter: ParamFilter): this {
    return this.#setTrainable(filter, true);
  }

  #setTrainable(filter: ParamFilter, on: boolean): this {
    let hit = 0;
    for (const [n, p] of this.namedParameters()) {
      if (matches(filter, n, p)) {
        p.requiresGrad = on;
        if (!on) p.grad = null;
        hit++;
      }
    }
    if (hit === 0 && typeof filter === 'string') {
      throw new RangeError(`${on ? 'unfreeze' : 'freeze'}: no parameter is named '${filter}' or starts with '${filter}.'`);
    }
    return this;
  }

  /** True in training mode (the default), false after {@link eval}. */
  get training(): boolean {
    return this.#training;
  }

  /** Sets training mode on this module and every submodule; returns this. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.#training = on;
    return this;
  }

  /** Sets evaluation mode (dropout off); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and persistent buffers by dotted name. The tensors are the live ones, not copies. */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [prefix, m] of this.namedModules()) {
      const key = (n: string): string => (prefix ? `${prefix}.${n}` : n);
      for (const [n, p] of m.#params) sd[key(n)] ??= p;
      for (const [n, b] of m.#buffers) if (b.persistent) sd[key(n)] ??= b.t;
    }
    return sd;
  }

  /**
   * Copies values from `sd` into this module's parameters and buffers (converting dtypes). Every key of
   * the wrong shape is named in one error; with `strict` (the default), so is every missing or unexpected
   * key. Nothing is written unless all checks pass.
   */
  loadStateDict(sd: StateDict, opts: LoadOptions = {}): LoadResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !(k in own));
    const misshaped = Object.keys(own)
      .filter((k) => k in sd && (sd[k]!.shape.length !== own[k]!.shape.length || sd[k]!.shape.some((d, i) => d !== own[k]!.shape[i])))
      .map((k) => `${k}: expected [${own[k]!.shape.join(',')}], got [${sd[k]!.shape.join(',')}]`);
    const problems: string[] = [];
    if (misshaped.length) problems.push(`mis-shaped keys: ${misshaped.join('; ')}`);
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (problems.length) throw new Error(`loadStateDict: ${problems.join('. ')}`);
    noGrad(() => {
      for (const k of Object.keys(own)) if (k in sd) own[k]!.copy_(sd[k]!);
    });
    return { missing, unexpected };
  }
}

/** An indexable list of modules, registered as `0`, `1`, … (as `torch.nn.ModuleList`). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly #items: M[] = [];

  /** A list holding `items`. */
  constructor(items: readonly M[] = []) {
    super();
    for (const m of items) this.push(m);
  }

  /** Appends a module. */
  push(m: M): void {
    this.module(String(this.#items.length), m);
    this.#items.push(m);
  }

  /** The module at index `i`. */
  at(i: number): M {
    const m = this.#items[i];
    if (m === undefined) throw new RangeError(`ModuleList: index ${i} is out of range for ${this.#items.length} modules`);
    return m;
  }

  /** The number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}
