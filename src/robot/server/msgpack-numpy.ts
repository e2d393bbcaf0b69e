/**
 * msgpack with numpy arrays, byte-compatible with openpi's `openpi_client/msgpack_numpy.py` (itself
 * after lebedov/msgpack-numpy). An array travels as a 4-entry map whose KEYS ARE msgpack `bin`
 * (Python `bytes`), in this order:
 *
 *     {b"__ndarray__": True, b"data": arr.tobytes(), b"dtype": arr.dtype.str, b"shape": arr.shape}
 *
 * `data` is `bin` (C-order element bytes), `dtype` a `str` such as `"<f4"`, `"|u1"`, `"|b1"`, and `shape`
 * an array of ints (`[]` for 0-d). A numpy scalar is `{b"__npgeneric__": True, b"data": x.item(),
 * b"dtype": x.dtype.str}`. The keys must be `bin`, not `str`: openpi's decoder looks them up as
 * `b"__ndarray__" in obj`, so a map with `str` keys would reach a Python policy as a plain dict.
 *
 * {@link packMsgpackNumpy} writes exactly what Python's `msgpack.packb(x, default=pack_array)` writes for
 * the same data (smallest integer encodings, `str 8` for 32–255-byte strings, `bin` for bytes, maps in
 * insertion order), with two differences that follow from JavaScript's types: a JavaScript number that is
 * an integer is written as an integer (Python writes a `float` such as `1.0` as float 64), and object keys
 * that look like array indices (`"0"`, `"7"`) come first, in numeric order (JavaScript's key order).
 * The decoder accepts `str` or `bin` keys for the array maps, and big-endian dtypes (byte-swapped).
 * @module
 */
import { Decoder } from '@msgpack/msgpack';
import { NdArray, NumpyScalar, ndarrayFromBytes, numpyDTypeString, parseNumpyDType } from './ndarray.js';
import { PolicyProtocolError } from './protocol.js';

/**
 * A decoded msgpack value: maps come back as plain objects, `bin` as `Uint8Array`, arrays as
 * {@link NdArray}, integers as numbers (bigints beyond ±2^53, exactly).
 */
export type MsgpackNumpyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | NdArray
  | NumpyScalar
  | readonly MsgpackNumpyValue[]
  | { readonly [key: string]: MsgpackNumpyValue };

/** Limits for {@link unpackMsgpackNumpy}. */
export interface UnpackOptions {
  /** Nesting depth allowed (maps and arrays; an ndarray map counts as one level). Default 32. */
  maxDepth?: number;
}

const ENCODER = new TextEncoder();
const KEY_DECODER = new TextDecoder('utf-8', { fatal: true });
const NDARRAY_KEYS = ['__ndarray__', 'data', 'dtype', 'shape'].map((k) => ENCODER.encode(k));
const NPGENERIC_KEYS = ['__npgeneric__', 'data', 'dtype'].map((k) => ENCODER.encode(k));
const DEFAULT_MAX_DEPTH = 32;
const ENCODE_MAX_DEPTH = 100;

/** A growable byte buffer with msgpack's primitive writers (big-endian, as msgpack is). */
class Writer {
  bytes = new Uint8Array(1024);
  view = new DataView(this.bytes.buffer);
  pos = 0;

  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + n));
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(x: number): void {
    this.reserve(1);
    this.bytes[this.pos++] = x;
  }

  typed(tag: number, width: 1 | 2 | 4 | 8, x: number | bigint, signed = false, float = false): void {
    this.reserve(1 + width);
    this.bytes[this.pos++] = tag;
    const v = this.view;
    const p = this.pos;
    if (float) width === 4 ? v.setFloat32(p, x as number) : v.setFloat64(p, x as number);
    else if (width === 1) signed ? v.setInt8(p, x as number) : v.setUint8(p, x as number);
    else if (width === 2) signed ? v.setInt16(p, x as number) : v.setUint16(p, x as number);
    else if (width === 4) signed ? v.setInt32(p, x as number) : v.setUint32(p, x as number);
    else signed ? v.setBigInt64(p, BigInt(x)) : v.setBigUint64(p, BigInt(x));
    this.pos += width;
  }

  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }
}

// Header writers: each picks the smallest form, as msgpack-python's Packer does.
function writeInt(w: Writer, x: number | bigint): void {
  if (typeof x === 'bigint') {
    if (x < -(2n ** 63n) || x >= 2n ** 64n) throw new Error(`packMsgpackNumpy: integer ${x} does not fit in 64 bits`);
    if (x < BigInt(Number.MIN_SAFE_INTEGER) || x > BigInt(Number.MAX_SAFE_INTEGER)) return x < 0n ? w.typed(0xd3, 8, x, true) : w.typed(0xcf, 8, x);
    x = Number(x);
  }
  if (x >= 0) {
    if (x < 0x80) w.u8(x);
    else if (x <= 0xff) w.typed(0xcc, 1, x);
    else if (x <= 0xffff) w.typed(0xcd, 2, x);
    else if (x <= 0xffffffff) w.typed(0xce, 4, x);
    else w.typed(0xcf, 8, x);
  } else if (x >= -0x20) w.u8(0x100 + x);
  else if (x >= -0x80) w.typed(0xd0, 1, x, true);
  else if (x >= -0x8000) w.typed(0xd1, 2, x, true);
  else if (x >= -0x80000000) w.typed(0xd2, 4, x, true);
  else w.typed(0xd3, 8, x, true);
}

function writeLength(w: Writer, n: number, fix: number | undefined, fixMax: number, tags: readonly [number, number, number] | readonly [number, number]): void {
  if (fix !== undefined && n < fixMax) return w.u8(fix + n);
  const [t8, t16, t32] = tags.length === 3 ? tags : [undefined, tags[0], tags[1]];
  if (t8 !== undefined && n <= 0xff) w.typed(t8, 1, n);
  else if (n <= 0xffff) w.typed(t16!, 2, n);
  else if (n <= 0xffffffff) w.typed(t32!, 4, n);
  else throw new Error(`packMsgpackNumpy: length ${n} is too large for msgpack`);
}

const writeBin = (w: Writer, b: Uint8Array): void => (writeLength(w, b.length, undefined, 0, [0xc4, 0xc5, 0xc6]), w.raw(b));
const writeStr = (w: Writer, s: string): void => {
  const b = ENCODER.encode(s);
  writeLength(w, b.length, 0xa0, 32, [0xd9, 0xda, 0xdb]);
  w.raw(b);
};
const writeArrayHeader = (w: Writer, n: number): void => writeLength(w, n, 0x90, 16, [0xdc, 0xdd]);
const writeMapHeader = (w: Writer, n: number): void => writeLength(w, n, 0x80, 16, [0xde, 0xdf]);

function writeNdArray(w: Writer, a: NdArray): void {
  writeMapHeader(w, 4);
  writeBin(w, NDARRAY_KEYS[0]!);
  w.u8(0xc3);
  writeBin(w, NDARRAY_KEYS[1]!);
  writeBin(w, a.bytes());
  writeBin(w, NDARRAY_KEYS[2]!);
  writeStr(w, numpyDTypeString(a.dtype));
  writeBin(w, NDARRAY_KEYS[3]!);
  writeArrayHeader(w, a.shape.length);
  for (const d of a.shape) writeInt(w, d);
}

function writeNpGeneric(w: Writer, s: NumpyScalar): void {
  writeMapHeader(w, 3);
  writeBin(w, NPGENERIC_KEYS[0]!);
  w.u8(0xc3);
  writeBin(w, NPGENERIC_KEYS[1]!);
  // `item()` gives Python bool, int or float; Python writes every float as float 64.
  if (typeof s.value === 'boolean') w.u8(s.value ? 0xc3 : 0xc2);
  else if (s.dtype.startsWith('float')) w.typed(0xcb, 8, s.value as number, false, true);
  else writeInt(w, s.value);
  writeBin(w, NPGENERIC_KEYS[2]!);
  writeStr(w, numpyDTypeString(s.dtype));
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > ENCODE_MAX_DEPTH) throw new Error(`packMsgpackNumpy: nesting deeper than ${ENCODE_MAX_DEPTH} (a cycle?)`);
  if (v === null || v === undefined) return w.u8(0xc0);
  switch (typeof v) {
    case 'boolean':
      return w.u8(v ? 0xc3 : 0xc2);
    case 'number':
      return Number.isSafeInteger(v) && !Object.is(v, -0) ? writeInt(w, v) : w.typed(0xcb, 8, v, false, true);
    case 'bigint':
      return writeInt(w, v);
    case 'string':
      return writeStr(w, v);
    case 'object':
      break;
    default:
      throw new Error(`packMsgpackNumpy: cannot encode a ${typeof v}`);
  }
  if (v instanceof NdArray) return writeNdArray(w, v);
  if (v instanceof NumpyScalar) return writeNpGeneric(w, v);
  if (v instanceof Uint8Array) return writeBin(w, v);
  if (v instanceof ArrayBuffer) return writeBin(w, new Uint8Array(v));
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof Uint8ClampedArray)) {
    return writeNdArray(w, NdArray.from(v as ConstructorParameters<typeof NdArray>[2]));
  }
  if (Array.isArray(v)) {
    writeArrayHeader(w, v.length);
    for (const x of v) write(w, x, depth + 1);
    return;
  }
  if (!isPlainObject(v)) throw new Error(`packMsgpackNumpy: cannot encode ${Object.prototype.toString.call(v)}`);
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  writeMapHeader(w, keys.length);
  for (const k of keys) {
    writeStr(w, k);
    write(w, v[k], depth + 1);
  }
}

/**
 * Encodes `value` as openpi's `msgpack_numpy.packb` would: {@link NdArray} → the `__ndarray__` map,
 * {@link NumpyScalar} → the `__npgeneric__` map, `Uint8Array`/`ArrayBuffer` → `bin`, other typed
 * arrays → a 1-D `NdArray` of their natural dtype, plain objects → maps (entries whose value is
 * `undefined` are left out), arrays → arrays, integers → the smallest integer form, other numbers →
 * float 64, bigints → integers (64-bit at most), `null`/`undefined` → nil. Throws for anything else.
 */
export function packMsgpackNumpy(value: unknown): Uint8Array {
  const w = new Writer();
  write(w, value, 0);
  return w.bytes.subarray(0, w.pos);
}

function mapKey(key: unknown): string | number {
  // Python's bytes keys (the `__ndarray__` maps) arrive as bin; take them as their UTF-8 text.
  let k = key;
  if (key instanceof Uint8Array) {
    try {
      k = KEY_DECODER.decode(key);
    } catch {
      throw new PolicyProtocolError('invalid_frame', 'unpackMsgpackNumpy: a bytes map key is not UTF-8');
    }
  }
  if (typeof k === 'number') return k;
  if (typeof k !== 'string') throw new PolicyProtocolError('invalid_frame', `unpackMsgpackNumpy: map keys must be strings, numbers or bytes, got ${typeof k}`);
  if (k === '__proto__') throw new PolicyProtocolError('invalid_frame', 'unpackMsgpackNumpy: the map key "__proto__" is not allowed');
  return k;
}

const DECODER = new Decoder({ mapKeyConverter: mapKey, useBigInt64: true });

// 64-bit integer forms decode as bigint; only those beyond 2^53 stay bigint.
const safeInt = (v: bigint): number | bigint => (v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v);

function ndarrayOf(m: Record<string, unknown>, path: string): NdArray {
  const { data, dtype, shape } = m;
  if (!(data instanceof Uint8Array)) throw new PolicyProtocolError('invalid_ndarray', `${path}: ndarray "data" must be bytes, got ${describeValue(data)}`);
  if (typeof dtype !== 'string') throw new PolicyProtocolError('invalid_ndarray', `${path}: ndarray "dtype" must be a string, got ${describeValue(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new PolicyProtocolError('invalid_ndarray', `${path}: ndarray "shape" must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  try {
    return ndarrayFromBytes(dtype, shape as number[], data);
  } catch (e) {
    throw new PolicyProtocolError('invalid_ndarray', `${path}: ${(e as Error).message}`);
  }
}

function npgenericOf(m: Record<string, unknown>, path: string): NumpyScalar {
  const { dtype } = m;
  const data = typeof m.data === 'bigint' ? safeInt(m.data) : m.data;
  try {
    if (typeof dtype !== 'string') throw new Error(`"dtype" must be a string, got ${describeValue(dtype)}`);
    if (typeof data !== 'number' && typeof data !== 'boolean' && typeof data !== 'bigint') throw new Error(`"data" must be a number or boolean, got ${describeValue(data)}`);
    return new NumpyScalar(parseNumpyDType(dtype).dtype, data);
  } catch (e) {
    throw new PolicyProtocolError('invalid_ndarray', `${path}: npgeneric ${(e as Error).message}`);
  }
}

/** A short description of a decoded value's kind, for error messages. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (v instanceof NdArray) return `ndarray ${v.dtype}[${v.shape.join(', ')}]`;
  if (v instanceof NumpyScalar) return `numpy scalar ${v.dtype}`;
  if (v instanceof Uint8Array) return `bytes (${v.length})`;
  if (Array.isArray(v)) return `list (${v.length})`;
  return typeof v === 'object' ? (isPlainObject(v) ? 'map' : Object.prototype.toString.call(v).slice(8, -1)) : typeof v;
}

// Replaces the array and scalar maps in a freshly decoded tree (in place), and rejects what the protocol
// does not carry. Paths name the offending value in error messages.
function hydrate(v: unknown, path: string, depth: number, maxDepth: number): unknown {
  if (typeof v === 'bigint') return safeInt(v);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (depth >= maxDepth) throw new PolicyProtocolError('invalid_frame', `${path}: nested deeper than ${maxDepth} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = hydrate(v[i], `${path}[${i}]`, depth + 1, maxDepth);
    return v;
  }
  if (!isPlainObject(v)) throw new PolicyProtocolError('invalid_frame', `${path}: msgpack extension values (${describeValue(v)}) are not carried`);
  if ('__ndarray__' in v) return ndarrayOf(v, path);
  if ('__npgeneric__' in v) return npgenericOf(v, path);
  for (const k of Object.keys(v)) v[k] = hydrate(v[k], `${path}.${k}`, depth + 1, maxDepth);
  return v;
}

/**
 * Decodes one msgpack value as openpi's `msgpack_numpy.unpackb` would: `__ndarray__` maps become
 * {@link NdArray} (data copied; `str` or `bin` keys), `__npgeneric__` maps {@link NumpyScalar}, `bin`
 * `Uint8Array`, maps plain objects. Throws a {@link PolicyProtocolError}: `not_msgpack` when the bytes are
 * not exactly one msgpack value, `invalid_frame` for extension types, keys other than strings, numbers and
 * bytes, or nesting beyond `maxDepth`, `invalid_ndarray` for a malformed array or scalar map.
 */
export function unpackMsgpackNumpy(bytes: Uint8Array, options: UnpackOptions = {}): MsgpackNumpyValue {
  let decoded: unknown;
  try {
    decoded = DECODER.decode(bytes);
  } catch (e) {
    if (e instanceof PolicyProtocolError) throw e;
    throw new PolicyProtocolError('not_msgpack', `unpackMsgpackNumpy: not a msgpack value (${(e as Error).message})`);
  }
  return hydrate(decoded, 'frame', 0, options.maxDepth ?? DEFAULT_MAX_DEPTH) as MsgpackNumpyValue;
}
