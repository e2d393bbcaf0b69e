/**
 * WGSL building blocks shared by the kernel templates: element types, conversions, the uniform parameter
 * block, NaN-safe scalar functions and the strided index walk.
 *
 * Storage: float32 is `f32`, int32 is `i32`, and bool is one `u32` (0 or 1) per element. Packing bools
 * four to a word would make strided writes into neighbouring bools race, so they take a word each.
 * Shaders may assume that NaN never occurs (WGSL allows compilers to fold `x != x` to false), so every
 * NaN test here looks at the bit pattern instead.
 * @module
 */
import type { DType } from '../dtype.js';

/** A WGSL scalar type as stored in a buffer. */
export type StorageType = 'f32' | 'i32' | 'u32';
/** The type a kernel computes in: floats in `f32`, integers and bools in `i32`. */
export type ComputeType = 'f32' | 'i32';

/** The error for dtypes WebGPU cannot hold, naming the op that asked for one. */
export function unsupportedDType(op: string, dtype: DType): TypeError {
  return new TypeError(
    `webgpu.${op}: ${dtype} is not supported on WebGPU (WGSL has no 64-bit floats); use float32 here, or move the tensor to the cpu backend`,
  );
}

/** The storage type of a dtype; throws for float64. */
export function storageOf(op: string, dtype: DType): StorageType {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    case 'float64':
      throw unsupportedDType(op, dtype);
  }
}

/** The compute type for results of `dtype`. */
export function computeOf(op: string, dtype: DType): ComputeType {
  return storageOf(op, dtype) === 'f32' ? 'f32' : 'i32';
}

/** `expr` (stored as `from`) converted to the compute type `to`. */
export function load(expr: string, from: StorageType, to: ComputeType): string {
  return from === to ? expr : `${to}(${expr})`;
}

/** `expr` (of compute type `from`) converted for storing as `to`; bools store 1 for any non-zero value. */
export function store(expr: string, from: ComputeType, to: StorageType): string {
  if (to === 'u32') return `select(0u, 1u, (${expr}) != ${zero(from)})`;
  return from === to ? expr : `${to}(${expr})`;
}

/** The literal zero of a type. */
export function zero(t: ComputeType | StorageType): string {
  return t === 'f32' ? '0.0' : t === 'i32' ? '0i' : '0u';
}

/** A storage binding declaration: `array<type>` at `binding`, read-only unless `write`. */
export function storageDecl(binding: number, name: string, type: string, write = false): string {
  return `@group(0) @binding(${binding}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
}

/**
 * The parameter block: `count` u32 values in a uniform buffer at binding 0, read with `prm(i)`. Uniform
 * arrays need 16-byte elements, hence the `vec4` packing.
 */
export function paramsDecl(count: number): string {
  const n = Math.max(1, Math.ceil(count / 4));
  return `struct Params { v: array<vec4<u32>, ${n}> };
@group(0) @binding(0) var<uniform> P: Params;
fn prm(i: u32) -> u32 { return P.v[i >> 2u][i & 3u]; }`;
}

/** The size in bytes of a parameter block of `count` values. */
export function paramsBytes(count: number): number {
  return Math.max(1, Math.ceil(count / 4)) * 16;
}

/** Scalar helpers every template may call: NaN tests by bit pattern, infinities, and stable math. */
export const SCALAR_FNS = `
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// Through a variable: a constant bitcast to inf or NaN is a compile error in WGSL.
fn inf_() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn nan_() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn max_f(a: f32, b: f32) -> f32 { if (isnan_(a) || a > b) { return a; } return b; }
fn min_f(a: f32, b: f32) -> f32 { if (isnan_(a) || a < b) { return a; } return b; }
fn sign_f(x: f32) -> f32 { if (isnan_(x)) { return x; } if (x > 0.0) { return 1.0; } if (x < 0.0) { return -1.0; } return x; }
fn relu_f(x: f32) -> f32 { if (x > 0.0 || isnan_(x)) { return x; } return 0.0; }
fn log1p_f(x: f32) -> f32 {
  // log(u)·x/(u − 1) with u = 1 + x cancels the rounding of u (Goldberg's trick).
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (isnan_(x) || x == inf_()) { return log(u); }
  return log(u) * x / (u - 1.0);
}
fn tanh_f(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}
fn sincos_f(x: f32, shift: i32) -> f32 {
  // WGSL allows sin/cos an absolute error of 2^-11 (SwiftShader's reach 1e-4): reduce to [−π/4, π/4]
  // (Cody–Waite, π/2 in three parts) and use Cephes's float32 polynomials.
  if (isnan_(x) || abs(x) == inf_()) { return nan_(); }
  let j = floor(x * 0.6366197723675814 + 0.5);
  let y = ((x - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.54978995489188216e-8;
  let q = (i32(j - 4.0 * floor(j * 0.25)) + shift) & 3;
  let z = y * y;
  let s = y + y * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  if (q == 0) { return s; }
  if (q == 1) { return c; }
  if (q == 2) { return -s; }
  return -c;
}
fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn softplus_f(x: f32) -> f32 { if (x > 20.0) { return x; } return log1p_f(exp(x)); }
fn erf_f(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, as the CPU backend's float32 erf.
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let y = 1.0 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-ax * ax);
  return select(-y, y, x >= 0.0);
}
fn pow_f(x: f32, y: f32) -> f32 {
  // WGSL's pow is undefined for x ≤ 0; this follows Math.pow for negative bases and zero.
  if (y == 0.0) { return 1.0; }
  if (isnan_(x) || isnan_(y)) { return nan_(); }
  let ax = abs(x);
  var r: f32;
  if (ax == 0.0) { r = select(inf_(), 0.0, y > 0.0); } else if (ax == inf_()) { r = select(0.0, inf_(), y > 0.0); } else { r = exp2(y * log2(ax)); }
  if (x < 0.0) {
    if (fract(y) != 0.0) { return nan_(); }
    if (fract(y * 0.5) != 0.0) { return -r; }
  }
  return r;
}
fn pow_i(x: i32, y: i32) -> i32 {
  if (y < 0) {
    if (x == 1) { return 1; }
    if (x == -1) { return select(1, -1, (y & 1) != 0); }
    return 0;
  }
  var b = x; var e = y; var r = 1;
  loop { if (e == 0) { break; } if ((e & 1) != 0) { r = r * b; } b = b * b; e = e >> 1u; }
  return r;
}
`;

/**
 * The start of a one-dimensional kernel over `n` threads: workgroups are laid out in two dimensions (a
 * dimension holds at most 65535), and `i` is the flat thread index.
 */
export function flatMain(workgroup: number): string {
  return `@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * ${workgroup}u + li;`;
}

/**
 * Code that turns the flat index `index` into element offsets of several strided layouts over one shape
 * of `rank` axes: the shape sits at parameters `shapeAt…`, layout `k` has its offset at `layoutAt[k]` and
 * its strides right after. Declares `var <names[k]>: u32`, starting from `init[k]` when given instead of
 * the layout's offset. `tag` keeps the walk's own variables apart from another walk's in the same scope.
 */
export function stridedWalk(
  index: string,
  rank: number,
  shapeAt: number,
  names: readonly string[],
  layoutAt: readonly number[],
  init?: readonly string[],
  tag = '',
): string {
  const rem = `rem${tag}`;
  const lines = names.map((n, k) => `  var ${n} = ${init?.[k] ?? `prm(${layoutAt[k]!}u)`};`);
  if (rank > 0) lines.push(`  var ${rem} = ${index};`);
  for (let d = rank - 1; d >= 0; d--) {
    const c = d === 0 ? rem : `${rem} % prm(${shapeAt + d}u)`;
    lines.push(`  { let c = ${c};${d > 0 ? ` ${rem} = ${rem} / prm(${shapeAt + d}u);` : ''}`);
    names.forEach((n, k) => lines.push(`    ${n} = ${n} + c * prm(${layoutAt[k]! + 1 + d}u);`));
    lines.push('  }');
  }
  return lines.join('\n');
}

/** The start of a kernel with one workgroup per item: `g` is the flat workgroup index, `li` the thread. */
export function groupMain(workgroup: number): string {
  return `@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = wg.y * nwg.x + wg.x;`;
}
