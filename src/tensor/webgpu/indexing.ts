/**
 * WGSL gather and scatter-add along one axis (`torch.gather`, `torch.scatter_add`).
 *
 * A GPU cannot throw, so an out-of-range index sets the backend's index-error flag (the first one wins)
 * and is skipped (gather writes 0); the backend raises the RangeError at the next read. Scatter-add
 * accumulates with atomics: `atomicAdd` on i32 (and bool words), and for f32 a compare-exchange loop on
 * the `u32` bit pattern, which adds in whatever order threads arrive, so float sums may differ from run to
 * run in the last bits (integer sums are exact and deterministic).
 * @module
 */
import type { Operand } from '../backend.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { WebGPUBuffer } from './buffer-pool.js';
import type { KernelHost } from './context.js';
import { copyLaunch, EW_GROUP, walkParams } from './elementwise.js';
import { flatMain, load, paramsDecl, storageDecl, storageOf, stridedWalk, type StorageType } from './wgsl.js';

/** Codes in the index-error flag, naming the op. */
export const INDEX_ERROR_OPS = ['', 'gather', 'scatterAdd'] as const;

const FLAG = `fn flagIndex(code: u32, v: i32, n: u32, axis: u32) {
  if (atomicMax(&err[0], code) == 0u) { atomicStore(&err[1], bitcast<u32>(v)); atomicStore(&err[2], n); atomicStore(&err[3], axis); }
}`;

function errDecl(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read_write> err: array<atomic<u32>, 4>;`;
}

/** Parameters `[n, sAxis, axis, size, shape…, (offset, strides…)…]`: the walk after three fixed values. */
function indexParams(n: number, sAxis: number, axis: number, walk: number[]): number[] {
  return [n, sAxis, axis, ...walk];
}

function gatherSource(xt: StorageType, rank: number): string {
  const at = (k: number): number => 4 + rank + k * (rank + 1);
  return `${paramsDecl(at(2))}
${storageDecl(1, 'x', xt)}
${storageDecl(2, 'idx', 'i32')}
${storageDecl(3, 'out', xt, true)}
${errDecl(4)}
${FLAG}
${flatMain(EW_GROUP)}
  if (i >= prm(3u)) { return; }
${stridedWalk('i', rank, 4, ['xo', 'io'], [at(0), at(1)])}
  let v = idx[io];
  let n = prm(0u);
  if (v < 0 || u32(v) >= n) { flagIndex(1u, v, n, prm(2u)); out[i] = ${xt}(0); return; }
  out[i] = x[xo + u32(v) * prm(1u)];
}`;
}

/** `out[p] = x[p with p[axis] := index[p]]`, shaped like `index`. */
export function gather(host: KernelHost, x: Operand, axis: number, index: Operand): WebGPUBuffer {
  const xt = storageOf('gather', x.buffer.dtype);
  const xBase = { strides: x.strides.map((s, i) => (i === axis ? 0 : s)), offset: x.offset };
  const { rank, params } = walkParams(index.shape, [xBase, index]);
  const out = host.output('gather', x.buffer.dtype, sizeOf(index.shape));
  const kernel = { key: `gather:${xt}:${rank}`, source: () => gatherSource(xt, rank) };
  const bufs = [(x.buffer as WebGPUBuffer).gpu, (index.buffer as WebGPUBuffer).gpu, out.gpu, host.indexErrorFlag()];
  host.ctx.dispatch(kernel, indexParams(x.shape[axis]!, x.strides[axis]!, axis, params), bufs, Math.ceil(sizeOf(index.shape) / EW_GROUP));
  return out;
}

function scatterSource(ot: StorageType, st: StorageType, rank: number): string {
  const at = (k: number): number => 4 + rank + k * (rank + 1);
  const atomicT = ot === 'f32' ? 'u32' : ot;
  const add =
    ot === 'f32'
      ? `let add = ${load('src[so]', st, 'f32')};
  loop {
    let old = atomicLoad(&out[p]);
    let r = atomicCompareExchangeWeak(&out[p], old, bitcast<u32>(bitcast<f32>(old) + add));
    if (r.exchanged) { break; }
  }`
      : `atomicAdd(&out[p], ${ot === 'i32' ? load('src[so]', st, 'i32') : `u32(${load('src[so]', st, 'i32')})`});`;
  return `${paramsDecl(at(3))}
@group(0) @binding(1) var<storage, read_write> out: array<atomic<${atomicT}>>;
${storageDecl(2, 'idx', 'i32')}
${storageDecl(3, 'src', st)}
${errDecl(4)}
${FLAG}
${flatMain(EW_GROUP)}
  if (i >= prm(3u)) { return; }
${stridedWalk('i', rank, 4, ['oo', 'io', 'so'], [at(0), at(1), at(2)])}
  let v = idx[io];
  let n = prm(0u);
  if (v < 0 || u32(v) >= n) { flagIndex(2u, v, n, prm(2u)); return; }
  let p = oo + u32(v) * prm(1u);
  ${add}
}`;
}

/** A contiguous copy of `base` (shape `base.shape`) with `src[p]` added at `p` with `p[axis] := index[p]`. */
export function scatterAdd(host: KernelHost, base: Operand, axis: number, index: Operand, src: Operand): WebGPUBuffer {
  const dtype = base.buffer.dtype;
  const ot = storageOf('scatterAdd', dtype);
  const st = storageOf('scatterAdd', src.buffer.dtype);
  const out = host.output('scatterAdd', dtype, sizeOf(base.shape));
  const ostr = contiguousStrides(base.shape);
  const copy = copyLaunch(base, { buffer: out, shape: base.shape, strides: ostr, offset: 0 });
  host.ctx.dispatch(copy.kernel, copy.params, [(base.buffer as WebGPUBuffer).gpu, out.gpu], copy.groups);
  const oBase = { strides: ostr.map((s, i) => (i === axis ? 0 : s)), offset: 0 };
  const { rank, params } = walkParams(index.shape, [oBase, index, src]);
  const kernel = { key: `scatterAdd:${ot}:${st}:${rank}`, source: () => scatterSource(ot, st, rank) };
  const bufs = [out.gpu, (index.buffer as WebGPUBuffer).gpu, (src.buffer as WebGPUBuffer).gpu, host.indexErrorFlag()];
  host.ctx.dispatch(kernel, indexParams(base.shape[axis]!, ostr[axis]!, axis, params), bufs, Math.ceil(sizeOf(index.shape) / EW_GROUP));
  return out;
}
