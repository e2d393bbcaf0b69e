/**
 * Bit-exact conversions between float32/float64 and the 16-bit float formats that checkpoints use:
 * IEEE half precision (F16: 1 sign, 5 exponent, 10 mantissa bits) and bfloat16 (BF16: 1, 8, 7).
 *
 * Narrowing rounds to nearest, ties to even, directly from the source value (so a float64 is rounded
 * once, never through float32), overflows to ±Infinity and produces subnormals, as numpy's
 * `astype(float16)` does. A NaN keeps its sign and the top bits of its payload (numpy's rule); if the kept
 * payload would be zero, its lowest bit is set so that it stays a NaN. Widening is exact and keeps NaN
 * payloads, so F16 → float32 → F16 and BF16 → float32 → BF16 are the identity on every bit pattern.
 * @module
 */

interface Format {
  /** Mantissa bits. */
  readonly m: number;
  /** Exponent bias. */
  readonly bias: number;
  /** Exponent field of Inf/NaN, shifted into place. */
  readonly inf: number;
  /** The smallest magnitude that rounds to infinity: 2^emax · (2 − 2^−(m+1)). */
  readonly overflow: number;
  /** The smallest normal number, 2^(1 − bias). */
  readonly minNormal: number;
}

const F16: Format = { m: 10, bias: 15, inf: 0x7c00, overflow: 2 ** 15 * (2 - 2 ** -11), minNormal: 2 ** -14 };
const BF16: Format = { m: 7, bias: 127, inf: 0x7f80, overflow: 2 ** 127 * (2 - 2 ** -8), minNormal: 2 ** -126 };

/** Rounds a non-negative double to an integer, ties to even. Exact: `q − floor(q)` never rounds. */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/**
 * The bits of the finite or infinite double `x` rounded to format `fmt`. Every step is exact in double
 * arithmetic (scaling by powers of two, subtracting within one binade), so the only rounding is the
 * explicit one.
 */
function narrow(x: number, fmt: Format): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= fmt.overflow) return sign | fmt.inf;
  // Subnormal (and zero): count units of the smallest subnormal, 2^(1 − bias − m). Rounding up to
  // 2^m units gives exactly the bits of the smallest normal.
  if (a < fmt.minNormal) return sign | roundHalfEven(a * 2 ** (fmt.bias - 1 + fmt.m));
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let q = roundHalfEven((a * 2 ** -e - 1) * 2 ** fmt.m);
  if (q === 2 ** fmt.m) {
    q = 0;
    e++;
  }
  return sign | ((e + fmt.bias) << fmt.m) | q;
}

/** A NaN's 16-bit pattern from its sign and its `m` highest payload bits. */
function narrowNaN(sign: number, payload: number, fmt: Format): number {
  return sign | fmt.inf | (payload === 0 ? 1 : payload);
}

function fromFloat32(src: Float32Array, fmt: Format): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const b = bits[i]!;
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? narrowNaN((b >>> 16) & 0x8000, (b & 0x7fffff) >>> (23 - fmt.m), fmt) : narrow(src[i]!, fmt);
  }
  return out;
}

function fromFloat64(src: Float64Array, fmt: Format): Uint16Array {
  // Only the high word matters for NaNs: it holds the sign and the top 20 payload bits.
  const words = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const hiWord = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    if (x === x) {
      out[i] = narrow(x, fmt);
    } else {
      const hi = words[2 * i + hiWord]!;
      out[i] = narrowNaN((hi >>> 16) & 0x8000, (hi & 0xfffff) >>> (20 - fmt.m), fmt);
    }
  }
  return out;
}

/** The F16 bit patterns of `src`, rounded to nearest even (see the module notes for NaN and overflow). */
export function toFloat16Bits(src: Float32Array | Float64Array): Uint16Array {
  return src instanceof Float32Array ? fromFloat32(src, F16) : fromFloat64(src, F16);
}

/** The BF16 bit patterns of `src`, rounded to nearest even (see the module notes for NaN and overflow). */
export function toBFloat16Bits(src: Float32Array | Float64Array): Uint16Array {
  return src instanceof Float32Array ? fromFloat32(src, BF16) : fromFloat64(src, BF16);
}

/** The float32 values of F16 bit patterns (exact; NaN payloads are kept). */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0x1f) outBits[i] = sign | 0x7f800000 | (man << 13);
    else if (exp === 0) out[i] = (sign ? -man : man) * 2 ** -24;
    else outBits[i] = sign | ((exp - 15 + 127) << 23) | (man << 13);
  }
  return out;
}

/** The float32 values of BF16 bit patterns (exact: BF16 is the top half of a float32). */
export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
  return out;
}
