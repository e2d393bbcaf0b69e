/**
 * WebGPU storage buffers and the pool that recycles them. GPU allocations are slow and training repeats
 * the same sizes step after step, so freed buffers wait in a pool keyed by their (rounded) byte size
 * until an allocation of that size takes them back.
 * @module
 */
import type { DeviceBuffer } from '../backend.js';
import type { DType } from '../dtype.js';

/** `GPUBufferUsage` flags, spelled out so that no global is needed (Node's Dawn does not define them). */
export const USAGE = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** `GPUMapMode.READ`. */
export const MAP_MODE_READ = 0x0001;

/** The usage of every tensor buffer: bound as storage, and copied to and from. */
const STORAGE_USAGE = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;

/**
 * Rounds a byte size up to the pool's size classes: powers of two and the midpoints between them (so at
 * most a third is wasted), never below 16 bytes (WebGPU refuses empty bindings).
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 16) return 16;
  const p = 2 ** Math.ceil(Math.log2(bytes));
  const mid = (p / 4) * 3;
  return bytes <= mid ? mid : p;
}

/** A tensor's storage on the GPU: `size` elements of `dtype` (4 bytes each) at the start of a `GPUBuffer`. */
export class WebGPUBuffer implements DeviceBuffer {
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements. */
  readonly size: number;
  #gpu: GPUBuffer | null;

  /** Wraps `gpu`, which holds at least `4 · size` bytes. */
  constructor(dtype: DType, size: number, gpu: GPUBuffer) {
    this.dtype = dtype;
    this.size = size;
    this.#gpu = gpu;
  }

  /** The GPU buffer; throws once this buffer has been freed. */
  get gpu(): GPUBuffer {
    if (this.#gpu === null) throw new Error(`webgpu: a ${this.dtype} buffer of ${this.size} elements was used after free (was its tensor disposed?)`);
    return this.#gpu;
  }

  /** Whether {@link release} has run. */
  get freed(): boolean {
    return this.#gpu === null;
  }

  /** Detaches the GPU buffer (which goes back to the pool) and returns it. */
  release(): GPUBuffer {
    const g = this.gpu;
    this.#gpu = null;
    return g;
  }
}

/** Counts of what a buffer pool holds. */
export interface BufferPoolStats {
  /** Buffers handed out and not yet freed (the live-buffer counter). */
  readonly liveBuffers: number;
  /** Their bytes (after rounding to size classes). */
  readonly liveBytes: number;
  /** Freed buffers waiting in the pool for reuse. */
  readonly pooledBuffers: number;
  /** Their bytes. */
  readonly pooledBytes: number;
}

/**
 * The pool. `acquire` takes a buffer of the size class from the pool or creates one; `recycle` puts one
 * back, destroying the oldest pooled buffers once the pool holds more than `maxPooledBytes`. Destroys go
 * through `destroy`, which the backend defers until commands already recorded have been submitted.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, GPUBuffer[]>();
  readonly #destroy: (b: GPUBuffer) => void;
  readonly #maxPooledBytes: number;
  #live = 0;
  #liveBytes = 0;
  #pooled = 0;
  #pooledBytes = 0;

  /** A pool over `device`; `destroy` disposes of buffers that leave it. */
  constructor(device: GPUDevice, maxPooledBytes: number, destroy: (b: GPUBuffer) => void) {
    this.#device = device;
    this.#maxPooledBytes = maxPooledBytes;
    this.#destroy = destroy;
  }

  /** A buffer of at least `bytes` bytes, and whether it came from the pool (its contents are stale then). */
  acquire(bytes: number): { gpu: GPUBuffer; reused: boolean } {
    const cls = sizeClass(bytes);
    this.#live++;
    this.#liveBytes += cls;
    // Last in, first out: a step whose buffers are freed in reverse order of creation (as `scope` does)
    // gets each one back in the same role next time, so cached bind groups keep matching.
    const list = this.#free.get(cls);
    const g = list?.pop();
    if (g !== undefined) {
      this.#pooled--;
      this.#pooledBytes -= cls;
      return { gpu: g, reused: true };
    }
    return { gpu: this.#device.createBuffer({ size: cls, usage: STORAGE_USAGE }), reused: false };
  }

  /** Takes back a buffer from {@link acquire}. */
  recycle(g: GPUBuffer): void {
    const cls = g.size;
    this.#live--;
    this.#liveBytes -= cls;
    let list = this.#free.get(cls);
    if (list === undefined) this.#free.set(cls, (list = []));
    list.push(g);
    this.#pooled++;
    this.#pooledBytes += cls;
    this.#trim();
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.#free.values()) for (const g of list) this.#destroy(g);
    this.#free.clear();
    this.#pooled = 0;
    this.#pooledBytes = 0;
  }

  /** The current counts. */
  stats(): BufferPoolStats {
    return { liveBuffers: this.#live, liveBytes: this.#liveBytes, pooledBuffers: this.#pooled, pooledBytes: this.#pooledBytes };
  }

  #trim(): void {
    if (this.#pooledBytes <= this.#maxPooledBytes) return;
    // Largest classes go first: they free the most memory per destroyed buffer.
    const classes = [...this.#free.keys()].sort((a, b) => b - a);
    for (const cls of classes) {
      const list = this.#free.get(cls)!;
      while (this.#pooledBytes > this.#maxPooledBytes && list.length > 0) {
        this.#destroy(list.shift()!);
        this.#pooled--;
        this.#pooledBytes -= cls;
      }
      if (list.length === 0) this.#free.delete(cls);
    }
  }
}
