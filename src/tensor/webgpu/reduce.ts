/**
 * WGSL reductions: sum/prod/max/min over any set of axes, argmax/argmin along one axis, and cumsum.
 *
 * The reduced axes are moved to the end logically (the kept axes and the reduced axes each become one
 * strided walk; no data moves). Short rows run one thread per output; longer rows run one workgroup per
 * output, each thread folding a strided slice before a tree in workgroup memory combines the 128
 * partial results. Very long rows with few outputs split each row across several workgroups and reduce
 * the partial results in a second pass. Max and min propagate NaN; argmax/argmin return the first extreme
 * (a NaN counts as extreme), as the CPU backend does.
 * @module
 */
import type { ArgReduceOp, Operand, ReduceOp } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import type { DType } from '../dtype.js';
import { sizeOf } from '../shape.js';
import type { WebGPUBuffer } from './buffer-pool.js';
import type { KernelHost } from './context.js';
import { EW_GROUP } from './elementwise.js';
import { computeOf, flatMain, groupMain, load, paramsDecl, SCALAR_FNS, storageDecl, storageOf, store, stridedWalk, type ComputeType, type StorageType } from './wgsl.js';

/** Threads per workgroup of the tree reductions and scans (the compatibility limit is 128). */
const TREE = 128;
/** Rows at most this long run one thread per output. */
const SHORT_ROW = 32;
/** Below this many outputs, rows longer than {@link SPLIT_LEN} are split across workgroups. */
const FEW_OUTPUTS = 1024;
/** The length of each piece of a split row. */
const SPLIT_LEN = 4096;

/** Kept (outer) and reduced (inner) axes of a view, each coalesced into its own walk. */
interface Split {
  readonly outerShape: number[];
  readonly outerStrides: number[];
  readonly innerShape: number[];
  readonly innerStrides: number[];
}

function splitAxes(x: Operand, axes: readonly number[]): Split {
  const pick = (keep: boolean): { shape: number[]; strides: number[] } => {
    const idx = x.shape.map((_, i) => i).filter((i) => axes.includes(i) !== keep);
    const c = coalesce(
      idx.map((i) => x.shape[i]!),
      [idx.map((i) => x.strides[i]!)],
    );
    return { shape: c.shape, strides: c.strides[0]! };
  };
  const o = pick(true);
  const r = pick(false);
  return { outerShape: o.shape, outerStrides: o.strides, innerShape: r.shape, innerStrides: r.strides };
}

/**
 * Parameters `[nOut, n, splits, chunk, outerShape…, innerShape…, offset, outerStrides…, innerStrides…]`
 * and where each part starts.
 */
function reduceParams(s: Split, offset: number, splits: number, chunk: number): number[] {
  const nOut = sizeOf(s.outerShape);
  const n = sizeOf(s.innerShape);
  return [nOut, n, splits, chunk, ...s.outerShape, ...s.innerShape, offset, ...s.outerStrides, ...s.innerStrides];
}

/** WGSL that sets `base` (the row's first element) from the output index `o`, and `off` from `j`. */
function rowWalks(ro: number, ri: number): { outer: (o: string) => string; inner: (j: string) => string; count: number } {
  const layout = 4 + ro + ri;
  return {
    outer: (o) => stridedWalk(o, ro, 4, ['base'], [layout], undefined, 'o'),
    inner: (j) => stridedWalk(j, ri, 4 + ro, ['off'], [layout + ro], ['base'], 'i'),
    count: layout + 1 + ro + ri,
  };
}

function identity(op: ReduceOp, ct: ComputeType): string {
  switch (op) {
    case 'sum':
      return ct === 'f32' ? '0.0' : '0i';
    case 'prod':
      return ct === 'f32' ? '1.0' : '1i';
    case 'max':
      return ct === 'f32' ? '-inf_()' : 'bitcast<i32>(0x80000000u)';
    case 'min':
      return ct === 'f32' ? 'inf_()' : '2147483647i';
  }
}

function combine(op: ReduceOp, ct: ComputeType, a: string, b: string): string {
  switch (op) {
    case 'sum':
      return `${a} + ${b}`;
    case 'prod':
      return `${a} * ${b}`;
    case 'max':
      return ct === 'f32' ? `max_f(${a}, ${b})` : `max(${a}, ${b})`;
    case 'min':
      return ct === 'f32' ? `min_f(${a}, ${b})` : `min(${a}, ${b})`;
  }
}

function reduceSource(op: ReduceOp, xt: StorageType, ot: StorageType, ct: ComputeType, ro: number, ri: number, tree: boolean): string {
  const w = rowWalks(ro, ri);
  const head = `${paramsDecl(w.count)}
${storageDecl(1, 'x', xt)}
${storageDecl(2, 'out', ot, true)}
${SCALAR_FNS}`;
  const fold = `acc = ${combine(op, ct, 'acc', load('x[off]', xt, ct))};`;
  if (!tree) {
    return `${head}
${flatMain(EW_GROUP)}
  if (i >= prm(0u)) { return; }
${w.outer('i')}
  var acc: ${ct} = ${identity(op, ct)};
  for (var j = 0u; j < prm(1u); j = j + 1u) {
${w.inner('j')}
    ${fold}
  }
  out[i] = ${store('acc', ct, ot)};
}`;
  }
  return `${head}
var<workgroup> sh: array<${ct}, ${TREE}>;
${groupMain(TREE)}
  if (g >= prm(0u) * prm(2u)) { return; }
  let o = g / prm(2u);
  let j0 = (g % prm(2u)) * prm(3u);
  let j1 = min(j0 + prm(3u), prm(1u));
${w.outer('o')}
  var acc: ${ct} = ${identity(op, ct)};
  for (var j = j0 + li; j < j1; j = j + ${TREE}u) {
${w.inner('j')}
    ${fold}
  }
  sh[li] = acc;
  workgroupBarrier();
  for (var s = ${TREE / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { sh[li] = ${combine(op, ct, 'sh[li]', 'sh[li + s]')}; }
    workgroupBarrier();
  }
  if (li == 0u) { out[g] = ${store('sh[0]', ct, ot)}; }
}`;
}

/** One reduction pass over `x` (already split into walks), writing `nOut · splits` values. */
function reducePass(host: KernelHost, op: ReduceOp, x: Operand, s: Split, outDtype: DType, splits: number, chunk: number): WebGPUBuffer {
  const xt = storageOf(op, x.buffer.dtype);
  const ot = storageOf(op, outDtype);
  const ct = computeOf(op, outDtype);
  const nOut = sizeOf(s.outerShape);
  const n = sizeOf(s.innerShape);
  const tree = n > SHORT_ROW || splits > 1;
  const [ro, ri] = [s.outerShape.length, s.innerShape.length];
  const out = host.output(op, outDtype, nOut * splits);
  const kernel = { key: `reduce:${op}:${xt}:${ot}:${ro}:${ri}:${tree}`, source: () => reduceSource(op, xt, ot, ct, ro, ri, tree) };
  const groups = tree ? nOut * splits : Math.ceil(nOut / EW_GROUP);
  host.ctx.dispatch(kernel, reduceParams(s, x.offset, splits, chunk), [(x.buffer as WebGPUBuffer).gpu, out.gpu], groups);
  return out;
}

/** Reduces `axes` of `x` away with `op`, in one pass or, for a few very long rows, two. */
export function reduce(host: KernelHost, op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): WebGPUBuffer {
  const s = splitAxes(x, axes);
  const nOut = sizeOf(s.outerShape);
  const n = sizeOf(s.innerShape);
  if (nOut >= FEW_OUTPUTS || n <= 2 * SPLIT_LEN) return reducePass(host, op, x, s, outDtype, 1, n);
  const splits = Math.min(Math.ceil(n / SPLIT_LEN), 1024);
  const chunk = Math.ceil(n / splits);
  const partial = reducePass(host, op, x, s, outDtype, Math.ceil(n / chunk), chunk);
  const parts = Math.ceil(n / chunk);
  const second: Split = { outerShape: [nOut], outerStrides: [parts], innerShape: [parts], innerStrides: [1] };
  const pOp: Operand = { buffer: partial, shape: [nOut, parts], strides: [parts, 1], offset: 0 };
  const out = reducePass(host, op, pOp, second, outDtype, 1, parts);
  host.free(partial);
  return out;
}

function argSource(op: ArgReduceOp, xt: StorageType, ro: number, tree: boolean): string {
  const ct: ComputeType = xt === 'f32' ? 'f32' : 'i32';
  const w = rowWalks(ro, 1);
  const beats = op === 'argmax' ? '>' : '<';
  const nanRule = ct === 'f32' ? `let na = isnan_(va); let nb = isnan_(vb); if (na || nb) { if (na && nb) { return ia < ib; } return na; }` : '';
  const head = `${paramsDecl(w.count)}
${storageDecl(1, 'x', xt)}
${storageDecl(2, 'out', 'i32', true)}
${SCALAR_FNS}
const NONE = 0xffffffffu;
// Whether (va, ia) wins over (vb, ib): NaN first, then the extreme value, then the lower index.
fn wins(va: ${ct}, ia: u32, vb: ${ct}, ib: u32) -> bool {
  if (ib == NONE) { return true; }
  if (ia == NONE) { return false; }
  ${nanRule}
  if (va ${beats} vb) { return true; }
  if (vb ${beats} va) { return false; }
  return ia < ib;
}`;
  const fold = `let v = ${load('x[off]', xt, ct)}; if (wins(v, j, bv, bi)) { bv = v; bi = j; }`;
  if (!tree) {
    return `${head}
${flatMain(EW_GROUP)}
  if (i >= prm(0u)) { return; }
${w.outer('i')}
  var bv: ${ct} = ${ct}(0); var bi = NONE;
  for (var j = 0u; j < prm(1u); j = j + 1u) {
${w.inner('j')}
    ${fold}
  }
  out[i] = i32(bi);
}`;
  }
  return `${head}
var<workgroup> sv: array<${ct}, ${TREE}>;
var<workgroup> si: array<u32, ${TREE}>;
${groupMain(TREE)}
  if (g >= prm(0u)) { return; }
${w.outer('g')}
  var bv: ${ct} = ${ct}(0); var bi = NONE;
  for (var j = li; j < prm(1u); j = j + ${TREE}u) {
${w.inner('j')}
    ${fold}
  }
  sv[li] = bv; si[li] = bi;
  workgroupBarrier();
  for (var s = ${TREE / 2}u; s > 0u; s = s >> 1u) {
    if (li < s && wins(sv[li + s], si[li + s], sv[li], si[li])) { sv[li] = sv[li + s]; si[li] = si[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[g] = i32(si[0]); }
}`;
}

/** The int32 index of the first extreme value along `axis`. */
export function argReduce(host: KernelHost, op: ArgReduceOp, x: Operand, axis: number): WebGPUBuffer {
  const xt = storageOf(op, x.buffer.dtype);
  const s = splitAxes(x, [axis]);
  // Keep the reduced axis whole (size 1 axes were dropped): j must be the index along `axis`.
  const inner: Split = { ...s, innerShape: [x.shape[axis]!], innerStrides: [x.strides[axis]!] };
  const nOut = sizeOf(s.outerShape);
  const n = x.shape[axis]!;
  const tree = n > SHORT_ROW;
  const ro = s.outerShape.length;
  const out = host.output(op, 'int32', nOut);
  const kernel = { key: `arg:${op}:${xt}:${ro}:${tree}`, source: () => argSource(op, xt, ro, tree) };
  host.ctx.dispatch(kernel, reduceParams(inner, x.offset, 1, n), [(x.buffer as WebGPUBuffer).gpu, out.gpu], tree ? nOut : Math.ceil(nOut / EW_GROUP));
  return out;
}

function cumsumSource(xt: StorageType, ot: StorageType, ct: ComputeType, ro: number, tree: boolean): string {
  // [lanes, n, outerShape…, inOffset, inOuter…, inAxis, outOffset, outOuter…, outAxis]
  const inAt = 2 + ro;
  const outAt = inAt + ro + 2;
  const walk = (lane: string): string => stridedWalk(lane, ro, 2, ['ib', 'ob'], [inAt, outAt]);
  const step = `acc = acc + ${load(`x[ib + j * prm(${inAt + ro + 1}u)]`, xt, ct)};`;
  const put = `out[ob + j * prm(${outAt + ro + 1}u)] = ${store('acc', ct, ot)};`;
  const head = `${paramsDecl(outAt + ro + 2)}
${storageDecl(1, 'x', xt)}
${storageDecl(2, 'out', ot, true)}`;
  if (!tree) {
    return `${head}
${flatMain(EW_GROUP)}
  if (i >= prm(0u)) { return; }
${walk('i')}
  var acc: ${ct} = ${ct}(0);
  for (var j = 0u; j < prm(1u); j = j + 1u) { ${step} ${put} }
}`;
  }
  // Each thread scans a contiguous chunk; an inclusive Hillis–Steele scan of the chunk totals in workgroup
  // memory gives every chunk its starting value.
  return `${head}
var<workgroup> sh: array<${ct}, ${TREE}>;
${groupMain(TREE)}
  if (g >= prm(0u)) { return; }
${walk('g')}
  let n = prm(1u);
  let chunk = (n + ${TREE - 1}u) / ${TREE}u;
  let j0 = min(li * chunk, n);
  let j1 = min(j0 + chunk, n);
  var acc: ${ct} = ${ct}(0);
  for (var j = j0; j < j1; j = j + 1u) { ${step} }
  sh[li] = acc;
  workgroupBarrier();
  for (var d = 1u; d < ${TREE}u; d = d << 1u) {
    var v = sh[li];
    if (li >= d) { v = v + sh[li - d]; }
    workgroupBarrier();
    sh[li] = v;
    workgroupBarrier();
  }
  acc = ${ct}(0);
  if (li > 0u) { acc = sh[li - 1u]; }
  for (var j = j0; j < j1; j = j + 1u) { ${step} ${put} }
}`;
}

/** Inclusive prefix sums along `axis` into a contiguous output. */
export function cumsum(host: KernelHost, x: Operand, axis: number, outDtype: DType): WebGPUBuffer {
  const xt = storageOf('cumsum', x.buffer.dtype);
  const ot = storageOf('cumsum', outDtype);
  const ct = computeOf('cumsum', outDtype);
  const outStrides: number[] = new Array<number>(x.shape.length);
  for (let i = x.shape.length - 1, st = 1; i >= 0; i--) {
    outStrides[i] = st;
    st *= x.shape[i]!;
  }
  const keep = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const c = coalesce(
    keep.map((i) => x.shape[i]!),
    [keep.map((i) => x.strides[i]!), keep.map((i) => outStrides[i]!)],
  );
  const lanes = sizeOf(c.shape);
  const n = x.shape[axis]!;
  const ro = c.shape.length;
  const tree = n > 4 * SHORT_ROW && lanes < 16 * FEW_OUTPUTS;
  const out = host.output('cumsum', outDtype, sizeOf(x.shape));
  const params = [lanes, n, ...c.shape, x.offset, ...c.strides[0]!, x.strides[axis]!, 0, ...c.strides[1]!, outStrides[axis]!];
  const kernel = { key: `cumsum:${xt}:${ot}:${ro}:${tree}`, source: () => cumsumSource(xt, ot, ct, ro, tree) };
  host.ctx.dispatch(kernel, params, [(x.buffer as WebGPUBuffer).gpu, out.gpu], tree ? lanes : Math.ceil(lanes / EW_GROUP));
  return out;
}
