/**
 * The primitive kernels over typed arrays, shared by every backend whose buffers are typed arrays: the
 * CPU backend (arrays in the JS heap) and the wasm backend (views of WebAssembly memory, which overrides
 * the kernels it has SIMD versions of). A subclass says how to reach a buffer's array and how to make
 * an output buffer.
 * @module
 */
import type { ArgReduceOp, Backend, BinaryOp, DeviceBuffer, Operand, ReduceOp, SortedBuffers, UnaryOp } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import { binaryKernel, copyKernel, unaryFn, unaryKernel, whereKernel } from './elementwise.js';
import { gatherKernel, scatterAddKernel, sortKernel } from './indexing.js';
import { matmulKernel } from './matmul.js';
import { argReduceKernel, cumsumKernel, reduceKernel } from './reduce.js';

/** A buffer whose elements are a typed array. */
export interface TypedArrayBuffer extends DeviceBuffer {
  /** The elements. */
  readonly data: TypedArray;
}

/** The plain-TypeScript kernels of {@link Backend}, over buffers that hold typed arrays. */
export abstract class TypedArrayBackend<B extends TypedArrayBuffer> implements Backend {
  /** The name used by `setBackend`. */
  abstract readonly name: string;
  /** Allocates `size` zeroed elements of `dtype`. */
  abstract alloc(dtype: DType, size: number): B;
  /** Copies host data into a buffer. */
  abstract write(buffer: DeviceBuffer, data: TypedArray): void;
  /** Reads a whole buffer. */
  abstract read(buffer: DeviceBuffer): Promise<TypedArray>;
  /** Reads synchronously. */
  abstract readSync(buffer: DeviceBuffer): TypedArray;
  /** Releases a buffer. */
  abstract free(buffer: DeviceBuffer): void;

  /** The elements of one of this backend's buffers; throws for another backend's buffer. */
  protected abstract data(b: DeviceBuffer): TypedArray;
  /** A fresh output buffer (the kernel writes every element). */
  protected abstract output(dtype: DType, size: number): B;

  unary(op: UnaryOp, x: Operand, outDtype: DType): B {
    const out = this.output(outDtype, sizeOf(x.shape));
    unaryKernel(unaryFn(op, outDtype === 'float64'), this.data(x.buffer), x, x.shape, out.data);
    return out;
  }

  binary(op: BinaryOp, a: Operand, b: Operand, outDtype: DType): B {
    const out = this.output(outDtype, sizeOf(a.shape));
    binaryKernel(op, this.data(a.buffer), a, this.data(b.buffer), b, a.shape, out.data);
    return out;
  }

  where(cond: Operand, a: Operand, b: Operand, outDtype: DType): B {
    const out = this.output(outDtype, sizeOf(a.shape));
    whereKernel(this.data(cond.buffer), cond, this.data(a.buffer), a, this.data(b.buffer), b, a.shape, out.data);
    return out;
  }

  reduce(op: ReduceOp, x: Operand, axes: readonly number[], outDtype: DType): B {
    const out = this.output(outDtype, sizeOf(x.shape.filter((_, i) => !axes.includes(i))));
    reduceKernel(op, this.data(x.buffer), x, x.shape, axes, out.data);
    return out;
  }

  argReduce(op: ArgReduceOp, x: Operand, axis: number): B {
    const out = this.output('int32', sizeOf(x.shape) / x.shape[axis]!);
    argReduceKernel(op, this.data(x.buffer), x, x.shape, axis, out.data as Int32Array);
    return out;
  }

  cumsum(x: Operand, axis: number, outDtype: DType): B {
    const out = this.output(outDtype, sizeOf(x.shape));
    cumsumKernel(this.data(x.buffer), x, x.shape, axis, out.data);
    return out;
  }

  matmul(a: Operand, b: Operand, outDtype: DType): B {
    const nd = a.shape.length;
    const [M, K] = [a.shape[nd - 2]!, a.shape[nd - 1]!];
    const N = b.shape[nd - 1]!;
    const batch = a.shape.slice(0, nd - 2);
    const out = this.output(outDtype, sizeOf(batch) * M * N);
    matmulKernel(this.data(a.buffer), a, this.data(b.buffer), b, batch, M, K, N, out.data);
    return out;
  }

  gather(x: Operand, axis: number, index: Operand): B {
    const out = this.output(x.buffer.dtype, sizeOf(index.shape));
    gatherKernel(this.data(x.buffer), x, x.shape, axis, this.data(index.buffer), index, index.shape, out.data);
    return out;
  }

  scatterAdd(base: Operand, axis: number, index: Operand, src: Operand): B {
    const out = this.output(base.buffer.dtype, sizeOf(base.shape));
    copyKernel(this.data(base.buffer), base, out.data, { strides: contiguousStrides(base.shape), offset: 0 }, base.shape, false);
    scatterAddKernel(out.data, base.shape, axis, this.data(index.buffer), index, this.data(src.buffer), src, index.shape);
    return out;
  }

  sort(x: Operand, axis: number, descending: boolean): SortedBuffers {
    return this.#sorted(x, axis, descending, x.shape[axis]!);
  }

  topk(x: Operand, k: number, axis: number, largest: boolean): SortedBuffers {
    return this.#sorted(x, axis, largest, k);
  }

  copy(src: Operand, dst: Operand): void {
    copyKernel(this.data(src.buffer), src, this.data(dst.buffer), dst, src.shape, dst.buffer.dtype === 'bool');
  }

  #sorted(x: Operand, axis: number, descending: boolean, k: number): SortedBuffers {
    const size = sizeOf(x.shape.map((d, i) => (i === axis ? k : d)));
    const values = this.output(x.buffer.dtype, size);
    const indices = this.output('int32', size);
    sortKernel(this.data(x.buffer), x, x.shape, axis, descending, k, values.data, indices.data as Int32Array);
    return { values, indices };
  }
}
