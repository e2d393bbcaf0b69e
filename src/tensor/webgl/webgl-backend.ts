/**
 * The WebGL2 backend, for browsers without WebGPU: tensors live in float32 textures of a gpu.js `GPU`
 * (mode `'webgl2'`), and every primitive kernel is a gpu.js kernel whose JavaScript is generated for the
 * ranks of its views (`elementwise.ts`, `reduce.ts`, `matmul.ts`, `indexing.ts`, `sort.ts`), with the
 * scalar math in GLSL (`glsl.ts`). Every kernel runs on the GPU, scatter-add and sort included; only a
 * copy into a view whose strides cannot be inverted greedily (not made by slicing, transposing or
 * reshaping) runs on the host.
 *
 * Dtypes: float32; int32 and bool are stored as floats, exact for |x| < 2^24; float64 does not exist in
 * WebGL and creating, casting to or computing in it throws, naming the op. Buffers hold at most 2^24
 * elements (indices are computed in float32).
 *
 * Reads are synchronous (`readPixels`), so `t.dataSync()`, `t.item()` and `await t.data()` all work.
 * Out-of-range gather/scatter-add indices are raised at the next read, as on WebGPU.
 *
 * Memory is explicit: a buffer's texture is deleted when its last tensor is disposed (`t.dispose()`,
 * `scope(fn)`) or, as a safety net, garbage-collected. {@link WebGLBackend.liveBuffers} counts the
 * buffers in use.
 * @module
 */
import type { ArgReduceOp, Backend, BinaryOp, DeviceBuffer, Operand, ReduceOp, SortedBuffers, UnaryOp } from '../backend.js';
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { copyKernel } from '../cpu/elementwise.js';
import { sizeOf } from '../shape.js';
import { WebGLBuffer } from './buffer.js';
import { binary, copied, unary, where } from './elementwise.js';
import type { GpuJs, GpuJsTexture } from './gpujs.js';
import { gather, indexMarks, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { argReduce, cumsum, reduce } from './reduce.js';
import { GLRunner, WEBGL_MAX_ELEMENTS, type GLKernelHost, type GLRunnerStats } from './runner.js';
import { sortLanes } from './sort.js';
import { GLParams } from './source.js';

/** Options of {@link WebGLBackend}. */
export interface WebGLBackendOptions {
  /** Destroy the gpu.js instance in {@link WebGLBackend.destroy} (default false: the caller owns it). */
  ownsGpu?: boolean;
}

/** Counts of a {@link WebGLBackend}'s memory and kernels. */
export interface WebGLStats extends GLRunnerStats {
  /** Buffers allocated and not yet freed. */
  liveBuffers: number;
  /** Gather/scatter-add index checks waiting for the next read. */
  pendingIndexChecks: number;
}

interface IndexCheck {
  op: string;
  marks: GpuJsTexture;
  n: number;
  axis: number;
}

/** Index checks kept for the next read before they are read at once. */
const MAX_PENDING_CHECKS = 64;

/** The WebGL2 backend (name `'webgl'`), on a gpu.js `GPU` in `'webgl2'` mode. */
export class WebGLBackend implements Backend, GLKernelHost {
  /** `'webgl'`. */
  readonly name = 'webgl';
  /** Buffers are GPU textures: tensors should be disposed (see `Tensor.dispose`, `scope`). */
  readonly explicitMemory = true;
  /** The kernels and the gpu.js instance they run on. */
  readonly runner: GLRunner;
  readonly #ownsGpu: boolean;
  #live = 0;
  #empty: GpuJsTexture | null = null;
  #checks: IndexCheck[] = [];

  /** A backend on `gpu`, a gpu.js instance created with `{ mode: 'webgl2' }` (see `createWebGLBackend`). */
  constructor(gpu: GpuJs, opts: WebGLBackendOptions = {}) {
    this.runner = new GLRunner(gpu);
    this.#ownsGpu = opts.ownsGpu ?? false;
  }

  /** The number of buffers allocated and not yet freed. */
  get liveBuffers(): number {
    return this.#live;
  }

  /** Memory and kernel counts. */
  stats(): WebGLStats {
    return { liveBuffers: this.#live, ...this.runner.stats(), pendingIndexChecks: this.#checks.length };
  }

  /** Drops pending index checks, deletes the kernels, and the gpu.js instance if this backend owns it. */
  destroy(): void {
    for (const c of this.#checks) c.marks.delete();
    this.#checks = [];
    this.#empty?.delete();
    this.#empty = null;
    this.runner.destroy();
    if (this.#ownsGpu) this.runner.gpu.destroy?.();
  }

  // --- memory ------------------------------------------------------------------------------------------

  alloc(dtype: DType, size: number): WebGLBuffer {
    if (dtype === 'float64') {
      throw new TypeError(
        `webgl.alloc: cannot create a float64 tensor of ${size} elements (creating or casting to float64): WebGL has no 64-bit floats; use float32, or the cpu backend`,
      );
    }
    if (size > WEBGL_MAX_ELEMENTS) throw new RangeError(`webgl.alloc: ${size} elements is more than a WebGL buffer holds (2^24, indices are float32)`);
    this.#live++;
    return new WebGLBuffer(dtype, size);
  }

  write(buffer: DeviceBuffer, data: TypedArray): void {
    const b = this.#buf(buffer);
    if (data.length !== b.size) throw new RangeError(`webgl.write: ${data.length} values into a buffer of ${b.size}`);
    if (b.size === 0) return;
    const p = new GLParams();
    p.add('up', data instanceof Float32Array ? data : Float32Array.from(data));
    b.replace(this.runner.run('write', p, 'return up[this.thread.x];', b.size));
  }

  /** Reads the buffer (synchronously underneath); raises out-of-range gather/scatter-add indices since the last read. */
  async read(buffer: DeviceBuffer): Promise<TypedArray> {
    return this.readSync(buffer);
  }

  /** Reads the buffer with `readPixels`; raises out-of-range gather/scatter-add indices since the last read. */
  readSync(buffer: DeviceBuffer): TypedArray {
    const b = this.#buf(buffer);
    this.#raiseIndexErrors();
    return this.#host(b);
  }

  free(buffer: DeviceBuffer): void {
    this.#buf(buffer).release();
    this.#live--;
  }

  // --- GLKernelHost ------------------------------------------------------------------------------------

  /** The texture to read `buffer` through: zeros are rendered on first use, an empty buffer reads a stand-in. */
  input(op: string, buffer: DeviceBuffer): GpuJsTexture {
    const b = this.#buf(buffer, op);
    if (b.size === 0) return (this.#empty ??= this.#zeros(1));
    let t = b.texture;
    if (t === null) {
      t = this.#zeros(b.size);
      b.replace(t);
    }
    return t;
  }

  /** Runs a kernel into a new buffer (none for an empty output). */
  launch(op: string, dtype: DType, size: number, p: GLParams, body: string): WebGLBuffer {
    const out = this.alloc(dtype, size);
    if (size > 0) out.replace(this.runner.run(op, p, body, size));
    return out;
  }

  // --- kernels -----------------------------------------------------------------------------------------

  unary(op: UnaryOp, x: Operand, outDtype: DType): WebGLBuffer {
    return unary(this, op, x, outDtype);
  }

  binary(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): WebGLBuffer {
    return binary(this, op, a, b, outDtype);
  }

  where(cond: Operand, a: Operand, b: Operand, outDtype: DType): WebGLBuffer {
    return where(this, cond, a, b, outDtype);
  }

  reduce(op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): WebGLBuffer {
    return reduce(this, op, x, axes, outDtype);
  }

  argReduce(op: ArgReduceOp, x: Operand, axis: number): WebGLBuffer {
    return argReduce(this, op, x, axis);
  }

  cumsum(x: Operand, axis: number, outDtype: DType): WebGLBuffer {
    return cumsum(this, x, axis, outDtype);
  }

  matmul(a: Operand, b: Operand, outDtype: DType): WebGLBuffer {
    return matmul(this, a, b, outDtype);
  }

  gather(x: Operand, axis: number, index: Operand): WebGLBuffer {
    const out = gather(this, x, axis, index);
    this.#checkIndex('gather', index, x.shape[axis]!, axis);
    return out;
  }

  scatterAdd(base: Operand, axis: number, index: Operand, src: Operand): WebGLBuffer {
    const out = scatterAdd(this, base, axis, index, src);
    this.#checkIndex('scatterAdd', index, base.shape[axis]!, axis);
    return out;
  }

  sort(x: Operand, axis: number, descending: boolean): SortedBuffers {
    return sortLanes(this, x, axis, descending, x.shape[axis]!, (b) => this.free(b));
  }

  topk(x: Operand, k: number, axis: number, largest: boolean): SortedBuffers {
    return sortLanes(this, x, axis, largest, k, (b) => this.free(b));
  }

  /** Renders `dst`'s buffer anew with `src` copied into the view; views that cannot be inverted copy on the host. */
  copy(src: Operand, dst: Operand): void {
    const d = this.#buf(dst.buffer, 'copy');
    if (sizeOf(src.shape) === 0) return;
    const next = copied(this, src, dst);
    if (next !== null) {
      d.replace(next.detach());
      this.#live--;
      return;
    }
    const host = this.#host(d);
    copyKernel(this.#host(this.#buf(src.buffer, 'copy')), src, host, dst, src.shape, d.dtype === 'bool');
    this.write(d, host);
  }

  // --- helpers -----------------------------------------------------------------------------------------

  #zeros(size: number): GpuJsTexture {
    return this.runner.run('alloc', new GLParams(), 'return bt_f(0);', size);
  }

  /** The buffer's elements as a host array of its dtype. */
  #host(b: WebGLBuffer): TypedArray {
    const out = allocArray(b.dtype, b.size);
    const t = b.texture;
    if (t === null || b.size === 0) return out;
    const values = t.toArray() as ArrayLike<number>;
    if (values.length < b.size) throw new Error(`webgl.read: the texture gave ${values.length} values for a buffer of ${b.size}`);
    if (out instanceof Float32Array && values instanceof Float32Array) out.set(values.length === b.size ? values : values.subarray(0, b.size));
    else for (let i = 0; i < b.size; i++) out[i] = values[i]!;
    return out;
  }

  #checkIndex(op: string, index: Operand, n: number, axis: number): void {
    if (index.buffer.size === 0) return;
    const marks = indexMarks(this, op, index, n);
    const t = marks.detach();
    this.#live--;
    if (t !== null) this.#checks.push({ op, marks: t, n, axis });
    if (this.#checks.length > MAX_PENDING_CHECKS) this.#raiseIndexErrors();
  }

  /** Reads the pending index checks (all are released) and throws for the first bad index found. */
  #raiseIndexErrors(): void {
    const checks = this.#checks;
    this.#checks = [];
    let error: RangeError | null = null;
    for (const c of checks) {
      if (error === null) {
        const marks = c.marks.toArray() as ArrayLike<number>;
        for (let i = 0; i < marks.length; i++) {
          const v = marks[i]!;
          if (!Number.isNaN(v)) {
            error = new RangeError(`${c.op}: index ${v} is out of range for axis ${c.axis} of size ${c.n} (raised by the webgl backend at the next read)`);
            break;
          }
        }
      }
      c.marks.delete();
    }
    if (error !== null) throw error;
  }

  #buf(b: DeviceBuffer, op = 'read'): WebGLBuffer {
    if (!(b instanceof WebGLBuffer)) throw new TypeError(`webgl.${op}: got a buffer from another backend`);
    return b;
  }
}
