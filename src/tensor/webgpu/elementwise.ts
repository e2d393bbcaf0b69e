/**
 * WGSL templates for elementwise kernels over strided operands: unary, binary, `where`, and the strided
 * copy-and-cast. One thread per output element turns its flat index into each operand's offset (the
 * shape and every operand's offset and strides are uniform parameters), so broadcast (stride 0),
 * transposed and sliced views are read in place. Axes are coalesced first, as on the CPU, so most
 * kernels walk one or two axes.
 * @module
 */
import type { BinaryOp, Operand, UnaryOp } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import type { DType } from '../dtype.js';
import { sizeOf, type Shape } from '../shape.js';
import type { Kernel } from './context.js';
import { computeOf, flatMain, load, paramsDecl, SCALAR_FNS, storageDecl, storageOf, store, stridedWalk, zero, type ComputeType, type StorageType } from './wgsl.js';

/** Threads per workgroup of the elementwise kernels. */
export const EW_GROUP = 64;

/** A kernel, its parameters and its workgroup count, ready for `GpuContext.dispatch`. */
export interface Launch {
  /** The kernel. */
  readonly kernel: Kernel;
  /** Its uniform parameters. */
  readonly params: number[];
  /** The number of workgroups. */
  readonly groups: number;
}

/** A strided layout as kernels read it. */
export interface Layout {
  /** Steps in elements per axis. */
  readonly strides: readonly number[];
  /** First element. */
  readonly offset: number;
}

/**
 * The coalesced walk of several layouts over `shape`, as parameters `[size, shape…, (offset, strides…)…]`,
 * and the rank of that walk.
 */
export function walkParams(shape: Shape, layouts: readonly Layout[]): { rank: number; params: number[] } {
  const c = coalesce(
    shape,
    layouts.map((l) => l.strides),
  );
  const params = [sizeOf(shape), ...c.shape];
  layouts.forEach((l, k) => params.push(l.offset, ...c.strides[k]!));
  return { rank: c.shape.length, params };
}

/** Where layout `k`'s offset sits in {@link walkParams}' parameters. */
function layoutAt(rank: number, k: number): number {
  return 1 + rank + k * (rank + 1);
}

/** A value of some compute type, or a condition (WGSL `bool`). */
type Result = { expr: string; ct: ComputeType } | { cond: string };

function storeResult(r: Result, st: StorageType): string {
  if ('cond' in r) return st === 'u32' ? `select(0u, 1u, ${r.cond})` : `select(${zero(st)}, ${st === 'f32' ? '1.0' : '1i'}, ${r.cond})`;
  return store(r.expr, r.ct, st);
}

/** The source of a kernel reading `inputs` (storage types) and writing `out` elementwise through `body`. */
function mapSource(rank: number, inputs: readonly StorageType[], out: StorageType, body: (vals: string[]) => Result): string {
  const names = inputs.map((_, k) => `o${k}`);
  const nParams = layoutAt(rank, inputs.length);
  const decls = inputs.map((t, k) => storageDecl(k + 1, `in${k}`, t));
  const vals = inputs.map((_, k) => `in${k}[o${k}]`);
  return `${paramsDecl(nParams)}
${decls.join('\n')}
${storageDecl(inputs.length + 1, 'out', out, true)}
${SCALAR_FNS}
${flatMain(EW_GROUP)}
  if (i >= prm(0u)) { return; }
${stridedWalk('i', rank, 1, names, names.map((_, k) => layoutAt(rank, k)))}
  out[i] = ${storeResult(body(vals), out)};
}`;
}

const F32_UNARY: Record<Exclude<UnaryOp, 'not'>, (x: string) => string> = {
  neg: (x) => `-${x}`,
  exp: (x) => `exp(${x})`,
  log: (x) => `log(${x})`,
  log1p: (x) => `log1p_f(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  rsqrt: (x) => `1.0 / sqrt(${x})`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign_f(${x})`,
  sin: (x) => `sincos_f(${x}, 0)`,
  cos: (x) => `sincos_f(${x}, 1)`,
  tanh: (x) => `tanh_f(${x})`,
  sigmoid: (x) => `sigmoid_f(${x})`,
  relu: (x) => `relu_f(${x})`,
  erf: (x) => `erf_f(${x})`,
  softplus: (x) => `softplus_f(${x})`,
};

const I32_UNARY: Partial<Record<UnaryOp, (x: string) => string>> = {
  neg: (x) => `-${x}`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign(${x})`,
  relu: (x) => `max(${x}, 0i)`,
};

/** `out = op(x)`. Integer results of neg/abs/sign/relu are computed in i32; everything else in f32. */
export function unaryLaunch(op: UnaryOp, x: Operand, outDtype: DType): Launch {
  const xt = storageOf(op, x.buffer.dtype);
  const ot = storageOf(op, outDtype);
  const { rank, params } = walkParams(x.shape, [x]);
  const intOp = I32_UNARY[op];
  const ct: ComputeType = op !== 'not' && computeOf(op, outDtype) === 'i32' && intOp !== undefined ? 'i32' : 'f32';
  const body = ([v]: string[]): Result => {
    if (op === 'not') return { cond: `${v!} == ${zero(xt)}` };
    const f = ct === 'i32' ? intOp! : F32_UNARY[op];
    return { expr: f(load(v!, xt, ct)), ct };
  };
  return {
    kernel: { key: `unary:${op}:${xt}:${ot}:${ct}:${rank}`, source: () => mapSource(rank, [xt], ot, body) },
    params,
    groups: Math.ceil(sizeOf(x.shape) / EW_GROUP),
  };
}

const COMPARE: Partial<Record<BinaryOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

/**
 * `out = op(a, b)`. Arithmetic computes in the output's type (division always in f32); comparisons in
 * f32 when either side is float, else i32; `and`/`or` test each side against zero in its own type.
 */
export function binaryLaunch(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): Launch {
  const at = storageOf(op, a.buffer.dtype);
  const bt = storageOf(op, b.buffer.dtype);
  const ot = storageOf(op, outDtype);
  const { rank, params } = walkParams(a.shape, [a, b]);
  const cmp = COMPARE[op];
  const ct: ComputeType =
    cmp !== undefined ? (at === 'f32' || bt === 'f32' ? 'f32' : 'i32') : op === 'div' ? 'f32' : computeOf(op, outDtype);
  const body = ([va, vb]: string[]): Result => {
    if (op === 'and' || op === 'or') return { cond: `(${va!} != ${zero(at)}) ${op === 'and' ? '&&' : '||'} (${vb!} != ${zero(bt)})` };
    const x = load(va!, at, ct);
    const y = load(vb!, bt, ct);
    if (cmp !== undefined) return { cond: `${x} ${cmp} ${y}` };
    const f = ct === 'f32';
    switch (op) {
      case 'add':
        return { expr: `${x} + ${y}`, ct };
      case 'sub':
        return { expr: `${x} - ${y}`, ct };
      case 'mul':
        return { expr: `${x} * ${y}`, ct };
      case 'div':
        return { expr: `${x} / ${y}`, ct };
      case 'pow':
        return { expr: f ? `pow_f(${x}, ${y})` : `pow_i(${x}, ${y})`, ct };
      case 'maximum':
        return { expr: f ? `max_f(${x}, ${y})` : `max(${x}, ${y})`, ct };
      case 'minimum':
        return { expr: f ? `min_f(${x}, ${y})` : `min(${x}, ${y})`, ct };
      default:
        throw new Error(`webgpu.binary: unknown op '${op}'`);
    }
  };
  return {
    kernel: { key: `binary:${op}:${at}:${bt}:${ot}:${ct}:${rank}`, source: () => mapSource(rank, [at, bt], ot, body) },
    params,
    groups: Math.ceil(sizeOf(a.shape) / EW_GROUP),
  };
}

/** `out = cond ? a : b`, computed in the output's type. */
export function whereLaunch(cond: Operand, a: Operand, b: Operand, outDtype: DType): Launch {
  const [cs, as, bs] = [cond, a, b].map((o) => storageOf('where', o.buffer.dtype)) as [StorageType, StorageType, StorageType];
  const ot = storageOf('where', outDtype);
  const ct = computeOf('where', outDtype);
  const { rank, params } = walkParams(a.shape, [cond, a, b]);
  const body = ([c, x, y]: string[]): Result => ({ expr: `select(${load(y!, bs, ct)}, ${load(x!, as, ct)}, ${c!} != ${zero(cs)})`, ct });
  return {
    kernel: { key: `where:${cs}:${as}:${bs}:${ot}:${rank}`, source: () => mapSource(rank, [cs, as, bs], ot, body) },
    params,
    groups: Math.ceil(sizeOf(a.shape) / EW_GROUP),
  };
}

/**
 * `dst[view] = src[view]` converted to `dst`'s type (bool stores 1 for non-zero): a strided read and a
 * strided write, at binding 1 (src) and 2 (dst).
 */
export function copyLaunch(src: Operand, dst: Operand): Launch {
  const st = storageOf('copy', src.buffer.dtype);
  const dt = storageOf('copy', dst.buffer.dtype);
  const { rank, params } = walkParams(src.shape, [src, dst]);
  const value = dt === 'u32' ? `select(0u, 1u, in0[o0] != ${zero(st)})` : dt === st ? 'in0[o0]' : `${dt}(in0[o0])`;
  const source = (): string => `${paramsDecl(layoutAt(rank, 2))}
${storageDecl(1, 'in0', st)}
${storageDecl(2, 'out', dt, true)}
${flatMain(EW_GROUP)}
  if (i >= prm(0u)) { return; }
${stridedWalk('i', rank, 1, ['o0', 'o1'], [layoutAt(rank, 0), layoutAt(rank, 1)])}
  out[o1] = ${value};
}`;
  return { kernel: { key: `copy:${st}:${dt}:${rank}`, source }, params, groups: Math.ceil(sizeOf(src.shape) / EW_GROUP) };
}
