/**
 * Making tensors: from data, filled, ranges, identity and random.
 * @module
 */
import type { Backend } from '../backend.js';
import { getBackend } from '../backend-registry.js';
import { allocArray, checkDType, dtypeOfArray, type DType, type TypedArray } from '../dtype.js';
import { defaultGenerator, type Generator } from '../random.js';
import { checkShape, fmt, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromBuffer } from './core.js';

/** Nested arrays of numbers or booleans, any depth. */
export type NestedArray = number | boolean | readonly NestedArray[];

/** Options of the creation functions. */
export interface CreateOptions {
  /** The element type (float32 unless the data says otherwise). */
  dtype?: DType;
  /** Make the tensor a leaf that collects gradients. */
  requiresGrad?: boolean;
}

/** Options of {@link tensor}. */
export interface TensorOptions extends CreateOptions {
  /** The shape of flat data (a typed array or a flat list); defaults to its length. */
  shape?: readonly number[];
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** The random source (the global generator when omitted). */
  generator?: Generator;
}

/** Wraps host values as a tensor on the current backend (the array is copied). */
export function fromHost(data: TypedArray, shape: Shape, opts: CreateOptions = {}, backend: Backend = getBackend()): Tensor {
  const dtype = opts.dtype ?? dtypeOfArray(data) ?? 'float32';
  let host = data;
  if (dtypeOfArray(data) !== dtype) {
    host = allocArray(dtype, data.length);
    if (dtype === 'bool') for (let i = 0; i < data.length; i++) host[i] = data[i] !== 0 ? 1 : 0;
    else host.set(data);
  }
  const buf = backend.alloc(dtype, host.length);
  backend.write(buf, host);
  const t = fromBuffer(backend, buf, shape);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function inferNested(data: NestedArray): { shape: number[]; flat: number[]; bool: boolean } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = (probe as readonly NestedArray[])[0] as NestedArray;
    if (probe === undefined) break;
  }
  const flat: number[] = [];
  let bool = typeof probe === 'boolean';
  const walk = (x: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof x === 'number') flat.push(x);
      else if (typeof x === 'boolean') flat.push(x ? 1 : 0);
      else throw new RangeError(`tensor: ragged nested array: expected a number at ${path}, got an array (shape ${fmt(shape)})`);
      if (typeof x !== 'boolean') bool = false;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      const got = Array.isArray(x) ? `length ${x.length}` : typeof x;
      throw new RangeError(`tensor: ragged nested array: expected length ${shape[depth]} at ${path}, got ${got}`);
    }
    x.forEach((y: NestedArray, i: number) => walk(y, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, 'data');
  return { shape, flat, bool };
}

/**
 * A tensor from nested arrays (`tensor([[1, 2], [3, 4]])`), from a scalar, or from a typed array or flat
 * list with `shape`. Data is copied. The dtype defaults to the typed array's, bool for booleans, else
 * float32.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = tensor(new Float64Array(6), { shape: [2, 3] });
 */
export function tensor(data: NestedArray | TypedArray | ArrayLike<number>, opts: TensorOptions = {}): Tensor {
  if (opts.dtype !== undefined) checkDType('tensor', opts.dtype);
  if (ArrayBuffer.isView(data) || (opts.shape !== undefined && !isNested(data))) {
    const arr = data as ArrayLike<number>;
    const typed = dtypeOfArray(arr) !== undefined ? (arr as TypedArray) : Float64Array.from(arr);
    const shape = opts.shape === undefined ? [typed.length] : checkShape('tensor', opts.shape);
    if (sizeOf(shape) !== typed.length) {
      throw new RangeError(`tensor: ${typed.length} values do not fill shape ${fmt(shape)} (size ${sizeOf(shape)})`);
    }
    // A flat list of booleans is bool, as it is without a shape.
    const bools = Array.isArray(arr) && arr.length > 0 && arr.every((v) => typeof v === 'boolean');
    const dtype = opts.dtype ?? dtypeOfArray(arr) ?? (bools ? 'bool' : 'float32');
    return fromHost(typed, shape, { ...opts, dtype });
  }
  const { shape, flat, bool } = inferNested(data as NestedArray);
  const dtype = opts.dtype ?? (bool && flat.length > 0 ? 'bool' : 'float32');
  if (opts.shape !== undefined && sizeOf(opts.shape) !== flat.length) {
    throw new RangeError(`tensor: ${flat.length} values do not fill shape ${fmt(opts.shape)}`);
  }
  return fromHost(Float64Array.from(flat), opts.shape ? checkShape('tensor', opts.shape) : shape, { ...opts, dtype });
}

function isNested(x: unknown): boolean {
  return Array.isArray(x) && x.some((e) => Array.isArray(e));
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number | boolean, opts: CreateOptions = {}): Tensor {
  const s = checkShape('full', shape);
  const dtype = checkDType('full', opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32'));
  const host = allocArray(dtype, sizeOf(s));
  host.fill(dtype === 'bool' ? (value ? 1 : 0) : Number(value));
  return fromHost(host, s, { ...opts, dtype });
}

/** Zeros of `shape`. */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** Ones of `shape`. */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Zeros with the shape and dtype of `t` (on `t`'s backend). */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? t.dtype;
  return fromHost(allocArray(dtype, t.size), t.shape, { ...opts, dtype }, t.backend);
}

/** Ones with the shape and dtype of `t` (on `t`'s backend). */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? t.dtype;
  return fromHost(allocArray(dtype, t.size).fill(1), t.shape, { ...opts, dtype }, t.backend);
}

/**
 * Values from `start` up to (not including) `stop` in steps of `step`, as `torch.arange`; `arange(n)`
 * counts from 0. int32 when all arguments are integers, else float32.
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new RangeError(`arange: step must be finite and non-zero, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new RangeError(`arange: bounds must be finite, got ${start}, ${stop}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const ints = Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step);
  const dtype = checkDType('arange', opts.dtype ?? (ints ? 'int32' : 'float32'));
  const host = allocArray(dtype, n);
  for (let i = 0; i < n; i++) host[i] = start + i * step;
  return fromHost(host, [n], { ...opts, dtype });
}

/** `steps` evenly spaced values from `start` to `end`, both included. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = checkDType('linspace', opts.dtype ?? 'float32');
  const host = allocArray(dtype, steps);
  const d = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends, as PyTorch does, so that the last value is exactly `end`.
  // With one step the value is `start`, as in PyTorch.
  const half = Math.max(1, Math.floor(steps / 2));
  for (let i = 0; i < steps; i++) host[i] = i < half ? start + i * d : end - (steps - 1 - i) * d;
  return fromHost(host, [steps], { ...opts, dtype });
}

/** The `n`×`m` identity (ones on the main diagonal). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const dtype = checkDType('eye', opts.dtype ?? 'float32');
  const host = allocArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) host[i * m + i] = 1;
  return fromHost(host, [n, m], { ...opts, dtype });
}

function randomFill(op: string, shape: readonly number[], opts: RandomOptions, sample: (g: Generator) => number): Tensor {
  const s = checkShape(op, shape);
  const dtype = checkDType(op, opts.dtype ?? 'float32');
  const g = opts.generator ?? defaultGenerator();
  const host = allocArray(dtype, sizeOf(s));
  for (let i = 0; i < host.length; i++) host[i] = sample(g);
  return fromHost(host, s, { ...opts, dtype });
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return randomFill('rand', shape, opts, (g) => g.uniform());
}

/** Standard normal samples. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return randomFill('randn', shape, opts, (g) => g.normal());
}

/** Uniform integers in [low, high), int32 unless `dtype` says otherwise. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got ${low}, ${high}`);
  }
  return randomFill('randint', shape, { dtype: 'int32', ...opts }, (g) => g.integer(low, high));
}
