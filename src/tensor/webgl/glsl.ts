/**
 * The GLSL ES 3.00 that every WebGL kernel links: the scalar forms of the unary and binary ops, the
 * conversions to a stored dtype, reduction steps and comparisons. Kernels are JavaScript that gpu.js
 * transpiles; they call these functions (gpu.js's `nativeFunctions`) with an op code, a uniform, so that
 * one compiled program serves every op of a kind.
 *
 * GLSL leaves NaN, infinities and the domain errors of `log`, `sqrt` and `pow` unspecified, so NaN is
 * detected from the bits and the JavaScript results (which the CPU backend gives) are spelled out: NaN
 * propagates, `log(0) = −∞`, `log(−1) = NaN`, `pow(x, 0) = 1`, maximum/minimum propagate NaN, comparisons
 * with NaN are false.
 *
 * `sin` and `cos` are reduced to [−π/4, π/4] (Cody–Waite, in three parts of π/2) and evaluated by
 * Cephes's float32 polynomials: GLSL says nothing of their accuracy, and SwiftShader's are off by 1e-4.
 *
 * Indices are floats holding integers (exact below 2^24); `bt_div` and `bt_mod` convert to 32-bit ints so
 * that splitting a flat index into coordinates is exact, where float division can be off by one ulp.
 * @module
 */
import type { BinaryOp, UnaryOp } from '../backend.js';
import type { DType } from '../dtype.js';
import type { GpuJsNativeFunction } from './gpujs.js';

/** The unary ops in code order: op `UNARY_CODES[k]` has code `k`; `copy` (the identity) is internal. */
export const UNARY_CODES: readonly (UnaryOp | 'copy')[] = [
  'neg',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'rsqrt',
  'abs',
  'sign',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'relu',
  'erf',
  'softplus',
  'not',
  'copy',
];

/** The binary ops in code order. */
export const BINARY_CODES: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or'];

/** The code of a stored dtype for `bt_store`: float32 as computed, int32 truncated, bool as 0/1. */
export function storeCode(dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return 0;
    case 'int32':
      return 1;
    case 'bool':
      return 2;
    case 'float64':
      throw new TypeError('webgl: float64 cannot be stored (WebGL has no 64-bit floats)');
  }
}

/** The reduction codes of `bt_rinit`/`bt_racc`. */
export const REDUCE_CODES = { sum: 0, prod: 1, max: 2, min: 3 } as const;

const UNARY_GLSL: Record<UnaryOp | 'copy', string> = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'x < 0.0 ? bt_nan() : (x == 0.0 ? -bt_inf() : log(x))',
  log1p: 'bt_log1p(x)',
  sqrt: 'x < 0.0 ? bt_nan() : sqrt(x)',
  rsqrt: 'x < 0.0 ? bt_nan() : (x == 0.0 ? (bt_signbit(x) ? -bt_inf() : bt_inf()) : 1.0 / sqrt(x))',
  abs: 'abs(x)',
  sign: 'x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x)',
  sin: 'bt_sincos(x, 0)',
  cos: 'bt_sincos(x, 1)',
  tanh: 'bt_tanh(x)',
  sigmoid: 'bt_sigmoid(x)',
  relu: 'x > 0.0 ? x : 0.0',
  erf: 'bt_erf(x)',
  softplus: 'x > 20.0 ? x : bt_log1p(exp(x))',
  not: 'x == 0.0 ? 1.0 : 0.0',
  copy: 'x',
};

const BINARY_GLSL: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'bt_divide(a, b)',
  pow: 'bt_pow(a, b)',
  maximum: '(a > b || bt_isnan(a)) ? a : b',
  minimum: '(a < b || bt_isnan(a)) ? a : b',
  eq: 'bt_isnan(a) || bt_isnan(b) ? 0.0 : (a == b ? 1.0 : 0.0)',
  ne: 'bt_isnan(a) || bt_isnan(b) ? 1.0 : (a != b ? 1.0 : 0.0)',
  lt: 'bt_isnan(a) || bt_isnan(b) ? 0.0 : (a < b ? 1.0 : 0.0)',
  le: 'bt_isnan(a) || bt_isnan(b) ? 0.0 : (a <= b ? 1.0 : 0.0)',
  gt: 'bt_isnan(a) || bt_isnan(b) ? 0.0 : (a > b ? 1.0 : 0.0)',
  ge: 'bt_isnan(a) || bt_isnan(b) ? 0.0 : (a >= b ? 1.0 : 0.0)',
  and: 'bt_nonzero(a) && bt_nonzero(b) ? 1.0 : 0.0',
  or: 'bt_nonzero(a) || bt_nonzero(b) ? 1.0 : 0.0',
};

/** Helpers the native functions call (gpu.js's `injectedNative`, placed before them). */
export const GLSL_HELPERS = `
float bt_nan() { return uintBitsToFloat(0x7fc00000u); }
float bt_inf() { return uintBitsToFloat(0x7f800000u); }
bool bt_isnan(float x) { return (floatBitsToUint(x) & 0x7fffffffu) > 0x7f800000u; }
bool bt_isinf(float x) { return (floatBitsToUint(x) & 0x7fffffffu) == 0x7f800000u; }
bool bt_signbit(float x) { return (floatBitsToUint(x) >> 31u) == 1u; }
bool bt_nonzero(float x) { return x != 0.0 || bt_isnan(x); }
float bt_log1p(float x) {
  if (x < -1.0) return bt_nan();
  if (x == -1.0) return -bt_inf();
  if (bt_isinf(x)) return x;
  float u = 1.0 + x;
  if (u == 1.0) return x;
  return log(u) * x / (u - 1.0);
}
float bt_sincos(float x, int shift) {
  if (bt_isinf(x)) return bt_nan();
  float j = floor(x * 0.6366197723675814 + 0.5);
  float y = ((x - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.54978995489188216e-8;
  int q = (int(mod(j, 4.0)) + shift) & 3;
  float z = y * y;
  float s = y + y * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  float c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  return q == 0 ? s : (q == 1 ? c : (q == 2 ? -s : -c));
}
float bt_tanh(float x) {
  float t = exp(-2.0 * abs(x));
  float y = (1.0 - t) / (1.0 + t);
  return x < 0.0 ? -y : y;
}
float bt_sigmoid(float x) {
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  float e = exp(x);
  return e / (1.0 + e);
}
float bt_erf(float x) {
  float ax = abs(x);
  float t = 1.0 / (1.0 + 0.3275911 * ax);
  float y = 1.0 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
  return x >= 0.0 ? y : -y;
}
float bt_divide(float a, float b) {
  if (b == 0.0) {
    if (a == 0.0 || bt_isnan(a)) return bt_nan();
    return (bt_signbit(a) != bt_signbit(b)) ? -bt_inf() : bt_inf();
  }
  return a / b;
}
float bt_powi(float a, int n) {
  float r = 1.0;
  float p = a;
  int m = n < 0 ? -n : n;
  for (int i = 0; i < 8; i++) {
    if (m == 0) break;
    if ((m & 1) == 1) r *= p;
    p *= p;
    m >>= 1;
  }
  return n < 0 ? 1.0 / r : r;
}
float bt_pow(float a, float b) {
  if (b == 0.0) return 1.0;
  if (bt_isnan(a) || bt_isnan(b)) return bt_nan();
  bool integral = floor(b) == b && abs(b) <= 255.0;
  if (integral) return bt_powi(a, int(b));
  if (a < 0.0) return bt_nan();
  if (a == 0.0) return b > 0.0 ? 0.0 : bt_inf();
  if (bt_isinf(a) || bt_isinf(b)) return pow(a, b);
  return exp2(b * log2(a));
}
`;

function chain(codes: readonly string[], glsl: (op: string) => string, arg: string): string {
  return codes.map((op, k) => `  if (code == ${k}.0) return ${glsl(op)};`).join('\n') + `\n  return ${arg};`;
}

/** The GLSL functions that kernel JavaScript calls (gpu.js's `nativeFunctions`). */
export const NATIVE_FUNCTIONS: readonly GpuJsNativeFunction[] = [
  { name: 'bt_f', source: 'float bt_f(float x) { return x; }' },
  { name: 'bt_div', source: 'float bt_div(float a, float b) { return float(int(a) / int(b)); }' },
  { name: 'bt_mod', source: 'float bt_mod(float a, float b) { int ia = int(a); int ib = int(b); return float(ia - (ia / ib) * ib); }' },
  { name: 'bt_lt', source: 'float bt_lt(float a, float b) { return a < b ? 1.0 : 0.0; }' },
  { name: 'bt_isnanf', source: 'float bt_isnanf(float x) { return bt_isnan(x) ? 1.0 : 0.0; }' },
  { name: 'bt_nanf', source: 'float bt_nanf() { return bt_nan(); }' },
  { name: 'bt_truthy', source: 'float bt_truthy(float x) { return bt_nonzero(x) ? 1.0 : 0.0; }' },
  { name: 'bt_bad', source: 'float bt_bad(float v, float n) { return (v < 0.0 || v >= n || bt_isnan(v)) ? 1.0 : 0.0; }' },
  { name: 'bt_clampi', source: 'float bt_clampi(float v, float n) { return clamp(v, 0.0, max(n - 1.0, 0.0)); }' },
  {
    name: 'bt_unary',
    source: `float bt_unary(float code, float x) {\n  if (bt_isnan(x)) return code == ${UNARY_CODES.indexOf('not')}.0 ? 0.0 : x;\n${chain(UNARY_CODES, (op) => UNARY_GLSL[op as UnaryOp | 'copy'], 'x')}\n}`,
  },
  { name: 'bt_binary', source: `float bt_binary(float code, float a, float b) {\n${chain(BINARY_CODES, (op) => BINARY_GLSL[op as BinaryOp], 'bt_nan()')}\n}` },
  {
    name: 'bt_store',
    source: `float bt_store(float code, float x) {
  if (code == 1.0) return (bt_isnan(x) || bt_isinf(x)) ? 0.0 : trunc(x);
  if (code == 2.0) return bt_nonzero(x) ? 1.0 : 0.0;
  return x;
}`,
  },
  { name: 'bt_rinit', source: 'float bt_rinit(float code) { return code == 0.0 ? 0.0 : (code == 1.0 ? 1.0 : (code == 2.0 ? -bt_inf() : bt_inf())); }' },
  {
    name: 'bt_racc',
    source: `float bt_racc(float code, float acc, float v) {
  if (code == 1.0) return acc * v;
  if (bt_isnan(acc)) return acc;
  if (code == 2.0) return (v > acc || bt_isnan(v)) ? v : acc;
  return (v < acc || bt_isnan(v)) ? v : acc;
}`,
  },
  { name: 'bt_kcomp', source: 'float bt_kcomp(float t, float acc, float y) { float c = (t - acc) - y; return (bt_isnan(c) || bt_isinf(c)) ? 0.0 : c; }' },
  {
    name: 'bt_better',
    source: `float bt_better(float code, float v, float best) {
  if (bt_isnan(best)) return 0.0;
  if (bt_isnan(v)) return 1.0;
  return (code == 0.0 ? v > best : v < best) ? 1.0 : 0.0;
}`,
  },
  {
    name: 'bt_precedes',
    source: `float bt_precedes(float desc, float u, float v, float i, float j) {
  bool un = bt_isnan(u);
  bool vn = bt_isnan(v);
  if ((un && vn) || (!un && !vn && u == v)) return i < j ? 1.0 : 0.0;
  if (desc > 0.5) return (un || (!vn && u > v)) ? 1.0 : 0.0;
  return (vn || (!un && u < v)) ? 1.0 : 0.0;
}`,
  },
];
