/**
 * Data types of tensors and the typed arrays that hold them.
 * @module
 */

/** The element types a tensor can hold. `float64` is for verification on the CPU (gradient checks). */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Every dtype, in promotion order (a later one wins when two are combined). */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/** The typed array that stores one dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Maps a dtype to its typed array type. */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** Allocates a zero-filled typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

/** The dtype that a typed array stores, or `undefined` for an unsupported array type. */
export function dtypeOfArray(a: ArrayLike<number>): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return undefined;
}

/** Throws unless `d` names a dtype. */
export function checkDType(op: string, d: unknown): DType {
  if (d === 'float32' || d === 'float64' || d === 'int32' || d === 'bool') return d;
  throw new TypeError(`${op}: unknown dtype ${JSON.stringify(d)}; expected one of ${DTYPES.join(', ')}`);
}

/** True for float32 and float64. */
export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** The dtype of a combination of `a` and `b` (PyTorch's promotion: bool < int32 < float32 < float64). */
export function promoteTypes(a: DType, b: DType): DType {
  return DTYPES.indexOf(a) >= DTYPES.indexOf(b) ? a : b;
}

/** The floating dtype an op on `d` computes in: `d` itself if it is floating, else float32. */
export function toFloat(d: DType): DType {
  return isFloat(d) ? d : 'float32';
}

/** Converts a JS number to the value a `dtype` element would store (int32 truncates, bool is 0/1). */
export function castScalar(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'float64':
      return v;
    case 'int32':
      return v | 0;
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}
