/**
 * The WebAssembly backend: every buffer lives in one `WebAssembly.Memory` (see `memory.ts`), and the hot
 * float32 kernels are SIMD code generated at run time (`matmul-kernel.ts`, `elementwise-kernel.ts`):
 * matmul, binary add/sub/mul/div/maximum/minimum over contiguous runs (also against a broadcast scalar),
 * unary neg/abs/sqrt/relu (and exp/sigmoid from `simd-math.ts`), sum / max over contiguous trailing
 * axes, sums over leading axes (column sums) and `where`; and the fused kernels of `fused.ts` (softmax,
 * layer/RMS norm, GELU, AdamW), which the op layer prefers where it can. Every other case runs the
 * plain-TS CPU kernels on typed-array views of the same memory, with no copies, so there is one
 * implementation of each op's semantics.
 *
 * Features are detected at run time: without SIMD every kernel is the TS one; without relaxed SIMD the
 * matmul multiplies and adds separately instead of `f32x4.relaxed_madd`. Where workers can share the
 * memory (see `threads.ts`), large matmuls, SIMD elementwise ops and reductions are split across threads.
 * @module
 */
import type { AdamWMoments, AdamWStep, BinaryOp, DeviceBuffer, NormGrads, NormKind, Operand, ReduceOp, UnaryOp } from '../backend.js';
import { binaryKernel, copyKernel, unaryFn, unaryKernel, whereKernel } from '../cpu/elementwise.js';
import { matmulKernel } from '../cpu/matmul.js';
import { reduceKernel } from '../cpu/reduce.js';
import { coalesce, outerOffsets, planRows } from '../cpu/strided.js';
import { TypedArrayBackend } from '../cpu/typed-array-backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { isContiguous, sizeOf } from '../shape.js';
import {
  binaryModule,
  reductionModule,
  SIMD_BINARY,
  SIMD_UNARY,
  unaryModule,
  type BinaryExports,
  type ReductionExports,
  type SimdBinaryOp,
  type SimdUnaryOp,
  type UnaryExports,
} from './elementwise-kernel.js';
import { wasmFeatures } from './features.js';
import { WasmFused } from './fused.js';
import { MATH_UNARY, mathUnaryModule, type MathUnaryOp } from './fused-kernels.js';
import { MATMUL_TILE, matmulF32, type MatmulTile } from './matmul.js';
import { matmulModule, type MatmulExports } from './matmul-kernel.js';
import { matmulF32Parallel } from './matmul-parallel.js';
import { WasmBuffer, WasmHeap, type WasmHeapOptions } from './memory.js';
import { combinePartials, mapShares, partialShares, rowListShares, rowShares, TASKS_PER_THREAD } from './parallel.js';
import { planThreads, WasmThreads, type ThreadModule, type WasmThreadOptions } from './threads.js';

/** Options of {@link WasmBackend}: the memory's, the threads', and which detected features to use. */
export interface WasmBackendOptions extends WasmHeapOptions, WasmThreadOptions {
  /** Use the SIMD kernels where the runtime has SIMD (default true; false runs the TS kernels only). */
  simd?: boolean;
  /** Use relaxed SIMD's fused multiply-add where the runtime has it (default true). */
  relaxedSimd?: boolean;
  /** The matmul register tile (default {@link MATMUL_TILE}, 4×8); results do not depend on it. */
  matmulTile?: MatmulTile;
}

/** Which kernels a {@link WasmBackend} runs. */
export interface WasmKernelSet {
  /** SIMD kernels are in use. */
  readonly simd: boolean;
  /** The matmul uses `f32x4.relaxed_madd`. */
  readonly relaxedSimd: boolean;
  /** The memory is shared (a `SharedArrayBuffer`). */
  readonly shared: boolean;
  /** Threads large ops are split across once the workers have started (see {@link WasmBackend.threads}). */
  readonly threads: number;
  /** The matmul register tile. */
  readonly matmulTile: MatmulTile;
}

/** Rows shorter than this go through one TS-kernel call rather than a wasm call per row. */
const MIN_SIMD_ROW = 16;

/** Compiled modules and their bytes, shared by every backend (each instantiates them against its own memory). */
const compiled = new Map<string, { module: WebAssembly.Module; bytes: Uint8Array }>();

const isSimdBinary = (op: BinaryOp): op is SimdBinaryOp => (SIMD_BINARY as readonly string[]).includes(op);
const isSimdUnary = (op: UnaryOp): op is SimdUnaryOp => (SIMD_UNARY as readonly string[]).includes(op);
const isMathUnary = (op: UnaryOp): op is MathUnaryOp => (MATH_UNARY as readonly string[]).includes(op);

/** The wasm backend (name `'wasm'`). Synchronous reads are always available. */
export class WasmBackend extends TypedArrayBackend<WasmBuffer> {
  /** `'wasm'`. */
  readonly name = 'wasm';
  /**
   * Buffers live in wasm memory, which the garbage collector does not see, and finalisers run only
   * between tasks: so tensors are tracked, and `Tensor.dispose()` / `scope()` free their blocks at once
   * (what is never disposed is still freed once collected).
   */
  readonly explicitMemory = true;
  /** The memory and its allocator. */
  readonly heap: WasmHeap;
  /** The kernels in use. */
  readonly kernels: WasmKernelSet;
  /** The worker threads (none with one thread): their status, `ready()`, `close()`. */
  readonly threads: WasmThreads;
  readonly #instances = new Map<string, ThreadModule>();
  readonly #fused = new WasmFused(() => this.heap);

  /** Creates the memory (kernels are compiled on first use); throws where WebAssembly, or a requested shared memory, is missing. */
  constructor(opts: WasmBackendOptions = {}) {
    super();
    const f = wasmFeatures();
    if (!f.wasm) throw new Error('wasm backend: this runtime has no WebAssembly');
    const plan = planThreads(opts, f.threads && opts.shared !== false);
    const shared = opts.shared ?? plan.count > 1;
    if (shared && !f.threads) {
      throw new Error('wasm backend: shared memory requested, but this runtime cannot share wasm memory (needs SharedArrayBuffer and cross-origin isolation)');
    }
    const simd = (opts.simd ?? true) && f.simd;
    const relaxedSimd = simd && (opts.relaxedSimd ?? true) && f.relaxedSimd;
    this.heap = new WasmHeap({ ...opts, shared });
    const matmulTile = opts.matmulTile ?? MATMUL_TILE;
    const { rows, vectors, unroll } = matmulTile;
    if (![rows, vectors, unroll].every((v) => Number.isInteger(v) && v >= 1) || rows * vectors > 16) {
      throw new RangeError(`wasm backend: bad matmulTile ${JSON.stringify(matmulTile)} (positive integers, rows·vectors ≤ 16)`);
    }
    this.threads = new WasmThreads(this.heap, plan, opts, this);
    this.kernels = { simd, relaxedSimd, shared, threads: plan.count, matmulTile: { rows, vectors, unroll } };
  }

  alloc(dtype: DType, size: number): WasmBuffer {
    const b = new WasmBuffer(this.heap, dtype, size);
    b.data.fill(0);
    return b;
  }

  write(buffer: DeviceBuffer, data: TypedArray): void {
    const dst = this.#buf(buffer).data;
    if (dst.length !== data.length) throw new RangeError(`wasm.write: ${data.length} values into a buffer of ${dst.length}`);
    dst.set(data);
  }

  /** A copy of the elements (a view could be detached by a later growth before the caller reads it). */
  read(buffer: DeviceBuffer): Promise<TypedArray> {
    return Promise.resolve(this.#buf(buffer).data.slice());
  }

  /** A view of the elements in wasm memory, valid until the next allocation on this backend. */
  readSync(buffer: DeviceBuffer): TypedArray {
    return this.#buf(buffer).data;
  }

  free(buffer: DeviceBuffer): void {
    this.#buf(buffer).free();
  }

  /** `op(x)`: SIMD for contiguous float32 runs of neg/abs/sqrt/relu; the TS kernel otherwise. */
  override unary(op: UnaryOp, x: Operand, outDtype: DType): WasmBuffer {
    const out = this.output(outDtype, sizeOf(x.shape));
    if (this.kernels.simd && (isSimdUnary(op) || isMathUnary(op)) && x.buffer.dtype === 'float32' && outDtype === 'float32') {
      const p = planRows(x.shape, [x]);
      if (p.steps[0] === 1 && (p.len >= MIN_SIMD_ROW || p.rows === 1)) {
        const mod = this.#module(`unary-${op}`, (shared) => (isMathUnary(op) ? mathUnaryModule(op, shared) : unaryModule(op, shared)));
        const fn = (mod.exports as unknown as UnaryExports).map;
        const xp = this.#buf(x.buffer).ptr;
        if (this.#splits(p.rows * p.len, this.threads.minElements)) {
          this.threads.run(mod, mapShares('map', [{ ptr: xp, starts: p.starts[0]!, step: 1 }], out.ptr, p.rows, p.len, this.threads.running));
          return out;
        }
        for (let r = 0; r < p.rows; r++) fn(xp + p.starts[0]![r]! * 4, out.ptr + r * p.len * 4, p.len);
        return out;
      }
    }
    unaryKernel(unaryFn(op, outDtype === 'float64'), this.data(x.buffer), x, x.shape, out.data);
    return out;
  }

  /** `op(a, b)`: SIMD for float32 arithmetic over contiguous or scalar-broadcast runs; the TS kernel otherwise. */
  override binary(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): WasmBuffer {
    const out = this.output(outDtype, sizeOf(a.shape));
    if (this.kernels.simd && isSimdBinary(op) && a.buffer.dtype === 'float32' && b.buffer.dtype === 'float32' && outDtype === 'float32') {
      const p = planRows(a.shape, [a, b]);
      const [sa, sb] = p.steps as [number, number];
      const form = sa === 1 && sb === 1 ? 'vv' : sa === 0 && sb === 1 ? 'sv' : sa === 1 && sb === 0 ? 'vs' : null;
      if (form !== null && (p.len >= MIN_SIMD_ROW || p.rows === 1)) {
        const mod = this.#module(`binary-${op}`, (shared) => binaryModule(op, shared));
        const fn = (mod.exports as unknown as BinaryExports)[form];
        const [ap, bp] = [this.#buf(a.buffer).ptr, this.#buf(b.buffer).ptr];
        const [ra, rb] = p.starts as [Int32Array, Int32Array];
        if (this.#splits(p.rows * p.len, this.threads.minElements)) {
          const ins = [{ ptr: ap, starts: ra, step: sa }, { ptr: bp, starts: rb, step: sb }];
          this.threads.run(mod, mapShares(form, ins, out.ptr, p.rows, p.len, this.threads.running));
          return out;
        }
        for (let r = 0; r < p.rows; r++) fn(ap + ra[r]! * 4, bp + rb[r]! * 4, out.ptr + r * p.len * 4, p.len);
        return out;
      }
    }
    binaryKernel(op, this.data(a.buffer), a, this.data(b.buffer), b, a.shape, out.data);
    return out;
  }

  /** Sum or max over a contiguous trailing run in SIMD; other reductions by the TS kernel. */
  override reduce(op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): WasmBuffer {
    const out = this.output(outDtype, sizeOf(x.shape.filter((_, i) => !axes.includes(i))));
    if (this.kernels.simd && (op === 'sum' || op === 'max') && x.buffer.dtype === 'float32' && outDtype === 'float32') {
      if (this.#reduceRows(op, x, axes, out)) return out;
      if (op === 'sum' && this.#fused.sumColumns(x, axes, out)) return out;
    }
    reduceKernel(op, this.data(x.buffer), x, x.shape, axes, out.data);
    return out;
  }

  /** float32: packed panels and the generated register-tiled SIMD micro-kernel; other dtypes by the TS kernel. */
  override matmul(a: Operand, b: Operand, outDtype: DType): WasmBuffer {
    const nd = a.shape.length;
    const [M, K] = [a.shape[nd - 2]!, a.shape[nd - 1]!];
    const N = b.shape[nd - 1]!;
    const batch = a.shape.slice(0, nd - 2);
    const out = this.output(outDtype, sizeOf(batch) * M * N);
    const [ab, bb] = [this.#buf(a.buffer), this.#buf(b.buffer)];
    if (this.kernels.simd && ab.dtype === 'float32' && bb.dtype === 'float32' && outDtype === 'float32') {
      const { relaxedSimd: relaxed, matmulTile: tile } = this.kernels;
      const key = `matmul-${relaxed ? 'relaxed' : 'mul-add'}-${tile.rows}x${tile.vectors}x${tile.unroll}`;
      const mod = this.#module(key, (shared) => matmulModule({ ...tile, relaxed, shared }));
      const [pa, pb] = [{ ...a, buffer: ab }, { ...b, buffer: bb }];
      const split = this.#splits(2 * out.size * K, this.threads.minFlops);
      if (!split || !matmulF32Parallel(this.heap, this.threads, mod, tile, pa, pb, batch, M, K, N, out)) {
        matmulF32(this.heap, mod.exports as unknown as MatmulExports, tile, pa, pb, batch, M, K, N, out);
      }
    } else {
      matmulKernel(ab.data, a, bb.data, b, batch, M, K, N, out.data);
    }
    return out;
  }

  /** A single memmove for same-dtype contiguous views; the strided TS kernel otherwise. */
  override copy(src: Operand, dst: Operand): void {
    const [s, d] = [this.data(src.buffer), this.data(dst.buffer)];
    if (src.buffer.dtype === dst.buffer.dtype && isContiguous(src.shape, src.strides) && isContiguous(dst.shape, dst.strides)) {
      // One memmove (TypedArray.set copies correctly even when the two ranges overlap).
      d.set(s.subarray(src.offset, src.offset + sizeOf(src.shape)), dst.offset);
      return;
    }
    copyKernel(s, src, d, dst, src.shape, dst.buffer.dtype === 'bool');
  }

  /** float32 `cond ? a : b` with a bool condition in SIMD over contiguous or scalar-broadcast runs; the TS kernel otherwise. */
  override where(cond: Operand, a: Operand, b: Operand, outDtype: DType): WasmBuffer {
    const out = this.output(outDtype, sizeOf(a.shape));
    const f32 = a.buffer.dtype === 'float32' && b.buffer.dtype === 'float32' && outDtype === 'float32';
    if (this.kernels.simd && f32 && cond.buffer.dtype === 'bool') {
      const p = planRows(a.shape, [cond, a, b]);
      if ((p.len >= MIN_SIMD_ROW || p.rows === 1) && this.#fused.where(p, cond, a, b, out)) return out;
    }
    whereKernel(this.data(cond.buffer), cond, this.data(a.buffer), a, this.data(b.buffer), b, a.shape, out.data);
    return out;
  }

  // Fused kernels (see `fused.ts`): SIMD only; null lets the op layer compose the op.
  /** Softmax or log-softmax over the last axis of a contiguous float32 tensor. */
  softmax(x: Operand, log: boolean): WasmBuffer | null {
    return this.kernels.simd ? this.#fused.softmax(x, log) : null;
  }
  /** The softmax / log-softmax input gradient from the output `y` and its gradient `g`. */
  softmaxBackward(y: Operand, g: Operand, log: boolean): WasmBuffer | null {
    return this.kernels.simd ? this.#fused.softmaxBackward(y, g, log) : null;
  }
  /** Layer norm or RMS norm over the last axis. */
  norm(kind: NormKind, x: Operand, weight: Operand | null, bias: Operand | null, eps: number): WasmBuffer | null {
    return this.kernels.simd ? this.#fused.norm(kind, x, weight, bias, eps) : null;
  }
  /** The norm's input, weight and bias gradients. */
  normBackward(kind: NormKind, x: Operand, weight: Operand | null, hasBias: boolean, g: Operand, eps: number): NormGrads | null {
    return this.kernels.simd ? this.#fused.normBackward(kind, x, weight, hasBias, g, eps) : null;
  }
  /** Exact GELU, or its input gradient given the output gradient `g`. */
  gelu(x: Operand, g: Operand | null): WasmBuffer | null {
    return this.kernels.simd ? this.#fused.gelu(x, g) : null;
  }
  /** One AdamW step: the parameter in place, fresh moments. */
  adamwUpdate(param: Operand, grad: Operand, m: Operand, v: Operand, step: AdamWStep): AdamWMoments | null {
    return this.kernels.simd ? this.#fused.adamwUpdate(param, grad, m, v, step) : null;
  }

  /**
   * Sum or max with SIMD when the reduced axes form one contiguous run (stride 1) and the kept axes walk
   * the rows with one stride; false when the layout does not allow it.
   */
  #reduceRows(op: 'sum' | 'max', x: Operand, axes: readonly number[], out: WasmBuffer): boolean {
    const keep = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const inner = coalesce(axes.map((i) => x.shape[i]!), [axes.map((i) => x.strides[i]!)]);
    const outer = coalesce(keep.map((i) => x.shape[i]!), [keep.map((i) => x.strides[i]!)]);
    if (inner.shape.length !== 1 || inner.strides[0]![0] !== 1) return false;
    const n = inner.shape[0]!;
    const mod = this.#module('reduction', reductionModule);
    const name = op === 'sum' ? 'sumRows' : 'maxRows';
    const fn = (mod.exports as unknown as ReductionExports)[name];
    const base = this.#buf(x.buffer).ptr + x.offset * 4;
    const split = this.#splits(out.size * n, this.threads.minElements);
    const T = this.threads.running;
    if (outer.shape.length <= 1) {
      const rows = outer.shape[0] ?? 1;
      const stride = (outer.strides[0]![0] ?? 0) * 4;
      if (split && rows > 1) this.threads.run(mod, rowShares(name, base, stride, rows, n, out.ptr, T));
      else if (split) {
        const parts = T * TASKS_PER_THREAD;
        const partials = this.heap.alloc(4 * parts);
        try {
          this.threads.run(mod, partialShares(name, base, n, partials, T));
          (out.data as Float32Array)[0] = combinePartials(op, new Float32Array(this.heap.buffer, partials, parts));
        } finally {
          this.heap.free(partials);
        }
      } else fn(base, stride, rows, n, out.ptr);
      return true;
    }
    if (n < MIN_SIMD_ROW) return false;
    const starts = outerOffsets(outer.shape, outer.strides[0]!, 0);
    if (split) {
      this.threads.run(mod, rowListShares(name, base, starts, n, out.ptr, T));
      return true;
    }
    for (let r = 0; r < starts.length; r++) fn(base + starts[r]! * 4, 0, 1, n, out.ptr + r * 4);
    return true;
  }

  /** The exports of the module `key`, compiled on first use by any backend and instantiated on this one's memory. */
  #kernel<T>(key: string, bytes: (shared: boolean) => Uint8Array<ArrayBuffer>): T {
    return this.#module(key, bytes).exports as T;
  }

  /** The module `key` (compiled on first use by any backend, instantiated on this one's memory) as the threads need it. */
  #module(key: string, bytes: (shared: boolean) => Uint8Array<ArrayBuffer>): ThreadModule {
    let m = this.#instances.get(key);
    if (m === undefined) {
      const shared = this.kernels.shared;
      const ckey = `${key}-${shared ? 'shared' : 'plain'}`;
      let c = compiled.get(ckey);
      if (c === undefined) {
        const b = bytes(shared);
        c = { module: new WebAssembly.Module(b), bytes: b };
        compiled.set(ckey, c);
      }
      m = { key: ckey, bytes: c.bytes, exports: new WebAssembly.Instance(c.module, { env: { memory: this.heap.memory } }).exports };
      this.#instances.set(key, m);
    }
    return m;
  }

  /** Whether an op of `work` (elements or flops) is worth splitting at threshold `min`. */
  #splits(work: number, min: number): boolean {
    return this.threads.worthSplitting(work, min);
  }

  /** A fresh output buffer; its contents are garbage until the kernel writes every element. */
  protected output(dtype: DType, size: number): WasmBuffer {
    return new WasmBuffer(this.heap, dtype, size);
  }

  #buf(b: DeviceBuffer): WasmBuffer {
    if (!(b instanceof WasmBuffer) || b.heap !== this.heap) throw new TypeError('wasm: got a buffer from another backend');
    return b;
  }

  protected data(b: DeviceBuffer): TypedArray {
    return this.#buf(b).data;
  }
}
