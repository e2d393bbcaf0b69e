/**
 * The WebAssembly backend: every buffer lives in one `WebAssembly.Memory` (see `memory.ts`), and the hot
 * float32 kernels are SIMD code generated at run time (`matmul-kernel.ts`, `elementwise-kernel.ts`):
 * matmul, binary add/sub/mul/div/maximum/minimum over contiguous runs (also against a broadcast scalar),
 * unary neg/abs/sqrt/relu, and sum / max over contiguous trailing axes. Every other case runs the
 * plain-TS CPU kernels on typed-array views of the same memory, with no copies, so there is one
 * implementation of each op's semantics.
 *
 * Features are detected at run time: without SIMD every kernel is the TS one; without relaxed SIMD the
 * matmul multiplies and adds separately instead of `f32x4.relaxed_madd`.
 * @module
 */
import type { BinaryOp, DeviceBuffer, Operand, ReduceOp, UnaryOp } from '../backend.js';
import { binaryKernel, copyKernel, unaryFn, unaryKernel } from '../cpu/elementwise.js';
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
import { MATMUL_TILE, matmulF32, type MatmulTile } from './matmul.js';
import { matmulModule, type MatmulExports } from './matmul-kernel.js';
import { WasmBuffer, WasmHeap, type WasmHeapOptions } from './memory.js';

/** Options of {@link WasmBackend}: the memory's, and which detected features to use. */
export interface WasmBackendOptions extends WasmHeapOptions {
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
  /** The matmul register tile. */
  readonly matmulTile: MatmulTile;
}

/** Rows shorter than this go through one TS-kernel call rather than a wasm call per row. */
const MIN_SIMD_ROW = 16;

/** Compiled modules, shared by every backend (each instantiates them against its own memory). */
const compiled = new Map<string, WebAssembly.Module>();

const isSimdBinary = (op: BinaryOp): op is SimdBinaryOp => (SIMD_BINARY as readonly string[]).includes(op);
const isSimdUnary = (op: UnaryOp): op is SimdUnaryOp => (SIMD_UNARY as readonly string[]).includes(op);

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
  readonly #instances = new Map<string, unknown>();

  /** Creates the memory (kernels are compiled on first use); throws where WebAssembly, or a requested shared memory, is missing. */
  constructor(opts: WasmBackendOptions = {}) {
    super();
    const f = wasmFeatures();
    if (!f.wasm) throw new Error('wasm backend: this runtime has no WebAssembly');
    const shared = opts.shared ?? false;
    if (shared && !f.threads) {
      throw new Error('wasm backend: shared memory requested, but this runtime cannot share wasm memory (needs SharedArrayBuffer and cross-origin isolation)');
    }
    const simd = (opts.simd ?? true) && f.simd;
    const relaxedSimd = simd && (opts.relaxedSimd ?? true) && f.relaxedSimd;
    this.heap = new WasmHeap(opts);
    const matmulTile = opts.matmulTile ?? MATMUL_TILE;
    const { rows, vectors, unroll } = matmulTile;
    if (![rows, vectors, unroll].every((v) => Number.isInteger(v) && v >= 1) || rows * vectors > 16) {
      throw new RangeError(`wasm backend: bad matmulTile ${JSON.stringify(matmulTile)} (positive integers, rows·vectors ≤ 16)`);
    }
    this.kernels = { simd, relaxedSimd, shared, matmulTile: { rows, vectors, unroll } };
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
    if (this.kernels.simd && isSimdUnary(op) && x.buffer.dtype === 'float32' && outDtype === 'float32') {
      const p = planRows(x.shape, [x]);
      if (p.steps[0] === 1 && (p.len >= MIN_SIMD_ROW || p.rows === 1)) {
        const fn = this.#kernel<UnaryExports>(`unary-${op}`, (shared) => unaryModule(op, shared)).map;
        const xp = this.#buf(x.buffer).ptr;
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
        const fn = this.#kernel<BinaryExports>(`binary-${op}`, (shared) => binaryModule(op, shared))[form];
        const [ap, bp] = [this.#buf(a.buffer).ptr, this.#buf(b.buffer).ptr];
        const [ra, rb] = p.starts as [Int32Array, Int32Array];
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
      const mm = this.#kernel<MatmulExports>(key, (shared) => matmulModule({ ...tile, relaxed, shared }));
      matmulF32(this.heap, mm, tile, { ...a, buffer: ab }, { ...b, buffer: bb }, batch, M, K, N, out);
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
    const fn = this.#kernel<ReductionExports>('reduction', reductionModule)[op === 'sum' ? 'sumRows' : 'maxRows'];
    const base = this.#buf(x.buffer).ptr + x.offset * 4;
    if (outer.shape.length <= 1) {
      const rows = outer.shape[0] ?? 1;
      fn(base, (outer.strides[0]![0] ?? 0) * 4, rows, n, out.ptr);
      return true;
    }
    if (n < MIN_SIMD_ROW) return false;
    const starts = outerOffsets(outer.shape, outer.strides[0]!, 0);
    for (let r = 0; r < starts.length; r++) fn(base + starts[r]! * 4, 0, 1, n, out.ptr + r * 4);
    return true;
  }

  /** The exports of the module `key`, compiled on first use by any backend and instantiated on this one's memory. */
  #kernel<T>(key: string, bytes: (shared: boolean) => Uint8Array<ArrayBuffer>): T {
    let ex = this.#instances.get(key) as T | undefined;
    if (ex === undefined) {
      const shared = this.kernels.shared;
      const ckey = `${key}-${shared ? 'shared' : 'plain'}`;
      let mod = compiled.get(ckey);
      if (mod === undefined) {
        mod = new WebAssembly.Module(bytes(shared));
        compiled.set(ckey, mod);
      }
      ex = new WebAssembly.Instance(mod, { env: { memory: this.heap.memory } }).exports as T;
      this.#instances.set(key, ex);
    }
    return ex;
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
