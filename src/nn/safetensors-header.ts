/**
 * The safetensors header: the dtypes of the format, and the checks that a file must pass before any
 * tensor is read from it (those of the reference reader, huggingface/safetensors `read_metadata`).
 * @module
 */

/**
 * The safetensors dtypes that {@link deserialize} reads. Floats become float32 (F16, BF16, F32) or
 * float64 (F64); integers become int32 (I64, U32 and U64 only when every value fits, else an error); BOOL
 * becomes bool.
 */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

/**
 * Bytes per element of every readable dtype. (The format also defines FP8, FP6, FP4 and complex types,
 * which being-ts refuses by name.)
 * @internal
 */
export const ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const UNSUPPORTED = new Set(['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);
/** The reference reader refuses headers larger than this. */
const MAX_HEADER = 100_000_000;

/**
 * Throws the error of every malformed input: an `Error` whose message starts with `safetensors:`.
 * @internal
 */
export function fail(msg: string): never {
  throw new Error(`safetensors: ${msg}`);
}

/** One tensor's entry in a parsed header; offsets are relative to the start of the data section. */
export interface HeaderEntry {
  /** Its name. */
  readonly name: string;
  /** Its stored dtype. */
  readonly dtype: SafetensorsDType;
  /** Its shape. */
  readonly shape: readonly number[];
  /** First byte. */
  readonly begin: number;
  /** One past the last byte. */
  readonly end: number;
}

/** A validated header. */
export interface ParsedHeader {
  /** Where the data section starts in the file: 8 + the header length. */
  readonly dataStart: number;
  /** The tensors in the order of their data. */
  readonly entries: readonly HeaderEntry[];
  /** The `__metadata__` map. */
  readonly metadata: Record<string, string>;
}

/**
 * The header length N from the first 8 bytes of a file of `fileSize` bytes, checked against the file size
 * and the reference reader's 100 MB limit.
 * @internal
 */
export function readHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) fail(`file is ${fileSize} bytes, too short for the 8-byte header length`);
  const dv = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi >= 2 ** 21 || n > MAX_HEADER) {
    const exact = (BigInt(hi) << 32n) | BigInt(lo);
    fail(`header length ${exact} exceeds the limit of ${MAX_HEADER} bytes (file size ${fileSize})`);
  }
  if (8 + n > fileSize) fail(`header length ${n} runs past the end of the file (8 + ${n} > file size ${fileSize})`);
  return n;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Parses and validates the N header bytes of a file of `fileSize` bytes: UTF-8, a JSON object, every
 * field present and well-typed, every dtype known, every buffer the exact size of its shape and inside the
 * data section, and the buffers tiling the data section without overlap or gap. The entries come back in
 * data order.
 * @internal
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number): ParsedHeader {
  const n = headerBytes.length;
  const dataStart = 8 + n;
  const dataLength = fileSize - dataStart;
  if (n === 0) fail(`header length is 0; a header is at least '{}'`);
  if (headerBytes[0] !== 0x7b) {
    fail(`header does not start with '{' (first byte 0x${headerBytes[0]!.toString(16).padStart(2, '0')}, header length ${n})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail(`header (${n} bytes) is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header (${n} bytes) is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(`header is not a JSON object`);

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (info === null) continue;
      if (typeof info !== 'object' || Array.isArray(info)) {
        fail(`__metadata__ must be an object of strings, got ${JSON.stringify(info)}`);
      }
      for (const [k, v] of Object.entries(info as object)) {
        if (typeof v !== 'string') fail(`__metadata__ value of '${k}' must be a string, got ${JSON.stringify(v)}`);
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof info !== 'object' || info === null || Array.isArray(info)) {
      fail(`${where}: entry must be an object, got ${JSON.stringify(info)}`);
    }
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (dtype === undefined || shape === undefined || offsets === undefined) {
      const missing = (['dtype', 'shape', 'data_offsets'] as const).filter((k) => (info as Record<string, unknown>)[k] === undefined);
      fail(`${where}: missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
      if (typeof dtype === 'string' && UNSUPPORTED.has(dtype)) fail(`${where}: dtype ${dtype} is not supported by being-ts`);
      fail(`${where}: unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(ITEM_SIZE).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLength) {
      const sizes = `file size ${fileSize}, header length ${n}`;
      fail(`${where}: data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLength} bytes (${sizes})`);
    }
    const st = dtype as SafetensorsDType;
    const count = (shape as number[]).reduce((a, d) => a * d, 1);
    const need = count * ITEM_SIZE[st];
    if (end - begin !== need) {
      const needs = `shape ${shapeText(shape as number[])} of ${st} needs ${count} × ${ITEM_SIZE[st]} = ${need}`;
      fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${needs}`);
    }
    entries.push({ name, dtype: st, shape: shape as number[], begin, end });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.begin < at) {
      const other = `tensor '${prev!.name}' at [${prev!.begin}, ${prev!.end}]`;
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap ${other}`);
    }
    if (e.begin > at) {
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap: bytes [${at}, ${e.begin}) belong to no tensor`);
    }
    at = e.end;
    prev = e;
  }
  if (at !== dataLength) {
    fail(`the data section has ${dataLength} bytes but the tensors cover only [0, ${at}): ${dataLength - at} trailing bytes belong to no tensor`);
  }
  return { dataStart, entries, metadata };
}
