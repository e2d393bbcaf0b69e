/**
 * One `WebAssembly.Memory` and an allocator over it, so every tensor of the wasm backend lives where the
 * generated kernels can reach it. The memory may be shared (backed by a `SharedArrayBuffer`) so that
 * worker threads can later run kernels on the same buffers.
 *
 * Blocks are 16-byte aligned (one v128). Free blocks are coalesced with their neighbours and kept in bins
 * by size (one bin per power of two); an allocation takes the first fitting block of its own bin, else any
 * block of a larger bin (split, the rest staying free), else extends the used region, growing the memory
 * when needed. A freed block at the end of the used region shrinks it instead.
 *
 * Buffers are freed explicitly ({@link WasmBuffer.free}, which `Tensor.dispose()` and `scope()` reach
 * through the backend) or, as a safety net, when the garbage collector reclaims their {@link WasmBuffer}
 * object (a `FinalizationRegistry`). Finalisers run only between tasks, never inside a synchronous loop:
 * long synchronous computations should dispose what they no longer need (`scope`), or yield to the event
 * loop now and then.
 * @module
 */
import type { DeviceBuffer } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';

const PAGE = 65536;
const ALIGN = 16;
/** Addresses below this are never handed out, so 0 can mean "none". */
const RESERVED = 16;
/** A fitting free block is split only when the rest is at least this large. */
const MIN_SPLIT = 64;

/** Options of {@link WasmHeap}. */
export interface WasmHeapOptions {
  /** Bytes to reserve at first (rounded up to 64 KiB pages; default 16 MiB). */
  initialBytes?: number;
  /** Bytes the memory may grow to (default 4 GiB, the most a 32-bit memory addresses; 1 GiB when shared). */
  maximumBytes?: number;
  /** Back the memory with a `SharedArrayBuffer`, for threads (needs the `threads` feature). */
  shared?: boolean;
}

/** Counters of a {@link WasmHeap}, in bytes unless said otherwise. */
export interface WasmHeapStats {
  /** The memory's current size. */
  readonly capacity: number;
  /** The end of the used region (everything above it is free). */
  readonly top: number;
  /** Bytes in live blocks. */
  readonly live: number;
  /** Number of live blocks. */
  readonly liveBlocks: number;
  /** Bytes in free blocks below `top`. */
  readonly free: number;
  /** Number of free blocks below `top`. */
  readonly freeBlocks: number;
  /** Times the memory has grown. */
  readonly grows: number;
}

const binOf = (bytes: number): number => 31 - Math.clz32(bytes / ALIGN);

/**
 * A map from addresses to positive numbers whose `delete` only marks the entry empty (0). V8's `Map` and
 * `Set` leave a deleted entry in its bucket's chain until the next rehash and append a re-inserted key
 * to the chain, so freeing and re-taking the same address over and over — what an allocator does in a
 * loop — makes each lookup walk a chain that grows with the table (measured in Node 20: 11 µs per
 * alloc/free pair with 85,000 live blocks, 0.3 µs with 100). Here a re-inserted key updates its entry in
 * place; empty entries are dropped once they outnumber the live ones.
 */
class AddressTable {
  #map = new Map<number, number>();
  #size = 0;

  /** The value at `key`, undefined when absent. */
  get(key: number): number | undefined {
    const v = this.#map.get(key);
    return v ? v : undefined;
  }

  /** Sets `key` to `value` (> 0). */
  set(key: number, value: number): void {
    if (!this.#map.get(key)) this.#size++;
    this.#map.set(key, value);
  }

  /** Removes `key` (marks it empty). */
  delete(key: number): void {
    if (!this.#map.get(key)) return;
    this.#map.set(key, 0);
    this.#size--;
    if (this.#map.size > 2 * this.#size + 64) {
      const m = new Map<number, number>();
      for (const [k, v] of this.#map) if (v) m.set(k, v);
      this.#map = m;
    }
  }

  /** The number of keys present. */
  get size(): number {
    return this.#size;
  }

  /** The first key (in insertion order) whose value satisfies `pred`. */
  find(pred: (value: number) => boolean): number | undefined {
    for (const [k, v] of this.#map) if (v && pred(v)) return k;
    return undefined;
  }

  /** The sum of the values. */
  total(): number {
    let t = 0;
    for (const v of this.#map.values()) t += v;
    return t;
  }
}

/** The allocator over one memory. Addresses are byte offsets into `memory.buffer`. */
export class WasmHeap {
  /** The memory every block lives in. */
  readonly memory: WebAssembly.Memory;
  /** Whether the memory is shared. */
  readonly shared: boolean;
  readonly #maxPages: number;
  #top = RESERVED;
  #grows = 0;
  #capacity = 0;
  readonly #live = new AddressTable();
  readonly #freeAt = new AddressTable();
  /** Free blocks by end address: end → start (starts are never 0). */
  readonly #freeEndingAt = new AddressTable();
  /** Free blocks by size class (start → size). */
  readonly #bins: AddressTable[] = Array.from({ length: 32 }, () => new AddressTable());

  /** Creates the memory. */
  constructor(opts: WasmHeapOptions = {}) {
    const initial = Math.max(1, Math.ceil((opts.initialBytes ?? 16 * 2 ** 20) / PAGE));
    this.shared = opts.shared ?? false;
    const maximumBytes = opts.maximumBytes ?? (this.shared ? 2 ** 30 : 2 ** 32);
    this.#maxPages = Math.min(65536, Math.max(initial, Math.floor(maximumBytes / PAGE)));
    // A shared memory must declare its maximum (the engine reserves it up front); a plain one need not.
    const limits = this.shared || opts.maximumBytes !== undefined ? { initial, maximum: this.#maxPages } : { initial };
    this.memory = new WebAssembly.Memory(this.shared ? { ...limits, shared: true } : limits);
  }

  /** The memory's current bytes (a new object after each growth). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.memory.buffer;
  }

  /** Reserves `bytes` (not zeroed) and returns the block's address, a multiple of 16 and never 0. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`wasm.alloc: bad size ${bytes}`);
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    return this.#takeFree(size) ?? this.#extend(size);
  }

  /** The size in bytes of the live block at `ptr` (rounded up to 16). */
  sizeOf(ptr: number): number {
    const size = this.#live.get(ptr);
    if (size === undefined) throw new Error(`wasm.sizeOf: no live block at address ${ptr}`);
    return size;
  }

  /** Releases the block at `ptr`; throws for an address that is not a live block (a double free). */
  free(ptr: number): void {
    const size = this.#live.get(ptr);
    if (size === undefined) throw new Error(`wasm.free: no live block at address ${ptr} (freed twice?)`);
    this.#live.delete(ptr);
    let start = ptr;
    let end = ptr + size;
    const before = this.#freeEndingAt.get(start);
    if (before !== undefined) {
      this.#unlist(before);
      start = before;
    }
    const afterSize = this.#freeAt.get(end);
    if (afterSize !== undefined) {
      this.#unlist(end);
      end += afterSize;
    }
    if (end === this.#top) this.#top = start;
    else this.#list(start, end - start);
  }

  /** The allocator's counters. */
  stats(): WasmHeapStats {
    return {
      capacity: this.memory.buffer.byteLength,
      top: this.#top,
      live: this.#live.total(),
      liveBlocks: this.#live.size,
      free: this.#freeAt.total(),
      freeBlocks: this.#freeAt.size,
      grows: this.#grows,
    };
  }

  #list(start: number, size: number): void {
    this.#freeAt.set(start, size);
    this.#freeEndingAt.set(start + size, start);
    this.#bins[binOf(size)]!.set(start, size);
  }

  #unlist(start: number): void {
    const size = this.#freeAt.get(start)!;
    this.#freeAt.delete(start);
    this.#freeEndingAt.delete(start + size);
    this.#bins[binOf(size)]!.delete(start);
  }

  #takeFree(size: number): number | undefined {
    const b = binOf(size);
    let found = this.#bins[b]!.find((s) => s >= size);
    for (let i = b + 1; found === undefined && i < this.#bins.length; i++) {
      if (this.#bins[i]!.size > 0) found = this.#bins[i]!.find(() => true);
    }
    if (found === undefined) return undefined;
    const blockSize = this.#freeAt.get(found)!;
    this.#unlist(found);
    const rest = blockSize - size;
    if (rest >= MIN_SPLIT) this.#list(found + size, rest);
    this.#live.set(found, rest >= MIN_SPLIT ? size : blockSize);
    return found;
  }

  /** Takes `size` bytes at the end of the used region (reusing a free block that ends there). */
  #extend(size: number): number {
    const tail = this.#freeEndingAt.get(this.#top);
    let start = this.#top;
    if (tail !== undefined) {
      this.#unlist(tail);
      start = tail;
    }
    const end = start + size;
    // The memory's size only changes by our grow (reading `memory.buffer` costs ~0.1 µs; re-read before growing).
    if (end > this.#capacity) this.#capacity = this.memory.buffer.byteLength;
    const capacity = this.#capacity;
    if (end > capacity) {
      const pages = capacity / PAGE;
      const need = Math.ceil((end - capacity) / PAGE);
      // Grow by at least a quarter, so a growing working set costs few (possibly copying) grows.
      const want = Math.min(Math.max(need, Math.ceil(pages / 4)), this.#maxPages - pages);
      if (want < need) {
        if (tail !== undefined) this.#list(tail, this.#top - tail);
        throw this.#outOfMemory(size);
      }
      try {
        this.memory.grow(want);
        this.#capacity = this.memory.buffer.byteLength;
      } catch {
        if (tail !== undefined) this.#list(tail, this.#top - tail);
        throw this.#outOfMemory(size);
      }
      this.#grows++;
    }
    this.#top = end;
    this.#live.set(start, size);
    return start;
  }

  #outOfMemory(size: number): RangeError {
    const s = this.stats();
    return new RangeError(
      `wasm: out of memory allocating ${size} bytes (${s.live} bytes live in ${s.liveBlocks} blocks, ` +
        `${s.free} free below the top, memory ${s.capacity} of at most ${this.#maxPages * PAGE} bytes). ` +
        'Buffers of collected tensors are released only between tasks: in a long synchronous loop, ' +
        'free buffers explicitly or await between steps.',
    );
  }
}

type ViewCtor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;
const VIEWS: Record<DType, ViewCtor> = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Bytes per element of `dtype`. */
export function bytesPerElement(dtype: DType): number {
  return BYTES[dtype];
}

/** Releases the blocks of buffers that were garbage-collected without an explicit free. */
const finalizers =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ heap: WasmHeap; ptr: number }>(({ heap, ptr }) => heap.free(ptr))
    : undefined;

/**
 * A buffer of the wasm backend: `size` elements of `dtype` at byte address `ptr` of its heap's memory.
 * Its typed-array view is re-created when the memory has grown (growth detaches a non-shared buffer),
 * so {@link WasmBuffer.data} is always usable, though a view kept across an allocation may not be.
 */
export class WasmBuffer implements DeviceBuffer {
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements. */
  readonly size: number;
  /** The byte address of element 0. */
  readonly ptr: number;
  /** The heap the block belongs to. */
  readonly heap: WasmHeap;
  #freed = false;
  #view: TypedArray | null = null;
  #viewOf: ArrayBuffer | SharedArrayBuffer | null = null;

  /** Allocates a block for `size` elements of `dtype` (not zeroed). */
  constructor(heap: WasmHeap, dtype: DType, size: number) {
    this.heap = heap;
    this.dtype = dtype;
    this.size = size;
    this.ptr = heap.alloc(size * BYTES[dtype]);
    finalizers?.register(this, { heap, ptr: this.ptr }, this);
  }

  /** A typed-array view of the elements, valid until the memory next grows. Throws after {@link free}. */
  get data(): TypedArray {
    if (this.#freed) throw new Error('wasm: buffer used after free');
    const ab = this.heap.memory.buffer;
    if (this.#viewOf !== ab) {
      this.#view = new VIEWS[this.dtype](ab, this.ptr, this.size);
      this.#viewOf = ab;
    }
    return this.#view!;
  }

  /** Whether {@link free} was called. */
  get freed(): boolean {
    return this.#freed;
  }

  /** Returns the block to the heap now; later uses throw. Freeing twice is a no-op. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#view = null;
    this.#viewOf = null;
    finalizers?.unregister(this);
    this.heap.free(this.ptr);
  }
}
