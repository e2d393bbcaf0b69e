/**
 * The CPU backend: typed arrays in the JS heap (freed by the garbage collector), plain-TypeScript kernels.
 * @module
 */
import type { ArgReduceOp, Backend, BinaryOp, DeviceBuffer, Operand, ReduceOp, SortedBuffers, UnaryOp } from '../backend.js';
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import { binaryKernel, copyKernel, unaryFn, unaryKernel, whereKernel } from './elementwise.js';
import { gatherKernel, scatterAddKernel, sortKernel } from './indexing.js';
import { matmulKernel } from './matmul.js';
import { argReduceKernel, cumsumKernel, reduceKernel } from './reduce.js';

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

function arr(o: Operand | DeviceBuffer): TypedArray {
  const b = 'buffer' in o ? o.buffer : o;
  if (!(b instanceof CpuBuffer)) throw new TypeError('cpu: got a buffer from another backend');
  return b.data;
}

function fresh(dtype: DType, size: number): CpuBuffer {
  return new CpuBuffer(dtype, allocArray(dtype, size));
}

/** The plain-TypeScript CPU backend. Synchronous reads are always available. */
export class CpuBackend implements Backend {
  /** `'cpu'`. */
  readonly name = 'cpu';

  alloc(dtype: DType, size: number): CpuBuffer {
    return fresh(dtype, size);
  }

  write(buffer: DeviceBuffer, data: TypedArray): void {
    const dst = arr(buffer);
    if (dst.length !== data.length) throw new RangeError(`cpu.write: ${data.length} values into a buffer of ${dst.length}`);
    dst.set(data);
  }

  read(buffer: DeviceBuffer): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer));
  }

  readSync(buffer: DeviceBuffer): TypedArray {
    return arr(buffer);
  }

  free(buffer: DeviceBuffer): void {
    if (buffer instanceof CpuBuffer) buffer.release();
  }

  unary(op: UnaryOp, x: Operand, outDtype: DType): CpuBuffer {
    const out = fresh(outDtype, sizeOf(x.shape));
    unaryKernel(unaryFn(op, outDtype === 'float64'), arr(x), x, x.shape, out.data);
    return out;
  }

  binary(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): CpuBuffer {
    const out = fresh(outDtype, sizeOf(a.shape));
    binaryKernel(op, arr(a), a, arr(b), b, a.shape, out.data);
    return out;
  }

  where(cond: Operand, a: Operand, b: Operand, outDtype: DType): CpuBuffer {
    const out = fresh(outDtype, sizeOf(a.shape));
    whereKernel(arr(cond), cond, arr(a), a, arr(b), b, a.shape, out.data);
    return out;
  }

  reduce(op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): CpuBuffer {
    const outSize = sizeOf(x.shape.filter((_, i) => !axes.includes(i)));
    const out = fresh(outDtype, outSize);
    reduceKernel(op, arr(x), x, x.shape, axes, out.data);
    return out;
  }

  argReduce(op: ArgReduceOp, x: Operand, axis: number): CpuBuffer {
    const out = fresh('int32', sizeOf(x.shape) / x.shape[axis]!);
    argReduceKernel(op, arr(x), x, x.shape, axis, out.data as Int32Array);
    return out;
  }

  cumsum(x: Operand, axis: number, outDtype: DType): CpuBuffer {
    const out = fresh(outDtype, sizeOf(x.shape));
    cumsumKernel(arr(x), x, x.shape, axis, out.data);
    return out;
  }

  matmul(a: Operand, b: Operand, outDtype: DType): CpuBuffer {
    const nd = a.shape.length;
    const [M, K] = [a.shape[nd - 2]!, a.shape[nd - 1]!];
    const N = b.shape[nd - 1]!;
    const batch = a.shape.slice(0, nd - 2);
    const out = fresh(outDtype, sizeOf(batch) * M * N);
    matmulKernel(arr(a), a, arr(b), b, batch, M, K, N, out.data);
    return out;
  }

  gather(x: Operand, axis: number, index: Operand): CpuBuffer {
    const out = fresh(x.buffer.dtype, sizeOf(index.shape));
    gatherKernel(arr(x), x, x.shape, axis, arr(index), index, index.shape, out.data);
    return out;
  }

  scatterAdd(base: Operand, axis: number, index: Operand, src: Operand): CpuBuffer {
    const out = fresh(base.buffer.dtype, sizeOf(base.shape));
    copyKernel(arr(base), base, out.data, { strides: contiguousStrides(base.shape), offset: 0 }, base.shape, false);
    scatterAddKernel(out.data, base.shape, axis, arr(index), index, arr(src), src, index.shape);
    return out;
  }

  sort(x: Operand, axis: number, descending: boolean): SortedBuffers {
    return this.#sorted(x, axis, descending, x.shape[axis]!);
  }

  topk(x: Operand, k: number, axis: number, largest: boolean): SortedBuffers {
    return this.#sorted(x, axis, largest, k);
  }

  copy(src: Operand, dst: Operand): void {
    copyKernel(arr(src), src, arr(dst), dst, src.shape, dst.buffer.dtype === 'bool');
  }

  #sorted(x: Operand, axis: number, descending: boolean, k: number): SortedBuffers {
    const size = sizeOf(x.shape.map((d, i) => (i === axis ? k : d)));
    const values = fresh(x.buffer.dtype, size);
    const indices = fresh('int32', size);
    sortKernel(arr(x), x, x.shape, axis, descending, k, values.data, indices.data as Int32Array);
    return { values, indices };
  }
}
