/**
 * `Optimizer`: the base of the optimisers, as `torch.optim.Optimizer`. It holds parameter groups (each
 * with its own hyper-parameters), per-parameter state, and saves and restores that state in a form that
 * goes into a checkpoint beside the model's weights.
 * @module
 */
import { formatShape, keep, noGrad, Tensor } from '../../tensor/index.js';

/** Hyper-parameters: plain numbers, booleans and number pairs (JSON-serialisable). */
export type HyperValue = number | boolean | readonly [number, number];

/** A group of parameters and the hyper-parameters that override the optimiser's defaults for them. */
export type ParamGroupSpec<H> = {
  /** The group's parameters (leaf float tensors, each in one group only). */
  params: readonly Tensor[];
} & Partial<H>;

/** A parameter group as the optimiser holds it: every hyper-parameter filled in. Schedules write `lr`. */
export type ParamGroup<H> = {
  /** The group's parameters. */
  params: Tensor[];
} & H;

/** What an optimiser's constructor takes: a list of tensors (one group), or groups with their own settings. */
export type ParamsInput<H> = readonly Tensor[] | readonly ParamGroupSpec<H>[];

/** An optimiser's state, split into tensors and a JSON-serialisable rest. */
export interface OptimizerStateDict {
  /**
   * Per-parameter tensors, keyed `state.<i>.<name>` (`state.3.expAvg`), `i` being the parameter's index
   * counting through the groups in order, as PyTorch numbers them. Prefix the keys (`optim.`) to save them
   * in the same safetensors file as the model.
   */
  tensors: Record<string, Tensor>;
  /** Everything else: what the optimiser is, its groups and per-parameter counters (`JSON.stringify` it). */
  meta: OptimizerMeta;
}

/** A parameter group in an {@link OptimizerMeta}: its settings, and its parameters as indices. */
export interface SavedParamGroup {
  /** The indices of the group's parameters. */
  params: number[];
  /** The group's settings by name. */
  [setting: string]: HyperValue | number[];
}

/** The JSON-serialisable part of an {@link OptimizerStateDict}. */
export interface OptimizerMeta {
  /** The optimiser's name (`'AdamW'`, `'SGD'`); loading into another kind throws. */
  type: string;
  /** Each group's hyper-parameters and the indices of its parameters. */
  paramGroups: SavedParamGroup[];
  /** Per-parameter numbers (step counts), keyed by parameter index. */
  state: Record<string, Record<string, number>>;
}

/** One parameter's state: tensors (moments, buffers) and numbers (step counts). */
export interface ParamState {
  /** Tensors of the parameter's shape and dtype. */
  tensors: Record<string, Tensor>;
  /** Counters. */
  numbers: Record<string, number>;
}

/**
 * Base class of optimisers. A subclass gives its name and defaults to the constructor and implements
 * {@link update} for one parameter; the base walks the groups, skips parameters without a gradient, and
 * handles state, `zeroGrad` and checkpoints.
 *
 * Updates write into the parameters in place (under `noGrad`), so modules keep their tensors. State
 * tensors are replaced, never written into, so a state dict taken earlier stays a snapshot.
 */
export abstract class Optimizer<H extends object> {
  /** The groups, in order; change a group's `lr` (or other settings) between steps to adjust it. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** The settings a group gets when it does not give its own. */
  readonly defaults: Readonly<H>;
  readonly #name: string;
  readonly #state = new Map<Tensor, ParamState>();

  /** Creates the optimiser `name` over `params`, with `defaults` filling each group's unset settings. */
  protected constructor(name: string, params: ParamsInput<H>, defaults: H) {
    this.#name = name;
    this.defaults = Object.freeze({ ...defaults });
    if (params.length === 0) throw new RangeError(`${name}: got an empty parameter list`);
    const groups: ParamGroupSpec<H>[] = isTensorList(params) ? [{ params } as ParamGroupSpec<H>] : [...(params as readonly ParamGroupSpec<H>[])];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group (as `add_param_group`); its unset settings come from the defaults. */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const name = this.#name;
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.params)) {
      throw new TypeError(`${name}: a parameter group must be an object with a 'params' array`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    spec.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${name}: params[${i}] is not a Tensor`);
      if (!p.isLeaf) throw new Error(`${name}: params[${i}] ${formatShape(p.shape)} is not a leaf tensor (optimise the leaf, not a result)`);
      if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new TypeError(`${name}: params[${i}] must be float32 or float64, got ${p.dtype}`);
      if (seen.has(p)) throw new Error(`${name}: params[${i}] ${formatShape(p.shape)} appears in more than one place (groups must not share parameters)`);
      seen.add(p);
    });
    for (const k of Object.keys(spec)) {
      if (k !== 'params' && !(k in this.defaults)) {
        throw new RangeError(`${name}: unknown setting '${k}' in a parameter group (known: ${Object.keys(this.defaults).join(', ')})`);
      }
    }
    const group = { ...this.defaults, ...spec, params: [...spec.params] } as ParamGroup<H>;
    this.validate(group);
    this.paramGroups.push(group);
  }

  /** Throws when a group's settings are out of range. */
  protected abstract validate(group: H): void;

  /**
   * Computes one parameter's update: returns its new value (or null to leave it) given its gradient, its
   * state (filled in by the subclass on the first step) and its group's settings. Runs under `noGrad`.
   */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: H): Tensor | null;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          if (p.grad.ndim !== p.ndim || p.grad.shape.some((d, i) => d !== p.shape[i])) {
            throw new RangeError(`${this.#name}.step: gradient ${formatShape(p.grad.shape)} does not match parameter ${formatShape(p.shape)}`);
          }
          let st = this.#state.get(p);
          if (st === undefined) {
            st = { tensors: {}, numbers: {} };
            this.#state.set(p, st);
          }
          const grad = p.grad.dtype === p.dtype ? p.grad.detach() : p.grad.cast(p.dtype);
          const before = { ...st.tensors };
          const next = this.update(p, grad, st, group);
          if (next !== null) p.copy_(next);
          // State outlives the step: keep it from the caller's scope(), and free what it replaced (on
          // backends with explicit memory; a no-op on the CPU).
          for (const [k, t] of Object.entries(st.tensors)) {
            if (before[k] === t) continue;
            keep(t);
            if (before[k] !== undefined && !Object.values(st.tensors).includes(before[k]!)) before[k]!.dispose();
          }
        }
      }
    });
  }

  /** Clears the gradient of every parameter (sets it to null, as PyTorch's default `set_to_none`). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** The state of parameter `p` (undefined before its first update). */
  stateOf(p: Tensor): Readonly<ParamState> | undefined {
    return this.#state.get(p);
  }

  /**
   * The state to checkpoint: per-parameter tensors (copies, so the dict stays a snapshot after further
   * steps on every backend) and the JSON-serialisable rest.
   */
  stateDict(): OptimizerStateDict {
    const tensors: Record<string, Tensor> = {};
    const state: Record<string, Record<string, number>> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const ids: number[] = [];
      for (const p of g.params) {
        const st = this.#state.get(p);
        if (st !== undefined) {
          for (const [k, t] of Object.entries(st.tensors)) tensors[`state.${index}.${k}`] = noGrad(() => t.clone());
          state[String(index)] = { ...st.numbers };
        }
        ids.push(index++);
      }
      const saved: SavedParamGroup = { params: ids };
      for (const [k, v] of Object.entries(g) as unknown as [string, HyperValue][]) if (k !== 'params') saved[k] = Array.isArray(v) ? [v[0], v[1]] : v;
      return saved;
    });
    return { tensors, meta: { type: this.#name, paramGroups, state } };
  }

  /**
   * Restores a state saved by {@link stateDict} from an optimiser built over the same parameters in the
   * same groups (the parameter values themselves come from the model's state dict). Group settings are
   * restored too. State tensors are copied and converted to each parameter's dtype. Everything is checked
   * before anything changes.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = `${this.#name}.loadStateDict`;
    const { meta, tensors } = sd;
    if (meta.type !== this.#name) throw new Error(`${name}: the state was saved by ${meta.type}, not ${this.#name}`);
    if (meta.paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(`${name}: the state has ${meta.paramGroups.length} parameter groups, this optimiser ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    let index = 0;
    meta.paramGroups.forEach((sg, gi) => {
      const n = this.paramGroups[gi]!.params.length;
      if (sg.params.length !== n) throw new RangeError(`${name}: group ${gi} has ${sg.params.length} parameters in the state, ${n} here`);
      sg.params.forEach((id, j) => {
        if (id !== index + j) throw new RangeError(`${name}: group ${gi} lists parameter ${id} at position ${j}; expected ${index + j}`);
      });
      index += n;
    });
    const byParam = new Map<number, ParamState>();
    const problems: string[] = [];
    for (const [key, t] of Object.entries(tensors)) {
      const m = /^state\.(\d+)\.([A-Za-z0-9_]+)$/.exec(key);
      const p = m ? params[Number(m[1])] : undefined;
      if (!m || p === undefined) {
        problems.push(`unexpected key '${key}'`);
        continue;
      }
      if (t.ndim !== p.ndim || t.shape.some((d, i) => d !== p.shape[i])) {
        problems.push(`${key}: expected ${formatShape(p.shape)}, got ${formatShape(t.shape)}`);
        continue;
      }
      const id = Number(m[1]);
      if (!byParam.has(id)) byParam.set(id, { tensors: {}, numbers: {} });
      byParam.get(id)!.tensors[m[2]!] = t;
    }
    for (const [id, numbers] of Object.entries(meta.state)) {
      if (params[Number(id)] === undefined) {
        problems.push(`state for parameter ${id}, which does not exist`);
        continue;
      }
      if (!byParam.has(Number(id))) byParam.set(Number(id), { tensors: {}, numbers: {} });
      byParam.get(Number(id))!.numbers = { ...numbers };
    }
    if (problems.length) throw new Error(`${name}: ${problems.join('; ')}`);
    const groups = meta.paramGroups.map((sg, gi) => {
      const { params: _ids, ...hyper } = sg;
      const unknown = Object.keys(hyper).filter((k) => !(k in this.defaults));
      if (unknown.length) throw new Error(`${name}: group ${gi} has unknown settings ${unknown.join(', ')}`);
      this.validate({ ...this.defaults, ...hyper } as unknown as H);
      return hyper;
    });

    this.#state.clear();
    noGrad(() => {
      for (const [id, st] of byParam) {
        const p = params[id]!;
        const copied: Record<string, Tensor> = {};
        for (const [k, t] of Object.entries(st.tensors)) copied[k] = t.detach().cast(p.dtype).clone();
        this.#state.set(p, { tensors: copied, numbers: st.numbers });
      }
    });
    groups.forEach((hyper, gi) => {
      const g = this.paramGroups[gi]!;
      for (const [k, v] of Object.entries(hyper)) (g as Record<string, unknown>)[k] = Array.isArray(v) ? [v[0], v[1]] : v;
    });
  }
}

function isTensorList(x: readonly unknown[]): x is readonly Tensor[] {
  return x.every((e) => e instanceof Tensor);
}
