/**
 * numpy-shaped values for the policy wire protocol: {@link NdArray} (a typed array with a numpy dtype and a
 * C-order shape) and {@link NumpyScalar} (a numpy scalar such as `np.float32(1.5)`), and the mapping
 * between numpy's dtype strings (`dtype.str`: `"<f4"`, `"|u1"`, `"|b1"`, …) and JavaScript typed arrays.
 *
 * The element data of an `NdArray` is always little-endian in memory (every JavaScript engine in use
 * runs little-endian); big-endian numpy arrays (`">f4"`) are byte-swapped when decoded.
 * @module
 */

/** The numpy dtypes the protocol carries (numpy's names). Complex, string, void and object dtypes are not supported. */
export type NumpyDType =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64';

/** The typed array each dtype's elements live in. */
export interface NdArrayDataMap {
  /** 0/1 bytes. */
  bool: Uint8Array;
  /** Signed bytes. */
  int8: Int8Array;
  /** Bytes (images). */
  uint8: Uint8Array;
  /** 16-bit signed integers. */
  int16: Int16Array;
  /** 16-bit unsigned integers. */
  uint16: Uint16Array;
  /** 32-bit signed integers. */
  int32: Int32Array;
  /** 32-bit unsigned integers. */
  uint32: Uint32Array;
  /** 64-bit signed integers, as bigints. */
  int64: BigInt64Array;
  /** 64-bit unsigned integers, as bigints. */
  uint64: BigUint64Array;
  /** IEEE half precision, as raw bit patterns (JavaScript has no float16 array everywhere yet). */
  float16: Uint16Array;
  /** Single precision. */
  float32: Float32Array;
  /** Double precision. */
  float64: Float64Array;
}

/**
 * The typed array holding an {@link NdArray}'s elements: `bool` as 0/1 bytes in a `Uint8Array`, 64-bit
 * integers as `BigInt64Array`/`BigUint64Array`, and `float16` as its raw bit patterns in a `Uint16Array`.
 */
export type NdArrayData<D extends NumpyDType = NumpyDType> = NdArrayDataMap[D];

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

interface DTypeInfo {
  /** numpy's kind and item size, e.g. `f4`. */
  readonly code: string;
  readonly itemSize: number;
  readonly array: TypedArrayConstructor;
}

const DTYPES: { readonly [D in NumpyDType]: DTypeInfo } = {
  bool: { code: 'b1', itemSize: 1, array: Uint8Array },
  int8: { code: 'i1', itemSize: 1, array: Int8Array },
  uint8: { code: 'u1', itemSize: 1, array: Uint8Array },
  int16: { code: 'i2', itemSize: 2, array: Int16Array },
  uint16: { code: 'u2', itemSize: 2, array: Uint16Array },
  int32: { code: 'i4', itemSize: 4, array: Int32Array },
  uint32: { code: 'u4', itemSize: 4, array: Uint32Array },
  int64: { code: 'i8', itemSize: 8, array: BigInt64Array },
  uint64: { code: 'u8', itemSize: 8, array: BigUint64Array },
  float16: { code: 'f2', itemSize: 2, array: Uint16Array },
  float32: { code: 'f4', itemSize: 4, array: Float32Array },
  float64: { code: 'f8', itemSize: 8, array: Float64Array },
};

const BY_CODE = new Map<string, NumpyDType>(
  (Object.keys(DTYPES) as NumpyDType[]).map((d) => [DTYPES[d].code, d]),
);

/** Every dtype the protocol carries, in a fixed order. */
export const NUMPY_DTYPES: readonly NumpyDType[] = Object.keys(DTYPES) as NumpyDType[];

/** Bytes per element of `dtype`. */
export function itemSize(dtype: NumpyDType): number {
  return DTYPES[dtype].itemSize;
}

/** numpy's `dtype.str` for `dtype` as this library writes it: `"|"` for one-byte types, `"<"` otherwise. */
export function numpyDTypeString(dtype: NumpyDType): string {
  const info = DTYPES[dtype];
  return (info.itemSize === 1 ? '|' : '<') + info.code;
}

/** A numpy dtype string, read. */
export interface ParsedDType {
  /** The dtype. */
  readonly dtype: NumpyDType;
  /** Whether the bytes are big-endian (`">"` with an item size above 1). */
  readonly bigEndian: boolean;
}

/**
 * Parses a numpy dtype string (`"<f4"`, `">i8"`, `"|b1"`, `"=u2"`, `"f8"`) into the dtype and whether its
 * bytes are big-endian. Throws for anything else (strings `"<U5"`, complex `"<c8"`, objects, records).
 */
export function parseNumpyDType(str: string): ParsedDType {
  const m = /^([<>|=]?)([biuf]\d+)$/.exec(str);
  const dtype = m ? BY_CODE.get(m[2]!) : undefined;
  if (!m || dtype === undefined) {
    throw new Error(`parseNumpyDType: unsupported numpy dtype ${JSON.stringify(str)} (supported: ${NUMPY_DTYPES.join(', ')})`);
  }
  return { dtype, bigEndian: m[1] === '>' && DTYPES[dtype].itemSize > 1 };
}

function checkShape(fn: string, shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${fn}: shape [${shape.join(', ')}] must hold non-negative integers`);
    size *= d;
  }
  if (!Number.isSafeInteger(size)) throw new Error(`${fn}: shape [${shape.join(', ')}] has too many elements`);
  return size;
}

/** The number of elements of an array of this shape (1 for the 0-d shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  return checkShape('shapeSize', shape);
}

/**
 * An n-dimensional numpy array on the JavaScript side: a dtype, a C-order (row-major) shape and the
 * elements in a typed array (see {@link NdArrayData}). `shape` `[]` is a 0-d array holding one element.
 *
 * @example
 * const state = new NdArray('float32', [14], new Float32Array(14));
 * const image = NdArray.fromValues('uint8', [224, 224, 3], pixels);
 */
export class NdArray<D extends NumpyDType = NumpyDType> {
  /** The numpy dtype. */
  readonly dtype: D;
  /** The C-order shape. */
  readonly shape: readonly number[];
  /** The elements, `shapeSize(shape)` of them, little-endian. */
  readonly data: NdArrayData<D>;

  /** Wraps `data` (not copied); throws unless it is the typed array of `dtype` with exactly `shapeSize(shape)` elements. */
  constructor(dtype: D, shape: readonly number[], data: NdArrayData<D>) {
    const info = DTYPES[dtype] as DTypeInfo | undefined;
    if (info === undefined) throw new Error(`NdArray: unsupported dtype ${JSON.stringify(dtype)} (supported: ${NUMPY_DTYPES.join(', ')})`);
    const size = checkShape('NdArray', shape);
    if (!(data instanceof info.array)) {
      throw new Error(`NdArray: dtype ${dtype} needs a ${info.array.name}, got ${Object.prototype.toString.call(data).slice(8, -1)}`);
    }
    if (data.length !== size) {
      throw new Error(`NdArray: shape [${shape.join(', ')}] needs ${size} elements, got ${data.length}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /**
   * Wraps a typed array as an array of its natural dtype (`Uint8Array` → `uint8`, `Float32Array` →
   * `float32`, …); `shape` defaults to 1-D. Use the constructor for `bool` and `float16`.
   */
  static from(data: NdArrayData, shape: readonly number[] = [data.length]): NdArray {
    const dtype = NUMPY_DTYPES.find((d) => d !== 'bool' && d !== 'float16' && data instanceof DTYPES[d].array);
    if (dtype === undefined) throw new Error(`NdArray.from: no numpy dtype for ${Object.prototype.toString.call(data).slice(8, -1)}`);
    return new NdArray(dtype, shape, data as NdArrayData);
  }

  /**
   * Copies `values` into a new array of `dtype` (booleans and numbers become 0/1 for `bool`; numbers
   * become bigints for the 64-bit integer types; `float16` takes raw bit patterns).
   */
  static fromValues<D extends NumpyDType>(dtype: D, shape: readonly number[], values: ArrayLike<number | boolean | bigint>): NdArray<D> {
    const info = DTYPES[dtype] as DTypeInfo | undefined;
    if (info === undefined) throw new Error(`NdArray.fromValues: unsupported dtype ${JSON.stringify(dtype)}`);
    const size = checkShape('NdArray.fromValues', shape);
    if (values.length !== size) throw new Error(`NdArray.fromValues: shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`);
    const data = new info.array(size);
    const big = dtype === 'int64' || dtype === 'uint64';
    for (let i = 0; i < size; i++) {
      const v = values[i]!;
      if (big) (data as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Number(v));
      else (data as Float64Array)[i] = dtype === 'bool' ? (v ? 1 : 0) : Number(v);
    }
    return new NdArray(dtype, shape, data as NdArrayData<D>);
  }

  /** A new zero-filled array. */
  static zeros<D extends NumpyDType>(dtype: D, shape: readonly number[]): NdArray<D> {
    const info = DTYPES[dtype] as DTypeInfo | undefined;
    if (info === undefined) throw new Error(`NdArray.zeros: unsupported dtype ${JSON.stringify(dtype)}`);
    return new NdArray(dtype, shape, new info.array(checkShape('NdArray.zeros', shape)) as NdArrayData<D>);
  }

  /** The number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The elements as little-endian bytes (a view, not a copy), as numpy's `tobytes()` writes them. */
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength);
  }
}

/**
 * Builds an {@link NdArray} from numpy's wire description: a dtype string and shape, and the C-order
 * bytes (copied, and byte-swapped when the dtype is big-endian). Throws when the byte count is not
 * `shapeSize(shape) × itemSize`.
 */
export function ndarrayFromBytes(dtypeString: string, shape: readonly number[], bytes: Uint8Array): NdArray {
  const { dtype, bigEndian } = parseNumpyDType(dtypeString);
  const size = checkShape('ndarrayFromBytes', shape);
  const width = DTYPES[dtype].itemSize;
  if (bytes.byteLength !== size * width) {
    throw new Error(
      `ndarrayFromBytes: dtype ${dtypeString} with shape [${shape.join(', ')}] needs ${size * width} bytes, got ${bytes.byteLength}`,
    );
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (bigEndian) {
    for (let i = 0; i < copy.length; i += width) copy.subarray(i, i + width).reverse();
  }
  const data = new DTYPES[dtype].array(copy.buffer, 0, size) as NdArrayData;
  if (dtype === 'bool') {
    for (let i = 0; i < size; i++) if (data[i]! > 1) throw new Error(`ndarrayFromBytes: bool element ${i} is ${data[i]}, not 0 or 1`);
  }
  return new NdArray(dtype, shape, data);
}

/**
 * A numpy scalar (`np.float32(1.5)`, `np.int64(7)`, `np.bool_(True)`), which openpi's `msgpack_numpy`
 * sends as `{__npgeneric__: True, data: x.item(), dtype: x.dtype.str}`. `value` is a boolean for `bool`,
 * a number or bigint for the 64-bit integers, and a number otherwise (a `float16` scalar holds its value,
 * not its bits, since `item()` converts it to a Python float).
 *
 * Note that Python's msgpack sends an `np.float64` scalar as a plain float (it subclasses `float`), so
 * one from a Python peer arrives as a JavaScript number.
 */
export class NumpyScalar {
  /** The numpy dtype. */
  readonly dtype: NumpyDType;
  /** The value, as `item()` gives it. */
  readonly value: number | boolean | bigint;

  /** Throws when `value`'s JavaScript type does not fit `dtype`. */
  constructor(dtype: NumpyDType, value: number | boolean | bigint) {
    if (!(dtype in DTYPES)) throw new Error(`NumpyScalar: unsupported dtype ${JSON.stringify(dtype)}`);
    const ok =
      dtype === 'bool'
        ? typeof value === 'boolean'
        : dtype === 'int64' || dtype === 'uint64'
          ? typeof value === 'bigint' || Number.isInteger(value)
          : dtype.startsWith('float')
            ? typeof value === 'number'
            : Number.isInteger(value);
    if (!ok) throw new Error(`NumpyScalar: value ${String(value)} (${typeof value}) does not fit dtype ${dtype}`);
    this.dtype = dtype;
    this.value = value;
  }
}
