/**
 * The WebGPU backend: tensors live in GPU storage buffers (recycled through a size-keyed pool) and every
 * primitive kernel is WGSL generated from templates (`elementwise.ts`, `reduce.ts`, `matmul.ts`,
 * `indexing.ts`, `sort.ts`). Work is recorded in program order and submitted in batches; reads are
 * asynchronous (`await t.data()`), through a staging buffer and `mapAsync`.
 *
 * Dtypes: float32 (`f32`), int32 (`i32`) and bool (one `u32` per element). float64 does not exist in
 * WGSL: creating, casting to or computing in float64 throws, naming the op.
 *
 * Memory is explicit: buffers return to the pool when their last tensor is disposed (`t.dispose()`,
 * `scope(fn)`, `using`) or, as a safety net, garbage-collected. {@link WebGPUBackend.liveBuffers} counts
 * the buffers in use.
 * @module
 */
import type { ArgReduceOp, Backend, BinaryOp, DeviceBuffer, Operand, ReduceOp, SortedBuffers, UnaryOp } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import { BufferPool, MAP_MODE_READ, USAGE, WebGPUBuffer, type BufferPoolStats } from './buffer-pool.js';
import { GpuContext, type GpuCacheStats, type KernelHost } from './context.js';
import { binaryLaunch, copyLaunch, unaryLaunch, whereLaunch, type Launch } from './elementwise.js';
import { gather, INDEX_ERROR_OPS, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { argReduce, cumsum, reduce } from './reduce.js';
import { sortLanes } from './sort.js';
import { storageOf, unsupportedDType } from './wgsl.js';

/** Options of {@link WebGPUBackend}. */
export interface WebGPUBackendOptions {
  /** Freed buffers kept for reuse, in bytes, before the oldest are destroyed (default 256 MiB). */
  maxPooledBytes?: number;
  /** Destroy the device in {@link WebGPUBackend.destroy} (default false: the caller owns it). */
  ownsDevice?: boolean;
  /**
   * The `GPU` the device came from, referenced for the backend's lifetime: Node's Dawn tears its
   * instance down (and crashes the process) when that object is garbage-collected under a live device.
   */
  gpu?: GPU;
}

/** Counts of a {@link WebGPUBackend}'s memory and caches. */
export interface WebGPUStats extends BufferPoolStats, GpuCacheStats {}

/** The WebGPU backend (name `'webgpu'`). It has no `readSync`: read with `await t.data()`. */
export class WebGPUBackend implements Backend, KernelHost {
  /** `'webgpu'`. */
  readonly name = 'webgpu';
  /** Buffers are device memory: tensors should be disposed (see `Tensor.dispose`, `scope`). */
  readonly explicitMemory = true;
  /** The device, command stream and caches. */
  readonly ctx: GpuContext;
  readonly #pool: BufferPool;
  readonly #ownsDevice: boolean;
  /** Only held, never read: see {@link WebGPUBackendOptions.gpu}. */
  #gpu: GPU | null;
  #indexFlag: GPUBuffer | null = null;
  #checkIndex = false;

  /** A backend on `device` (see `createWebGPUBackend` to find one). */
  constructor(device: GPUDevice, opts: WebGPUBackendOptions = {}) {
    this.ctx = new GpuContext(device);
    this.#pool = new BufferPool(device, opts.maxPooledBytes ?? 256 * 1024 * 1024, (b) => this.ctx.destroyLater(b));
    this.#ownsDevice = opts.ownsDevice ?? false;
    this.#gpu = opts.gpu ?? null;
  }

  /** The number of buffers allocated and not yet freed. */
  get liveBuffers(): number {
    return this.#pool.stats().liveBuffers;
  }

  /** Memory and cache counts. */
  stats(): WebGPUStats {
    return { ...this.#pool.stats(), ...this.ctx.stats() };
  }

  /** Submits pending work, destroys pooled buffers and caches, and the device if this backend owns it. */
  destroy(): void {
    this.ctx.flush();
    this.#pool.clear();
    this.ctx.clearCaches();
    if (this.#indexFlag !== null) this.ctx.destroyLater(this.#indexFlag);
    this.#indexFlag = null;
    this.ctx.flush();
    if (this.#ownsDevice) this.ctx.device.destroy();
    this.#gpu = null;
  }

  // --- memory ------------------------------------------------------------------------------------------

  alloc(dtype: DType, size: number): WebGPUBuffer {
    if (dtype === 'float64') {
      throw new TypeError(
        `webgpu.alloc: cannot create a float64 tensor of ${size} elements (creating or casting to float64): WebGPU has no 64-bit floats; use float32, or the cpu backend`,
      );
    }
    const { gpu, reused } = this.#pool.acquire(size * 4);
    if (reused) this.ctx.encoder().clearBuffer(gpu, 0, gpu.size);
    return new WebGPUBuffer(dtype, size, gpu);
  }

  write(buffer: DeviceBuffer, data: TypedArray): void {
    const b = this.#buf(buffer);
    if (data.length !== b.size) throw new RangeError(`webgpu.write: ${data.length} values into a buffer of ${b.size}`);
    if (b.size === 0) return;
    // Staged through a fresh mapped buffer and a recorded copy, so the write lands in program order
    // (queue.writeBuffer would overtake commands recorded but not yet submitted).
    const bytes = b.size * 4;
    const up = this.ctx.device.createBuffer({ size: bytes, usage: USAGE.COPY_SRC, mappedAtCreation: true });
    const range = up.getMappedRange();
    if (b.dtype === 'bool') new Uint32Array(range).set(data);
    else if (b.dtype === 'int32') new Int32Array(range).set(data);
    else new Float32Array(range).set(data);
    up.unmap();
    this.ctx.encoder().copyBufferToBuffer(up, 0, b.gpu, 0, bytes);
    this.ctx.destroyLater(up);
  }

  /**
   * Copies the buffer to the host. Submits everything recorded, so device errors and out-of-range
   * gather/scatter-add indices since the last read are raised here.
   */
  async read(buffer: DeviceBuffer): Promise<TypedArray> {
    const b = this.#buf(buffer);
    const device = this.ctx.device;
    const enc = this.ctx.encoder();
    const bytes = b.size * 4;
    const staging = bytes > 0 ? device.createBuffer({ size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST }) : null;
    if (staging !== null) enc.copyBufferToBuffer(b.gpu, 0, staging, 0, bytes);
    let flag: GPUBuffer | null = null;
    if (this.#checkIndex && this.#indexFlag !== null) {
      flag = device.createBuffer({ size: 16, usage: USAGE.MAP_READ | USAGE.COPY_DST });
      enc.copyBufferToBuffer(this.#indexFlag, 0, flag, 0, 16);
      enc.clearBuffer(this.#indexFlag, 0, 16);
      this.#checkIndex = false;
    }
    this.ctx.flush();
    try {
      await Promise.all([staging?.mapAsync(MAP_MODE_READ), flag?.mapAsync(MAP_MODE_READ)]);
      const err = this.ctx.takeError();
      if (err !== null) throw new Error(`webgpu: device error: ${err}`);
      if (flag !== null) {
        const [code, v, n, axis] = new Uint32Array(flag.getMappedRange());
        if (code !== 0) {
          throw new RangeError(
            `${INDEX_ERROR_OPS[code!] ?? 'index'}: index ${v! | 0} is out of range for axis ${axis} of size ${n} (raised by the webgpu backend at the next read)`,
          );
        }
      }
      if (staging === null) return hostArray(b.dtype, new ArrayBuffer(0));
      return hostArray(b.dtype, staging.getMappedRange().slice(0));
    } finally {
      staging?.destroy();
      flag?.destroy();
    }
  }

  free(buffer: DeviceBuffer): void {
    const b = this.#buf(buffer);
    this.#pool.recycle(b.release());
  }

  // --- KernelHost --------------------------------------------------------------------------------------

  /** A fresh output buffer (contents unspecified). */
  output(op: string, dtype: DType, size: number): WebGPUBuffer {
    storageOf(op, dtype);
    return new WebGPUBuffer(dtype, size, this.#pool.acquire(size * 4).gpu);
  }

  /** The index-error flag, marked for checking at the next read. */
  indexErrorFlag(): GPUBuffer {
    this.#indexFlag ??= this.ctx.device.createBuffer({ size: 16, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    this.#checkIndex = true;
    return this.#indexFlag;
  }

  // --- kernels -----------------------------------------------------------------------------------------

  unary(op: UnaryOp, x: Operand, outDtype: DType): WebGPUBuffer {
    return this.#run(op, unaryLaunch(op, x, outDtype), [x], outDtype, sizeOf(x.shape));
  }

  binary(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): WebGPUBuffer {
    return this.#run(op, binaryLaunch(op, a, b, outDtype), [a, b], outDtype, sizeOf(a.shape));
  }

  where(cond: Operand, a: Operand, b: Operand, outDtype: DType): WebGPUBuffer {
    return this.#run('where', whereLaunch(cond, a, b, outDtype), [cond, a, b], outDtype, sizeOf(a.shape));
  }

  reduce(op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): WebGPUBuffer {
    this.#check(op, [x]);
    return reduce(this, op, x, axes, outDtype);
  }

  argReduce(op: ArgReduceOp, x: Operand, axis: number): WebGPUBuffer {
    this.#check(op, [x]);
    return argReduce(this, op, x, axis);
  }

  cumsum(x: Operand, axis: number, outDtype: DType): WebGPUBuffer {
    this.#check('cumsum', [x]);
    return cumsum(this, x, axis, outDtype);
  }

  matmul(a: Operand, b: Operand, outDtype: DType): WebGPUBuffer {
    this.#check('matmul', [a, b]);
    return matmul(this, a, b, outDtype);
  }

  gather(x: Operand, axis: number, index: Operand): WebGPUBuffer {
    this.#check('gather', [x, index]);
    return gather(this, x, axis, index);
  }

  scatterAdd(base: Operand, axis: number, index: Operand, src: Operand): WebGPUBuffer {
    this.#check('scatterAdd', [base, index, src]);
    return scatterAdd(this, base, axis, index, src);
  }

  sort(x: Operand, axis: number, descending: boolean): SortedBuffers {
    this.#check('sort', [x]);
    return sortLanes(this, x, axis, descending, x.shape[axis]!);
  }

  topk(x: Operand, k: number, axis: number, largest: boolean): SortedBuffers {
    this.#check('topk', [x]);
    return sortLanes(this, x, axis, largest, k);
  }

  copy(src: Operand, dst: Operand): void {
    this.#check('copy', [src, dst]);
    let s = src;
    let tmp: WebGPUBuffer | null = null;
    if (src.buffer === dst.buffer) {
      // One dispatch cannot bind a buffer both read-only and writable: read through a copy.
      tmp = this.output('copy', src.buffer.dtype, sizeOf(src.shape));
      this.#dispatch(copyLaunch(src, { buffer: tmp, shape: src.shape, strides: contiguousStrides(src.shape), offset: 0 }), [src.buffer, tmp]);
      s = { buffer: tmp, shape: src.shape, strides: contiguousStrides(src.shape), offset: 0 };
    }
    this.#dispatch(copyLaunch(s, dst), [s.buffer, dst.buffer]);
    if (tmp !== null) this.free(tmp);
  }

  // --- helpers -----------------------------------------------------------------------------------------

  #run(op: string, l: Launch, inputs: readonly Operand[], outDtype: DType, size: number): WebGPUBuffer {
    this.#check(op, inputs);
    const out = this.output(op, outDtype, size);
    this.#dispatch(l, [...inputs.map((o) => o.buffer), out]);
    return out;
  }

  #dispatch(l: Launch, buffers: readonly DeviceBuffer[]): void {
    this.ctx.dispatch(l.kernel, l.params, buffers.map((b) => this.#buf(b).gpu), l.groups);
  }

  #check(op: string, operands: readonly Operand[]): void {
    for (const o of operands) {
      if (!(o.buffer instanceof WebGPUBuffer)) throw new TypeError(`webgpu.${op}: got a buffer from another backend`);
      if (o.buffer.dtype === 'float64') throw unsupportedDType(op, 'float64');
    }
  }

  #buf(b: DeviceBuffer): WebGPUBuffer {
    if (!(b instanceof WebGPUBuffer)) throw new TypeError('webgpu: got a buffer from another backend');
    return b;
  }
}

/** The host array for a dtype over bytes read back (bools come back as one u32 each). */
function hostArray(dtype: DType, bytes: ArrayBuffer): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(bytes);
    case 'int32':
      return new Int32Array(bytes);
    case 'bool':
      return Uint8Array.from(new Uint32Array(bytes));
    case 'float64':
      throw unsupportedDType('read', dtype);
  }
}
