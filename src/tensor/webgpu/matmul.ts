/**
 * WGSL batched matrix product, tiled in workgroup memory: each workgroup of 8×8 threads computes a
 * 32×32 tile of the output, each thread a 4×4 block held in registers, stepping through the inner
 * dimension 16 at a time. Tiles of A and B are loaded through the operands' strides, so transposed,
 * sliced and batch-broadcast operands are read in place. A batch index is the dispatch's z coordinate
 * (in chunks when there are more batches than one dispatch dimension holds).
 * @module
 */
import type { Operand } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import type { DType } from '../dtype.js';
import { sizeOf } from '../shape.js';
import type { WebGPUBuffer } from './buffer-pool.js';
import type { KernelHost } from './context.js';
import { computeOf, load, paramsDecl, storageDecl, storageOf, store, stridedWalk, type ComputeType, type StorageType } from './wgsl.js';

/** Output tile edge (rows and columns per workgroup). */
const TILE = 32;
/** Inner-dimension step. */
const TK = 16;
/** Threads per tile edge (each computes TILE / THREADS = 4 rows and columns). */
const THREADS = 8;
const PER = TILE / THREADS;

function matmulSource(at: StorageType, bt: StorageType, ot: StorageType, ct: ComputeType, rb: number): string {
  // [M, K, N, batch0, batchShape…, aOff, aBatch…, sam, sak, bOff, bBatch…, sbk, sbn]
  const aAt = 4 + rb;
  const bAt = aAt + rb + 3;
  const z = `${ct}(0)`;
  const accs: string[] = [];
  const fma: string[] = [];
  const outs: string[] = [];
  for (let r = 0; r < PER; r++) {
    for (let c = 0; c < PER; c++) {
      accs.push(`var c${r}${c}: ${ct} = ${z};`);
      fma.push(`c${r}${c} = c${r}${c} + a${r} * b${c};`);
      outs.push(`if (row0 + ${r}u < M && col0 + ${c}u < N) { out[ob + (row0 + ${r}u) * N + col0 + ${c}u] = ${store(`c${r}${c}`, ct, ot)}; }`);
    }
  }
  const aLoads = Array.from({ length: PER }, (_, r) => `let a${r} = As[(ty * ${PER}u + ${r}u) * ${TK}u + kk];`).join(' ');
  const bLoads = Array.from({ length: PER }, (_, c) => `let b${c} = Bs[kk * ${TILE}u + tx * ${PER}u + ${c}u];`).join(' ');
  return `${paramsDecl(bAt + rb + 3)}
${storageDecl(1, 'a', at)}
${storageDecl(2, 'b', bt)}
${storageDecl(3, 'out', ot, true)}
var<workgroup> As: array<${ct}, ${TILE * TK}>;
var<workgroup> Bs: array<${ct}, ${TK * TILE}>;
@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = prm(0u); let K = prm(1u); let N = prm(2u);
  let batch = wg.z + prm(3u);
${stridedWalk('batch', rb, 4, ['ao', 'bo'], [aAt, bAt], undefined, 'b')}
  let sam = prm(${aAt + rb + 1}u); let sak = prm(${aAt + rb + 2}u);
  let sbk = prm(${bAt + rb + 1}u); let sbn = prm(${bAt + rb + 2}u);
  let tx = lid.x; let ty = lid.y;
  let t = ty * ${THREADS}u + tx;
  let tileRow = wg.y * ${TILE}u;
  let tileCol = wg.x * ${TILE}u;
  ${accs.join(' ')}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${TK}u) {
    for (var e = t; e < ${TILE * TK}u; e = e + ${THREADS * THREADS}u) {
      let am = tileRow + e / ${TK}u; let ak = k0 + e % ${TK}u;
      var av = ${z};
      if (am < M && ak < K) { av = ${load('a[ao + am * sam + ak * sak]', at, ct)}; }
      As[e] = av;
      let bk = k0 + e / ${TILE}u; let bn = tileCol + e % ${TILE}u;
      var bv = ${z};
      if (bk < K && bn < N) { bv = ${load('b[bo + bk * sbk + bn * sbn]', bt, ct)}; }
      Bs[e] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {
      ${aLoads}
      ${bLoads}
      ${fma.join(' ')}
    }
    workgroupBarrier();
  }
  let row0 = tileRow + ty * ${PER}u;
  let col0 = tileCol + tx * ${PER}u;
  let ob = batch * M * N;
  ${outs.join('\n  ')}
}`;
}

/** `out[b] = a[b] · b[b]` for `a` `[...batch, M, K]` and `b` `[...batch, K, N]`, into a contiguous `[...batch, M, N]`. */
export function matmul(host: KernelHost, a: Operand, b: Operand, outDtype: DType): WebGPUBuffer {
  const nd = a.shape.length;
  const [M, K] = [a.shape[nd - 2]!, a.shape[nd - 1]!];
  const N = b.shape[nd - 1]!;
  const batchShape = a.shape.slice(0, nd - 2);
  const nb = batchShape.length;
  const c = coalesce(batchShape, [a.strides.slice(0, nb), b.strides.slice(0, nb)]);
  const batches = sizeOf(batchShape);
  const at = storageOf('matmul', a.buffer.dtype);
  const bt = storageOf('matmul', b.buffer.dtype);
  const ot = storageOf('matmul', outDtype);
  const ct = computeOf('matmul', outDtype);
  const rb = c.shape.length;
  const out = host.output('matmul', outDtype, batches * M * N);
  if (batches * M * N === 0) return out;
  const kernel = { key: `matmul:${at}:${bt}:${ot}:${rb}`, source: () => matmulSource(at, bt, ot, ct, rb) };
  const bufs = [(a.buffer as WebGPUBuffer).gpu, (b.buffer as WebGPUBuffer).gpu, out.gpu];
  const [gx, gy] = [Math.ceil(N / TILE), Math.ceil(M / TILE)];
  const tail = [a.offset, ...c.strides[0]!, a.strides[nd - 2]!, a.strides[nd - 1]!, b.offset, ...c.strides[1]!, b.strides[nd - 2]!, b.strides[nd - 1]!];
  for (let b0 = 0; b0 < batches; b0 += host.ctx.maxGroupsPerDim) {
    const gz = Math.min(host.ctx.maxGroupsPerDim, batches - b0);
    host.ctx.dispatch(kernel, [M, K, N, b0, ...c.shape, ...tail], bufs, [gx, gy, gz]);
  }
  return out;
}
