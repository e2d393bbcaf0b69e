/**
 * The wasm backend's fused kernels (`FusedKernels` of `backend.ts`) and its SIMD column sums and
 * `where`: layout checks, scratch memory and calls into the modules of `fused-kernels.ts`,
 * `adamw-kernel.ts`, `column-sum-kernel.ts` and `where-kernel.ts`. Every method
 * returns `null` (or `false`) for what it does not take — a dtype other than float32, a layout whose rows
 * are not contiguous, an empty tensor — and the caller then composes the op from primitive kernels.
 * @module
 */
import type { AdamWMoments, AdamWStep, NormGrads, NormKind, Operand } from '../backend.js';
import { coalesce } from '../cpu/strided.js';
import { isContiguous, sizeOf } from '../shape.js';
import { adamwModule, type AdamWConstants, type AdamWExports } from './adamw-kernel.js';
import { columnSumModule, type ColumnSumExports } from './column-sum-kernel.js';
import {
  geluModule,
  normModule,
  softmaxGradModule,
  softmaxModule,
  type GeluExports,
  type NormExports,
  type SoftmaxExports,
  type SoftmaxGradExports,
} from './fused-kernels.js';
import { whereModule, type WhereExports, type WhereForm } from './where-kernel.js';
import { WasmBuffer, type WasmHeap } from './memory.js';

/** Compiled modules, shared by every heap (keyed with the memory's sharedness). */
const compiled = new Map<string, WebAssembly.Module>();

/** Columns summed per kernel call: the float64 accumulators (8 bytes each) stay in L1. */
const COLUMN_CHUNK = 2048;

/** A float32 operand whose elements are contiguous, as rows of its last axis: its byte address, rows and row length. */
interface Rows {
  readonly ptr: number;
  readonly rows: number;
  readonly n: number;
}

/** The fused kernels over one heap, instantiated on first use. */
export class WasmFused {
  readonly #heap: () => WasmHeap;
  readonly #instances = new Map<string, unknown>();

  /** Kernels over the memory `heap()` returns (read at each call, so the backend may create it later). */
  constructor(heap: () => WasmHeap) {
    this.#heap = heap;
  }

  #module<T>(key: string, bytes: (shared: boolean) => Uint8Array<ArrayBuffer>): T {
    let ex = this.#instances.get(key) as T | undefined;
    if (ex === undefined) {
      const heap = this.#heap();
      const ckey = `${key}-${heap.shared ? 'shared' : 'plain'}`;
      let mod = compiled.get(ckey);
      if (mod === undefined) {
        mod = new WebAssembly.Module(bytes(heap.shared));
        compiled.set(ckey, mod);
      }
      ex = new WebAssembly.Instance(mod, { env: { memory: heap.memory } }).exports as T;
      this.#instances.set(key, ex);
    }
    return ex;
  }

  #buf(o: Operand): WasmBuffer {
    const b = o.buffer;
    if (!(b instanceof WasmBuffer) || b.heap !== this.#heap()) throw new TypeError('wasm: got a buffer from another backend');
    return b;
  }

  /** `o` as rows of its last axis when it is a non-empty contiguous float32 view; else null. */
  #rows(o: Operand): Rows | null {
    if (o.buffer.dtype !== 'float32' || o.shape.length === 0 || !isContiguous(o.shape, o.strides)) return null;
    const size = sizeOf(o.shape);
    const n = o.shape[o.shape.length - 1]!;
    if (size === 0) return null;
    return { ptr: this.#buf(o).ptr + 4 * o.offset, rows: size / n, n };
  }

  #out(size: number): WasmBuffer {
    return new WasmBuffer(this.#heap(), 'float32', size);
  }

  /** See `FusedKernels.softmax`. Log-softmax rows whose maximum is ±∞ are left to the composition (its `logsumexp` treats them specially). */
  softmax(x: Operand, log: boolean): WasmBuffer | null {
    const r = this.#rows(x);
    if (r === null) return null;
    const k = this.#module<SoftmaxExports>('softmax', softmaxModule);
    if (!log) {
      const out = this.#out(r.rows * r.n);
      k.softmax(r.ptr, out.ptr, r.rows, r.n);
      return out;
    }
    const heap = this.#heap();
    const scratch = heap.alloc(12 * r.rows);
    try {
      k.stats(r.ptr, scratch, r.rows, r.n);
      const st = new Float32Array(heap.buffer, scratch, 3 * r.rows);
      for (let i = 0; i < r.rows; i++) {
        const m = st[2 * i]!;
        if (m === Infinity || m === -Infinity) return null;
        // logsumexp's rounding: log Σ in float32, then + max in float32.
        st[2 * r.rows + i] = Math.fround(Math.fround(Math.log(st[2 * i + 1]!)) + m);
      }
      const out = this.#out(r.rows * r.n);
      k.subRows(r.ptr, scratch + 8 * r.rows, out.ptr, r.rows, r.n);
      return out;
    } finally {
      heap.free(scratch);
    }
  }

  /** See `FusedKernels.softmaxBackward`. */
  softmaxBackward(y: Operand, g: Operand, log: boolean): WasmBuffer | null {
    const [ry, rg] = [this.#rows(y), this.#rows(g)];
    if (ry === null || rg === null || ry.n !== rg.n || ry.rows !== rg.rows) return null;
    const k = this.#module<SoftmaxGradExports>('softmax-grad', softmaxGradModule);
    const out = this.#out(ry.rows * ry.n);
    (log ? k.logSoftmaxGrad : k.softmaxGrad)(ry.ptr, rg.ptr, out.ptr, ry.rows, ry.n);
    return out;
  }

  /** The `[n]` float32 vector `o`'s byte address, 0 for null; undefined when it does not qualify. */
  #vector(o: Operand | null, n: number): number | undefined {
    if (o === null) return 0;
    const r = this.#rows(o);
    return r !== null && r.rows === 1 && r.n === n ? r.ptr : undefined;
  }

  #norm(kind: NormKind, weight: boolean, bias: boolean): NormExports {
    const key = `norm-${kind}${weight ? '-w' : ''}${bias ? '-b' : ''}`;
    return this.#module<NormExports>(key, (shared) => normModule({ kind, weight, bias }, shared));
  }

  /** See `FusedKernels.norm`. */
  norm(kind: NormKind, x: Operand, weight: Operand | null, bias: Operand | null, eps: number): WasmBuffer | null {
    const r = this.#rows(x);
    if (r === null || (bias !== null && (weight === null || kind === 'rms'))) return null;
    const [w, b] = [this.#vector(weight, r.n), this.#vector(bias, r.n)];
    if (w === undefined || b === undefined) return null;
    const out = this.#out(r.rows * r.n);
    this.#norm(kind, weight !== null, bias !== null).forward(r.ptr, w, b, out.ptr, r.rows, r.n, eps);
    return out;
  }

  /** See `FusedKernels.normBackward`. The weight and bias gradients are summed in float64. */
  normBackward(kind: NormKind, x: Operand, weight: Operand | null, hasBias: boolean, g: Operand, eps: number): NormGrads | null {
    const [r, rg] = [this.#rows(x), this.#rows(g)];
    if (r === null || rg === null || rg.n !== r.n || rg.rows !== r.rows || (hasBias && (weight === null || kind === 'rms'))) return null;
    const w = this.#vector(weight, r.n);
    if (w === undefined) return null;
    const heap = this.#heap();
    const n = r.n;
    const acc = weight === null ? 0 : heap.alloc(16 * n);
    try {
      if (acc !== 0) new Float64Array(heap.buffer, acc, 2 * n).fill(0);
      const dx = this.#out(r.rows * n);
      this.#norm(kind, weight !== null, hasBias).backward(r.ptr, w, rg.ptr, dx.ptr, acc, acc + 8 * n, r.rows, n, eps);
      const sums = (at: number): WasmBuffer => {
        const out = this.#out(n);
        (out.data as Float32Array).set(new Float64Array(heap.buffer, at, n));
        return out;
      };
      return { dx, dweight: weight === null ? null : sums(acc), dbias: hasBias ? sums(acc + 8 * n) : null };
    } finally {
      if (acc !== 0) heap.free(acc);
    }
  }

  /** See `FusedKernels.gelu`. */
  gelu(x: Operand, g: Operand | null): WasmBuffer | null {
    const r = this.#rows(x);
    const rg = g === null ? null : this.#rows(g);
    if (r === null || (g !== null && (rg === null || rg.rows * rg.n !== r.rows * r.n))) return null;
    const k = this.#module<GeluExports>('gelu', geluModule);
    const size = r.rows * r.n;
    const out = this.#out(size);
    if (rg === null) k.forward(r.ptr, out.ptr, size);
    else k.backward(r.ptr, rg.ptr, out.ptr, size);
    return out;
  }

  /** See `FusedKernels.adamwUpdate`. */
  adamwUpdate(param: Operand, grad: Operand, m: Operand, v: Operand, s: AdamWStep): AdamWMoments | null {
    const ops = [param, grad, m, v].map((o) => this.#rows(o));
    const size = sizeOf(param.shape);
    if (ops.some((o) => o === null || o.rows * o.n !== size)) return null;
    const [p, g, mp, vp] = ops as Rows[];
    const k = this.#module<AdamWExports>('adamw', adamwModule);
    const [mOut, vOut] = [this.#out(size), this.#out(size)];
    // The same float32 constants as the composition's scalars (see nn/optim/adamw.ts).
    const w = 1 - s.beta1;
    const consts: AdamWConstants = [
      1 - s.lr * s.weightDecay,
      w < 0.5 ? w : 1 - w,
      s.beta2,
      1 - s.beta2,
      -(s.lr / (1 - s.beta1 ** s.step)),
      Math.sqrt(1 - s.beta2 ** s.step),
      s.eps,
      s.maximize ? -1 : 1,
    ];
    (w < 0.5 ? k.low : k.high)(p!.ptr, g!.ptr, mp!.ptr, vp!.ptr, mOut.ptr, vOut.ptr, size, ...consts);
    return { m: mOut, v: vOut };
  }

  /**
   * Sums over leading axes into `out` when the kept axes form one contiguous run (stride 1) and the summed
   * axes one strided run: column sums, in float64 in row order. False when the layout does not allow it.
   */
  sumColumns(x: Operand, axes: readonly number[], out: WasmBuffer): boolean {
    if (x.buffer.dtype !== 'float32' || out.dtype !== 'float32' || axes.length === 0) return false;
    const keep = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const inner = coalesce(axes.map((i) => x.shape[i]!), [axes.map((i) => x.strides[i]!)]);
    const outer = coalesce(keep.map((i) => x.shape[i]!), [keep.map((i) => x.strides[i]!)]);
    if (outer.shape.length !== 1 || outer.strides[0]![0] !== 1 || inner.shape.length !== 1) return false;
    const [rows, n, rowStride] = [inner.shape[0]!, outer.shape[0]!, inner.strides[0]![0]!];
    const heap = this.#heap();
    const k = this.#module<ColumnSumExports>('column-sum', columnSumModule);
    const base = this.#buf(x).ptr + 4 * x.offset;
    const acc = heap.alloc(8 * Math.min(n, COLUMN_CHUNK));
    try {
      for (let j = 0; j < n; j += COLUMN_CHUNK) {
        k.sumCols(base + 4 * j, 4 * rowStride, rows, Math.min(COLUMN_CHUNK, n - j), acc, out.ptr + 4 * j);
      }
    } finally {
      heap.free(acc);
    }
    return true;
  }

  /**
   * `out = cond ? a : b` for a bool `cond` and float32 `a`, `b` given as a row plan (`planRows` over the
   * three): SIMD when each operand is contiguous along the rows or one value broadcast over each row.
   * False otherwise.
   */
  where(plan: { rows: number; len: number; starts: Int32Array[]; steps: number[] }, cond: Operand, a: Operand, b: Operand, out: WasmBuffer): boolean {
    if (plan.steps.some((s) => s !== 0 && s !== 1)) return false;
    const form = plan.steps.map((s) => (s === 1 ? 'v' : 's')).join('') as WhereForm;
    const fn = this.#module<WhereExports>('where', whereModule)[form];
    const [pc, pa, pb] = [this.#buf(cond).ptr, this.#buf(a).ptr, this.#buf(b).ptr];
    const [rc, ra, rb] = plan.starts as [Int32Array, Int32Array, Int32Array];
    for (let r = 0; r < plan.rows; r++) fn(pc + rc[r]!, pa + 4 * ra[r]!, pb + 4 * rb[r]!, out.ptr + 4 * r * plan.len, plan.len);
    return true;
  }
}
