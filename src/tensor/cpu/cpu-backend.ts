/**
 * The CPU backend: typed arrays in the JS heap (freed by the garbage collector), plain-TypeScript kernels.
 * @module
 */
import type { DeviceBuffer } from '../backend.js';
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { TypedArrayBackend } from './typed-array-backend.js';

/** A CPU buffer: a typed array of the buffer's dtype. */
export class CpuBuffer implements DeviceBuffer {
  #data: TypedArray | null;
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements. */
  readonly size: number;

  /** Wraps `data` (not copied) as a buffer of `dtype`. */
  constructor(dtype: DType, data: TypedArray) {
    this.dtype = dtype;
    this.size = data.length;
    this.#data = data;
  }

  /** The backing array; throws once the buffer has been freed. */
  get data(): TypedArray {
    if (this.#data === null) throw new Error('cpu: buffer used after free');
    return this.#data;
  }

  /** Drops the backing array. */
  release(): void {
    this.#data = null;
  }
}

function fresh(dtype: DType, size: number): CpuBuffer {
  return new CpuBuffer(dtype, allocArray(dtype, size));
}

/** The plain-TypeScript CPU backend. Synchronous reads are always available. */
export class CpuBackend extends TypedArrayBackend<CpuBuffer> {
  /** `'cpu'`. */
  readonly name = 'cpu';

  alloc(dtype: DType, size: number): CpuBuffer {
    return fresh(dtype, size);
  }

  write(buffer: DeviceBuffer, data: TypedArray): void {
    const dst = this.data(buffer);
    if (dst.length !== data.length) throw new RangeError(`cpu.write: ${data.length} values into a buffer of ${dst.length}`);
    dst.set(data);
  }

  read(buffer: DeviceBuffer): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer));
  }

  readSync(buffer: DeviceBuffer): TypedArray {
    return this.data(buffer);
  }

  free(buffer: DeviceBuffer): void {
    if (buffer instanceof CpuBuffer) buffer.release();
  }

  protected data(b: DeviceBuffer): TypedArray {
    if (!(b instanceof CpuBuffer)) throw new TypeError('cpu: got a buffer from another backend');
    return b.data;
  }

  protected output(dtype: DType, size: number): CpuBuffer {
    return fresh(dtype, size);
  }
}
