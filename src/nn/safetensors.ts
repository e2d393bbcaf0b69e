/**
 * Reading and writing the safetensors checkpoint format (huggingface/safetensors), so weights move to
 * and from PyTorch, JAX and the Hugging Face hub. Runtime-neutral: bytes in, bytes out, no file system
 * (for files in Node, see `being-ts/node`).
 *
 * The format: an 8-byte little-endian unsigned length N; N bytes of UTF-8 JSON, an object mapping each
 * tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` plus an optional `"__metadata__"`
 * string-to-string map, padded with trailing spaces; then the data section, where each tensor's
 * little-endian row-major bytes lie at `[begin, end)`. The buffers must tile the data section exactly: no
 * overlaps, no gaps, nothing left over.
 * @module
 */
import { Tensor, tensor, type DType, type TypedArray } from '../tensor/index.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32, toBFloat16Bits, toFloat16Bits } from './half.js';
import { fail, ITEM_SIZE, parseHeader, readHeaderLength, type HeaderEntry, type SafetensorsDType } from './safetensors-header.js';

export type { SafetensorsDType } from './safetensors-header.js';

/**
 * The dtypes that {@link serialize} writes. Floating tensors may be stored as F64, F32, F16 or BF16;
 * int32 tensors as I32 or I64; bool tensors as BOOL.
 */
export type SafetensorsWriteDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'BOOL';

/** Options of {@link serialize}. */
export interface SerializeOptions {
  /** Free-form string pairs stored under `__metadata__` (written with keys sorted). */
  metadata?: Record<string, string>;
  /** The stored dtype of named tensors; every name must be one of the tensors. */
  dtypes?: Record<string, SafetensorsWriteDType>;
  /**
   * The stored dtype of every floating tensor not named in `dtypes` (by default each keeps its own: F32 for
   * float32, F64 for float64). `'BF16'` halves a float32 checkpoint.
   */
  floatDType?: 'F64' | 'F32' | 'F16' | 'BF16';
}

/** What {@link deserialize} returns. */
export interface Deserialized {
  /** The tensors by name, in the order of their data in the file. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` map (empty when the file has none). */
  metadata: Record<string, string>;
  /** The stored dtype of each tensor, so that it can be written back as it was. */
  dtypes: Record<string, SafetensorsDType>;
}

/** The reference writer's order (its `Dtype` enum, ascending alignment); it writes descending, then by name. */
const WRITE_RANK: Record<SafetensorsWriteDType, number> = { BOOL: 0, F16: 1, BF16: 2, I32: 3, F32: 4, F64: 5, I64: 6 };
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes, as the reference (Rust) writer does. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (U+10000 and up) before U+E000..U+FFFF; code point order puts them after.
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Reverses the bytes of each `size`-byte item in place (only on big-endian hosts). */
function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  if (LITTLE_ENDIAN || size === 1) return bytes;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  return bytes;
}

function bytesOf(a: TypedArray | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// --- writing ------------------------------------------------------------------------------------------

/** One tensor of a planned file. */
export interface PlannedTensor {
  /** Its name. */
  readonly name: string;
  /** The tensor. */
  readonly tensor: Tensor;
  /** Its stored dtype. */
  readonly dtype: SafetensorsWriteDType;
}

/** A file ready to write: the 8-byte length and padded header, then each tensor's data in this order. */
export interface SafetensorsPlan {
  /** Length prefix and header, ready to write first. */
  readonly header: Uint8Array;
  /** The tensors in the order of their data. */
  readonly tensors: readonly PlannedTensor[];
}

function storedDType(name: string, t: Tensor, opts: SerializeOptions): SafetensorsWriteDType {
  const named = opts.dtypes !== undefined && Object.hasOwn(opts.dtypes, name) ? opts.dtypes[name] : undefined;
  const want = named ?? (t.dtype === 'float32' || t.dtype === 'float64' ? opts.floatDType : undefined);
  const own: Record<DType, SafetensorsWriteDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
  if (want === undefined) return own[t.dtype];
  const allowed: Record<DType, readonly string[]> = {
    float32: ['F64', 'F32', 'F16', 'BF16'],
    float64: ['F64', 'F32', 'F16', 'BF16'],
    int32: ['I32', 'I64'],
    bool: ['BOOL'],
  };
  if (!allowed[t.dtype].includes(want)) {
    fail(`cannot write ${t.dtype} tensor '${name}' as ${JSON.stringify(want)}; allowed: ${allowed[t.dtype].join(', ')}`);
  }
  return want;
}

/**
 * Checks names and options and lays out the file: the tensors sorted as the reference writer sorts them
 * (by dtype, widest alignment first, then by name in code-point order), the header JSON in its compact form
 * with `__metadata__` first, padded with spaces so that the data starts at a multiple of 8 bytes. Used by
 * {@link serialize} and by the streaming file writer of `being-ts/node`.
 * @internal
 */
export function planSafetensors(tensors: Record<string, Tensor>, opts: SerializeOptions = {}): SafetensorsPlan {
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === '__metadata__') fail(`'__metadata__' is reserved and cannot name a tensor`);
    if (LONE_SURROGATE.test(name)) fail(`tensor name ${JSON.stringify(name)} is not valid Unicode (lone surrogate)`);
    if (!(tensors[name] instanceof Tensor)) fail(`'${name}' is not a Tensor`);
  }
  for (const name of Object.keys(opts.dtypes ?? {})) {
    if (!Object.hasOwn(tensors, name)) fail(`dtypes names '${name}', which is not one of the tensors`);
  }
  const planned = names.map((name) => ({ name, tensor: tensors[name]!, dtype: storedDType(name, tensors[name]!, opts) }));
  planned.sort((a, b) => WRITE_RANK[b.dtype] - WRITE_RANK[a.dtype] || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  const meta = Object.entries(opts.metadata ?? {});
  if (opts.metadata !== undefined) {
    for (const [k, v] of meta) {
      if (typeof v !== 'string') fail(`metadata value of '${k}' must be a string, got ${typeof v}`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) fail(`metadata entry '${k}' is not valid Unicode (lone surrogate)`);
    }
    meta.sort((a, b) => compareCodePoints(a[0], b[0]));
    parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const p of planned) {
    const end = offset + p.tensor.size * ITEM_SIZE[p.dtype];
    const info = `{"dtype":"${p.dtype}","shape":[${p.tensor.shape.join(',')}],"data_offsets":[${offset},${end}]}`;
    parts.push(`${JSON.stringify(p.name)}:${info}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + n).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setUint32(0, n, true);
  header.set(json, 8);
  return { header, tensors: planned };
}

/**
 * The little-endian bytes of one planned tensor, from its row-major elements `host` (as `dataSync()` or
 * `await data()` give them).
 * @internal
 */
export function encodeTensorData(p: PlannedTensor, host: TypedArray): Uint8Array {
  switch (p.dtype) {
    case 'F32':
      return swapBytes(bytesOf(host instanceof Float32Array ? host : Float32Array.from(host)), 4);
    case 'F64':
      return swapBytes(bytesOf(host instanceof Float64Array ? host : Float64Array.from(host)), 8);
    case 'F16':
      return swapBytes(bytesOf(toFloat16Bits(host as Float32Array | Float64Array)), 2);
    case 'BF16':
      return swapBytes(bytesOf(toBFloat16Bits(host as Float32Array | Float64Array)), 2);
    case 'I32':
      return swapBytes(bytesOf(host), 4);
    case 'I64': {
      const words = new Int32Array(host.length * 2);
      for (let i = 0; i < host.length; i++) {
        words[2 * i] = host[i]!;
        words[2 * i + 1] = host[i]! < 0 ? -1 : 0;
      }
      return swapBytes(bytesOf(words), 4);
    }
    case 'BOOL':
      return Uint8Array.from(host, (v) => (v ? 1 : 0));
  }
}

/**
 * Serialises named tensors to safetensors bytes. Deterministic: the same tensors and options give the
 * same bytes, identical to those of the reference writer (`safetensors.torch.save`) for the same tensors,
 * dtypes and metadata (whose keys we sort; the reference leaves them in hash order). The tensors are laid
 * out as the reference lays them out: by dtype, widest alignment first, then by name in code-point order.
 * Needs a backend that reads synchronously (the CPU backend); on others, move the tensors to the CPU first,
 * or use `saveSafetensors` from `being-ts/node`, which awaits the data.
 *
 * @example
 * const bytes = serialize(model.stateDict(), { metadata: { format: 'pt' }, floatDType: 'BF16' });
 */
export function serialize(tensors: Record<string, Tensor>, opts: SerializeOptions = {}): Uint8Array {
  const plan = planSafetensors(tensors, opts);
  const chunks = plan.tensors.map((p) => encodeTensorData(p, p.tensor.dataSync()));
  const out = new Uint8Array(plan.header.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(plan.header, 0);
  let at = plan.header.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// --- reading ------------------------------------------------------------------------------------------

/** I8, U8, I16 and U16 widened to int32 (always exact). */
function decodeNarrowInts(e: HeaderEntry, raw: Uint8Array): Int32Array {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.byteLength / ITEM_SIZE[e.dtype];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    switch (e.dtype) {
      case 'I8':
        out[i] = dv.getInt8(i);
        break;
      case 'U8':
        out[i] = dv.getUint8(i);
        break;
      case 'I16':
        out[i] = dv.getInt16(2 * i, true);
        break;
      default:
        out[i] = dv.getUint16(2 * i, true);
    }
  }
  return out;
}

/** Narrows I64/U64/U32 to int32, naming the first value that does not fit. */
function decodeWideInts(e: HeaderEntry, raw: Uint8Array): Int32Array {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = ITEM_SIZE[e.dtype];
  const out = new Int32Array(raw.byteLength / size);
  for (let i = 0; i < out.length; i++) {
    const lo = dv.getUint32(size * i, true);
    const hi = size === 8 ? dv.getUint32(size * i + 4, true) : 0;
    // In range iff the high word is the sign extension of the low word (and, unsigned, the sign is 0).
    const fits = e.dtype === 'I64' ? hi === (lo >= 2 ** 31 ? 0xffffffff : 0) : hi === 0 && lo < 2 ** 31;
    if (!fits) {
      const value = e.dtype === 'I64' ? dv.getBigInt64(size * i, true) : size === 8 ? dv.getBigUint64(size * i, true) : BigInt(lo);
      fail(`tensor '${e.name}': ${e.dtype} value ${value} at flat index ${i} is outside the int32 range [-2147483648, 2147483647]`);
    }
    out[i] = lo | 0;
  }
  return out;
}

/**
 * The tensor of one header entry from its stored bytes (`raw.length === end − begin`).
 * @internal
 */
export function decodeTensor(e: HeaderEntry, raw: Uint8Array): Tensor {
  const shape = [...e.shape];
  // A fresh, aligned copy of the bytes, in host byte order, for the fixed-width types.
  const own = (size: number): ArrayBuffer => swapBytes(raw.slice(), size).buffer as ArrayBuffer;
  let data: TypedArray;
  let dtype: DType;
  switch (e.dtype) {
    case 'F64':
      [data, dtype] = [new Float64Array(own(8)), 'float64'];
      break;
    case 'F32':
      [data, dtype] = [new Float32Array(own(4)), 'float32'];
      break;
    case 'F16':
      [data, dtype] = [float16BitsToFloat32(new Uint16Array(own(2))), 'float32'];
      break;
    case 'BF16':
      [data, dtype] = [bfloat16BitsToFloat32(new Uint16Array(own(2))), 'float32'];
      break;
    case 'I32':
      [data, dtype] = [new Int32Array(own(4)), 'int32'];
      break;
    case 'I64':
    case 'U64':
    case 'U32':
      [data, dtype] = [decodeWideInts(e, raw), 'int32'];
      break;
    case 'BOOL':
      // Any non-zero byte is true, as numpy and torch read it.
      [data, dtype] = [Uint8Array.from(raw, (b) => (b ? 1 : 0)), 'bool'];
      break;
    default:
      [data, dtype] = [decodeNarrowInts(e, raw), 'int32'];
  }
  return tensor(data, { shape, dtype });
}

/**
 * Reads safetensors bytes (a whole file) into tensors on the current backend. Every malformed input is
 * refused with an `Error` whose message starts with `safetensors:` and names the tensor and the numbers
 * at fault, with the same rules as the reference reader: the header length must fit in the file, the
 * header must be a UTF-8 JSON object, each buffer must have exactly the size its shape and dtype need, and
 * the buffers must tile the data section with no overlap, gap or trailing bytes. F16 and BF16 are widened
 * to float32 exactly; I64, U64 and U32 are narrowed to int32 only when every value fits.
 *
 * @example
 * const { tensors } = deserialize(bytes);
 * model.loadStateDict(tensors);
 */
export function deserialize(bytes: ArrayBuffer | Uint8Array): Deserialized {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const n = readHeaderLength(u8.subarray(0, 8), u8.length);
  const header = parseHeader(u8.subarray(8, 8 + n), u8.length);
  const out: Deserialized = { tensors: {}, metadata: header.metadata, dtypes: {} };
  for (const e of header.entries) {
    const t = decodeTensor(e, u8.subarray(header.dataStart + e.begin, header.dataStart + e.end));
    // defineProperty, so that a tensor named `__proto__` is an ordinary key.
    Object.defineProperty(out.tensors, e.name, { value: t, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(out.dtypes, e.name, { value: e.dtype, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
