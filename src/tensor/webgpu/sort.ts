/**
 * WGSL sort and top-k along one axis as bitonic sorts of (key, index) pairs.
 *
 * Each lane is padded to a power of two P. Values become order-preserving u32 keys (floats by their sign-
 * flipped bits, with -0 taken as +0 and every NaN as the largest key; descending sorts invert the key, so
 * NaN comes first as in PyTorch), and equal keys are ordered by source index, which makes the sort stable.
 * Padding sorts after everything. Merge steps with a partner distance below {@link BLOCK} run inside one
 * workgroup in workgroup memory; longer distances take one dispatch each over global memory. The first
 * k pairs of each lane then give the values (read from the input, so NaN payloads survive) and indices.
 * @module
 */
import type { Operand, SortedBuffers } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import type { WebGPUBuffer } from './buffer-pool.js';
import type { KernelHost } from './context.js';
import { EW_GROUP } from './elementwise.js';
import { flatMain, groupMain, paramsDecl, storageDecl, storageOf, stridedWalk, type StorageType } from './wgsl.js';

/** Elements per workgroup-memory block (two per thread). */
const BLOCK = 256;

const LESS = `// (ka, ia) before (kb, ib): by key, then by source index.
fn before(ka: u32, ia: u32, kb: u32, ib: u32) -> bool { return ka < kb || (ka == kb && ia < ib); }`;

function keyFn(xt: StorageType): string {
  if (xt === 'f32') {
    return `fn key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0xffffffffu; }
  if (b == 0x80000000u) { b = 0u; }
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}`;
  }
  if (xt === 'i32') return 'fn key(v: i32) -> u32 { return bitcast<u32>(v) ^ 0x80000000u; }';
  return 'fn key(v: u32) -> u32 { return v; }';
}

/** Lane walks: `[lanes, n, P, k, outerShape…, xOff, xOuter…, xAxis, outOff, outOuter…, outAxis, descending]`. */
function laneLayout(ro: number): { x: number; out: number; desc: number; count: number } {
  const x = 4 + ro;
  const out = x + ro + 2;
  return { x, out, desc: out + ro + 2, count: out + ro + 3 };
}

function initSource(xt: StorageType, ro: number): string {
  const l = laneLayout(ro);
  return `${paramsDecl(l.count)}
${storageDecl(1, 'x', xt)}
${storageDecl(2, 'keys', 'u32', true)}
${storageDecl(3, 'ids', 'u32', true)}
${keyFn(xt)}
${flatMain(EW_GROUP)}
  let P = prm(2u);
  if (i >= prm(0u) * P) { return; }
  let lane = i / P;
  let j = i % P;
  if (j >= prm(1u)) { keys[i] = 0xffffffffu; ids[i] = 0xffffffffu; return; }
${stridedWalk('lane', ro, 4, ['xo'], [l.x])}
  var kv = key(x[xo + j * prm(${l.x + ro + 1}u)]);
  if (prm(${l.desc}u) != 0u) { kv = ~kv; }
  keys[i] = kv;
  ids[i] = j;
}`;
}

/** One compare-exchange step over global memory: `[pairs, P, k, j]`. */
const GLOBAL_STEP = `${paramsDecl(4)}
${storageDecl(1, 'keys', 'u32', true)}
${storageDecl(2, 'ids', 'u32', true)}
${LESS}
${flatMain(EW_GROUP)}
  if (i >= prm(0u)) { return; }
  let P = prm(1u); let k = prm(2u); let j = prm(3u);
  let a = 2u * j * (i / j) + i % j;
  let b = a + j;
  let up = ((a & (P - 1u)) & k) == 0u;
  let ka = keys[a]; let ia = ids[a]; let kb = keys[b]; let ib = ids[b];
  if (before(kb, ib, ka, ia) == up) { keys[a] = kb; ids[a] = ib; keys[b] = ka; ids[b] = ia; }
}`;

/**
 * All steps with partner distance below the block inside workgroup memory: `[blocks, P, k0, k1, L]`
 * runs stages k = k0, 2k0, …, k1 with distances min(k/2, L/2) … 1 on blocks of L = min(P, BLOCK).
 */
const LOCAL_STEPS = `${paramsDecl(5)}
${storageDecl(1, 'keys', 'u32', true)}
${storageDecl(2, 'ids', 'u32', true)}
${LESS}
var<workgroup> sk: array<u32, ${BLOCK}>;
var<workgroup> si: array<u32, ${BLOCK}>;
${groupMain(BLOCK / 2)}
  if (g >= prm(0u)) { return; }
  let P = prm(1u); let L = prm(4u);
  let start = g * L;
  for (var e = li; e < L; e = e + ${BLOCK / 2}u) { sk[e] = keys[start + e]; si[e] = ids[start + e]; }
  workgroupBarrier();
  for (var k = prm(2u); k <= prm(3u); k = k << 1u) {
    for (var j = min(k, L) >> 1u; j > 0u; j = j >> 1u) {
      if (li < L / 2u) {
        let a = 2u * j * (li / j) + li % j;
        let b = a + j;
        let up = (((start + a) & (P - 1u)) & k) == 0u;
        let ka = sk[a]; let ia = si[a]; let kb = sk[b]; let ib = si[b];
        if (before(kb, ib, ka, ia) == up) { sk[a] = kb; si[a] = ib; sk[b] = ka; si[b] = ia; }
      }
      workgroupBarrier();
    }
  }
  for (var e = li; e < L; e = e + ${BLOCK / 2}u) { keys[start + e] = sk[e]; ids[start + e] = si[e]; }
}`;

function gatherSource(xt: StorageType, ro: number): string {
  const l = laneLayout(ro);
  return `${paramsDecl(l.count)}
${storageDecl(1, 'x', xt)}
${storageDecl(2, 'ids', 'u32')}
${storageDecl(3, 'values', xt, true)}
${storageDecl(4, 'indices', 'i32', true)}
${flatMain(EW_GROUP)}
  let k = prm(3u);
  if (i >= prm(0u) * k) { return; }
  let lane = i / k;
  let r = i % k;
${stridedWalk('lane', ro, 4, ['xo', 'oo'], [l.x, l.out])}
  let src = ids[lane * prm(2u) + r];
  let o = oo + r * prm(${l.out + ro + 1}u);
  values[o] = x[xo + src * prm(${l.x + ro + 1}u)];
  indices[o] = i32(src);
}`;
}

/** Sorts every lane along `axis` and keeps the first `k` of each: values and int32 indices, contiguous. */
export function sortLanes(host: KernelHost, x: Operand, axis: number, descending: boolean, k: number): SortedBuffers {
  const op = k === x.shape[axis] ? 'sort' : 'topk';
  const xt = storageOf(op, x.buffer.dtype);
  const n = x.shape[axis]!;
  const outShape = x.shape.map((d, i) => (i === axis ? k : d));
  const outStrides = contiguousStrides(outShape);
  const keep = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const c = coalesce(
    keep.map((i) => x.shape[i]!),
    [keep.map((i) => x.strides[i]!), keep.map((i) => outStrides[i]!)],
  );
  const ro = c.shape.length;
  const lanes = sizeOf(c.shape);
  const values = host.output(op, x.buffer.dtype, sizeOf(outShape));
  const indices = host.output(op, 'int32', sizeOf(outShape));
  if (lanes * k === 0) return { values, indices };
  const P = 2 ** Math.ceil(Math.log2(Math.max(n, 2)));
  const params = [lanes, n, P, k, ...c.shape, x.offset, ...c.strides[0]!, x.strides[axis]!, 0, ...c.strides[1]!, outStrides[axis]!, descending ? 1 : 0];
  const keys = host.output(op, 'int32', lanes * P);
  const ids = host.output(op, 'int32', lanes * P);
  const ctx = host.ctx;
  const xg = (x.buffer as WebGPUBuffer).gpu;
  ctx.dispatch({ key: `sort-init:${xt}:${ro}`, source: () => initSource(xt, ro) }, params, [xg, keys.gpu, ids.gpu], Math.ceil((lanes * P) / EW_GROUP));
  const L = Math.min(P, BLOCK);
  const blocks = (lanes * P) / L;
  const local = { key: 'sort-local', source: () => LOCAL_STEPS };
  const global = { key: 'sort-global', source: () => GLOBAL_STEP };
  const pairs = (lanes * P) / 2;
  ctx.dispatch(local, [blocks, P, 2, L, L], [keys.gpu, ids.gpu], blocks);
  for (let kk = 2 * L; kk <= P; kk *= 2) {
    for (let j = kk / 2; j >= L; j /= 2) ctx.dispatch(global, [pairs, P, kk, j], [keys.gpu, ids.gpu], Math.ceil(pairs / EW_GROUP));
    ctx.dispatch(local, [blocks, P, kk, kk, L], [keys.gpu, ids.gpu], blocks);
  }
  ctx.dispatch({ key: `sort-gather:${xt}:${ro}`, source: () => gatherSource(xt, ro) }, params, [xg, ids.gpu, values.gpu, indices.gpu], Math.ceil((lanes * k) / EW_GROUP));
  host.free(keys);
  host.free(ids);
  return { values, indices };
}
