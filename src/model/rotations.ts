/**
 * Rotations for the unified state-action space (§5.1.1): "Rotations are uniformly parameterized using
 * Axis-Angle notation to prevent gimbal lock and ensure smooth interpolation on the SE(3) manifold."
 * Datasets arrive as quaternions, matrices or axis-angles; these conversions bring them to the axis-angle
 * the slots of Eq. 1 hold, and compose rotations (end-effector actions are world-frame deltas).
 *
 * Conventions: an axis-angle `v = θ·n` (radians, |n| = 1); a quaternion `[w, x, y, z]` (scalar first, the
 * Hamilton product, `R(a ⊗ b) = R(a)·R(b)`), returned canonical with `w ≥ 0`; a matrix is row-major, as
 * nine numbers (plain) or `[..., 3, 3]` (tensors). Every function takes plain numbers (`ArrayLike<number>`)
 * or a float tensor with the components on the last axis (batched over the leading axes, differentiable).
 *
 * Numerics: near θ = 0 the ratios sin(θ/2)/θ and θ/sin(θ/2) use their Taylor series (no 0/0); the angle
 * of a quaternion comes from atan2-like forms, never acos, so it stays accurate near 0 and π; a matrix
 * becomes a quaternion by Shepperd's method (the square root of the largest of 1 + trace and the three
 * 1 + 2·Rᵢᵢ − trace), which recovers the axis from the symmetric part near θ = π.
 * @module
 */
import { Tensor, concat, div, formatShape, stack, where } from '../tensor/index.js';

/** An axis-angle `θ·n` or any 3-vector. */
export type Vec3 = [number, number, number];
/** A quaternion `[w, x, y, z]`. */
export type Quat = [number, number, number, number];
/** A 3×3 matrix, row-major: `[r00, r01, r02, r10, …, r22]`. */
export type Mat3 = number[];

/** Below this angle (radians) the small-angle series replace sin(θ/2)/θ and cos(θ/2). */
const SMALL_ANGLE = 1e-4;

function checkPlain(fn: string, v: ArrayLike<number>, n: number): void {
  if (v.length !== n) throw new RangeError(`${fn}: expected ${n} numbers, got ${v.length}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v[i]!)) throw new RangeError(`${fn}: component ${i} is ${v[i]}`);
  }
}

function checkTensor(fn: string, t: Tensor, tail: readonly number[]): void {
  const r = t.ndim;
  const ok = r >= tail.length && tail.every((d, i) => t.shape[r - tail.length + i] === d);
  if (!ok) throw new RangeError(`${fn}: expected a tensor of shape [..., ${tail.join(', ')}], got ${formatShape(t.shape)}`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new TypeError(`${fn}: expected a float tensor, got ${t.dtype}`);
}

/** Component `i` of the last axis, keeping it as size 1. */
const at = (t: Tensor, i: number): Tensor => t.narrow(-1, i, 1);

// --- axis-angle → quaternion -------------------------------------------------------------------------------

/** The unit quaternion of the rotation `v = θ·n`: `[cos(θ/2), sin(θ/2)·n]`, made canonical (w ≥ 0). */
export function axisAngleToQuat(v: Tensor): Tensor;
/** The unit quaternion of the rotation `v = θ·n`: `[cos(θ/2), sin(θ/2)·n]`, made canonical (w ≥ 0). */
export function axisAngleToQuat(v: ArrayLike<number>): Quat;
export function axisAngleToQuat(v: Tensor | ArrayLike<number>): Tensor | Quat {
  if (v instanceof Tensor) return axisAngleToQuatT(v);
  checkPlain('axisAngleToQuat', v, 3);
  const t2 = v[0]! * v[0]! + v[1]! * v[1]! + v[2]! * v[2]!;
  const t = Math.sqrt(t2);
  // k = sin(θ/2)/θ; w = cos(θ/2); series to θ⁴ are exact in double below 1e-4.
  const small = t < SMALL_ANGLE;
  const k = small ? 0.5 - t2 / 48 + (t2 * t2) / 3840 : Math.sin(t / 2) / t;
  const w = small ? 1 - t2 / 8 + (t2 * t2) / 384 : Math.cos(t / 2);
  const s = w < 0 ? -1 : 1;
  return [s * w, s * k * v[0]!, s * k * v[1]!, s * k * v[2]!];
}

function axisAngleToQuatT(v: Tensor): Tensor {
  checkTensor('axisAngleToQuat', v, [3]);
  const t2 = v.mul(v).sum(-1, true);
  const small = t2.lt(SMALL_ANGLE * SMALL_ANGLE);
  // Both branches are evaluated: keep the unused one finite (θ = 1 where small) so no NaN reaches the
  // gradient through `where`.
  const t = where(small, 1, t2).sqrt();
  const t4 = t2.mul(t2);
  const k = where(small, t2.div(-48).add(0.5).add(t4.div(3840)), t.div(2).sin().div(t));
  const w = where(small, t2.div(-8).add(1).add(t4.div(384)), t.div(2).cos());
  return canonicalT(concat([w, v.mul(k)], -1));
}

// --- quaternion → axis-angle -------------------------------------------------------------------------------

/**
 * The axis-angle `θ·n` of a quaternion (normalised first), with θ = 2·atan2(|xyz|, |w|) ∈ [0, π]. At θ = π
 * both `±π·n` name the rotation; the sign follows the quaternion's vector part.
 */
export function quatToAxisAngle(q: Tensor): Tensor;
/**
 * The axis-angle `θ·n` of a quaternion (normalised first), with θ = 2·atan2(|xyz|, |w|) ∈ [0, π]. At θ = π
 * both `±π·n` name the rotation; the sign follows the quaternion's vector part.
 */
export function quatToAxisAngle(q: ArrayLike<number>): Vec3;
export function quatToAxisAngle(q: Tensor | ArrayLike<number>): Tensor | Vec3 {
  if (q instanceof Tensor) return quatToAxisAngleT(q);
  const [w, x, y, z] = normalizePlain('quatToAxisAngle', q);
  const s = Math.hypot(x, y, z);
  // θ/s = 2·atan2(s, w)/s → (2/w)(1 − s²/3w²) as s → 0 (w → 1 there).
  const f = s < 1e-6 ? (2 / w) * (1 - (s * s) / (3 * w * w)) : (2 * Math.atan2(s, w)) / s;
  return [f * x, f * y, f * z];
}

/**
 * atan(t)/t as a function of u = t² for t ∈ [0, 1], from ops every backend has: three half-angle steps
 * atan(t) = 2·atan(t / (1 + √(1 + t²))) bring t below tan(π/32) ≈ 0.098, where nine terms of
 * Σ (−u)ⁿ/(2n + 1) are exact to double precision. Smooth at u = 0 (no square root of u is taken).
 */
function atancOfSquare(u: Tensor): Tensor {
  let scale: Tensor | null = null;
  let uk = u;
  for (let step = 0; step < 3; step++) {
    const r = uk.add(1).sqrt().add(1);
    uk = uk.div(r.mul(r));
    const s = div(2, r);
    scale = scale === null ? s : scale.mul(s);
  }
  let series = uk.mul(-1 / 17).add(1 / 15);
  for (let n = 6; n >= 0; n--) series = series.mul(uk).neg().add(1 / (2 * n + 1));
  return series.mul(scale!);
}

function quatToAxisAngleT(q: Tensor): Tensor {
  checkTensor('quatToAxisAngle', q, [4]);
  const unit = canonicalT(q.div(q.mul(q).sum(-1, true).sqrt()));
  const w = at(unit, 0);
  const xyz = unit.narrow(-1, 1, 3);
  // θ = 4·atan(t) with t = |xyz| / (1 + w) = tan(θ/4) ∈ [0, 1] for w ≥ 0, so θ·n = xyz·4·atanc(t)/(1 + w).
  const onePlusW = w.add(1);
  const u = xyz.mul(xyz).sum(-1, true).div(onePlusW.mul(onePlusW));
  return xyz.mul(atancOfSquare(u).mul(4).div(onePlusW));
}

// --- quaternion ↔ matrix -------------------------------------------------------------------------------------

/** The rotation matrix of a quaternion; any non-zero `q` works (it is normalised by `2/|q|²`). */
export function quatToMatrix(q: Tensor): Tensor;
/** The rotation matrix of a quaternion; any non-zero `q` works (it is normalised by `2/|q|²`). */
export function quatToMatrix(q: ArrayLike<number>): Mat3;
export function quatToMatrix(q: Tensor | ArrayLike<number>): Tensor | Mat3 {
  if (q instanceof Tensor) return quatToMatrixT(q);
  const [w, x, y, z] = normalizePlain('quatToMatrix', q);
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

function quatToMatrixT(q: Tensor): Tensor {
  checkTensor('quatToMatrix', q, [4]);
  const s = div(2, q.mul(q).sum(-1, true));
  const [w, x, y, z] = [0, 1, 2, 3].map((i) => at(q, i));
  const p = (a: Tensor, b: Tensor): Tensor => a.mul(b).mul(s);
  const rows = [
    [p(y, y).add(p(z, z)).neg().add(1), p(x, y).sub(p(w, z)), p(x, z).add(p(w, y))],
    [p(x, y).add(p(w, z)), p(x, x).add(p(z, z)).neg().add(1), p(y, z).sub(p(w, x))],
    [p(x, z).sub(p(w, y)), p(y, z).add(p(w, x)), p(x, x).add(p(y, y)).neg().add(1)],
  ];
  return stack(rows.map((r) => concat(r, -1)), -2);
}

/**
 * The canonical unit quaternion (w ≥ 0) of a rotation matrix, by Shepperd's method: the component with
 * the largest square is taken from a square root and the others from sums and differences of opposite
 * off-diagonal entries, so no division by a small number happens, near θ = π included. A matrix that is
 * not quite orthonormal gets the normalised quaternion of its nearby rotation.
 */
export function matrixToQuat(m: Tensor): Tensor;
/**
 * The canonical unit quaternion (w ≥ 0) of a rotation matrix, by Shepperd's method: the component with
 * the largest square is taken from a square root and the others from sums and differences of opposite
 * off-diagonal entries, so no division by a small number happens, near θ = π included. A matrix that is
 * not quite orthonormal gets the normalised quaternion of its nearby rotation.
 */
export function matrixToQuat(m: ArrayLike<number>): Quat;
export function matrixToQuat(m: Tensor | ArrayLike<number>): Tensor | Quat {
  if (m instanceof Tensor) return matrixToQuatT(m);
  checkPlain('matrixToQuat', m, 9);
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = Array.from(m);
  // 4w² = 1 + tr, 4x² = 1 + m00 − m11 − m22, 4y² = 1 − m00 + m11 − m22, 4z² = 1 − m00 − m11 + m22.
  const c = [1 + m00! + m11! + m22!, 1 + m00! - m11! - m22!, 1 - m00! + m11! - m22!, 1 - m00! - m11! + m22!];
  const k = c.indexOf(Math.max(...c));
  const r = Math.sqrt(c[k]!);
  const f = 0.5 / r;
  const [a, b, d] = [(m21! - m12!) * f, (m02! - m20!) * f, (m10! - m01!) * f];
  const [e, g, h] = [(m01! + m10!) * f, (m02! + m20!) * f, (m12! + m21!) * f];
  const q: Quat = k === 0 ? [r / 2, a, b, d] : k === 1 ? [a, r / 2, e, g] : k === 2 ? [b, e, r / 2, h] : [d, g, h, r / 2];
  return normalizePlain('matrixToQuat', q);
}

function matrixToQuatT(m: Tensor): Tensor {
  checkTensor('matrixToQuat', m, [3, 3]);
  const flat = m.reshape([...m.shape.slice(0, -2), 9]);
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = Array.from({ length: 9 }, (_, i) => at(flat, i));
  const c = [
    m00!.add(m11!).add(m22!).add(1),
    m00!.sub(m11!).sub(m22!).add(1),
    m11!.sub(m00!).sub(m22!).add(1),
    m22!.sub(m00!).sub(m11!).add(1),
  ];
  const best = concat(c, -1).argmax(-1, true);
  const [a, b, d] = [m21!.sub(m12!), m02!.sub(m20!), m10!.sub(m01!)];
  const [e, g, h] = [m01!.add(m10!), m02!.add(m20!), m12!.add(m21!)];
  const candidates = c.map((ck, k) => {
    // Each candidate is computed everywhere; keep unused ones finite so no NaN enters the gradient.
    const r = where(ck.gt(1e-12), ck, 1).sqrt();
    const f = div(0.5, r);
    const half = r.div(2);
    const parts = [
      [half, a.mul(f), b.mul(f), d.mul(f)],
      [a.mul(f), half, e.mul(f), g.mul(f)],
      [b.mul(f), e.mul(f), half, h.mul(f)],
      [d.mul(f), g.mul(f), h.mul(f), half],
    ][k]!;
    return concat(parts, -1);
  });
  let q = candidates[3]!;
  for (let k = 2; k >= 0; k--) q = where(best.eq(k), candidates[k]!, q);
  return canonicalT(q.div(q.mul(q).sum(-1, true).sqrt()));
}

// --- axis-angle ↔ matrix -------------------------------------------------------------------------------------

/** The rotation matrix `exp([v]×)` of an axis-angle (Rodrigues), through the quaternion. */
export function axisAngleToMatrix(v: Tensor): Tensor;
/** The rotation matrix `exp([v]×)` of an axis-angle (Rodrigues), through the quaternion. */
export function axisAngleToMatrix(v: ArrayLike<number>): Mat3;
export function axisAngleToMatrix(v: Tensor | ArrayLike<number>): Tensor | Mat3 {
  return v instanceof Tensor ? quatToMatrixT(axisAngleToQuatT(v)) : quatToMatrix(axisAngleToQuat(v));
}

/** The axis-angle (θ ∈ [0, π]) of a rotation matrix, through Shepperd's quaternion. */
export function matrixToAxisAngle(m: Tensor): Tensor;
/** The axis-angle (θ ∈ [0, π]) of a rotation matrix, through Shepperd's quaternion. */
export function matrixToAxisAngle(m: ArrayLike<number>): Vec3;
export function matrixToAxisAngle(m: Tensor | ArrayLike<number>): Tensor | Vec3 {
  return m instanceof Tensor ? quatToAxisAngleT(matrixToQuatT(m)) : quatToAxisAngle(matrixToQuat(m));
}

// --- products and composition ------------------------------------------------------------------------------

/** The Hamilton product `a ⊗ b` (not normalised or made canonical), so that `R(a ⊗ b) = R(a)·R(b)`. */
export function quatMultiply(a: Tensor, b: Tensor): Tensor;
/** The Hamilton product `a ⊗ b` (not normalised or made canonical), so that `R(a ⊗ b) = R(a)·R(b)`. */
export function quatMultiply(a: ArrayLike<number>, b: ArrayLike<number>): Quat;
export function quatMultiply(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): Tensor | Quat {
  if (a instanceof Tensor && b instanceof Tensor) {
    checkTensor('quatMultiply', a, [4]);
    checkTensor('quatMultiply', b, [4]);
    const [aw, ax, ay, az] = [0, 1, 2, 3].map((i) => at(a, i));
    const [bw, bx, by, bz] = [0, 1, 2, 3].map((i) => at(b, i));
    return concat(
      [
        aw!.mul(bw!).sub(ax!.mul(bx!)).sub(ay!.mul(by!)).sub(az!.mul(bz!)),
        aw!.mul(bx!).add(ax!.mul(bw!)).add(ay!.mul(bz!)).sub(az!.mul(by!)),
        aw!.mul(by!).sub(ax!.mul(bz!)).add(ay!.mul(bw!)).add(az!.mul(bx!)),
        aw!.mul(bz!).add(ax!.mul(by!)).sub(ay!.mul(bx!)).add(az!.mul(bw!)),
      ],
      -1,
    );
  }
  if (a instanceof Tensor || b instanceof Tensor) throw new TypeError('quatMultiply: pass two tensors or two plain quaternions');
  checkPlain('quatMultiply', a, 4);
  checkPlain('quatMultiply', b, 4);
  const [aw, ax, ay, az] = [a[0]!, a[1]!, a[2]!, a[3]!];
  const [bw, bx, by, bz] = [b[0]!, b[1]!, b[2]!, b[3]!];
  return [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
}

/** The conjugate `[w, −x, −y, −z]`: the inverse rotation of a unit quaternion. */
export function quatConjugate(q: Tensor): Tensor;
/** The conjugate `[w, −x, −y, −z]`: the inverse rotation of a unit quaternion. */
export function quatConjugate(q: ArrayLike<number>): Quat;
export function quatConjugate(q: Tensor | ArrayLike<number>): Tensor | Quat {
  if (q instanceof Tensor) {
    checkTensor('quatConjugate', q, [4]);
    return concat([at(q, 0), q.narrow(-1, 1, 3).neg()], -1);
  }
  checkPlain('quatConjugate', q, 4);
  return [q[0]!, -q[1]!, -q[2]!, -q[3]!];
}

/** The axis-angle of `R(a)·R(b)`: rotate by `b`, then by `a` (both in the world frame). */
export function composeAxisAngle(a: Tensor, b: Tensor): Tensor;
/** The axis-angle of `R(a)·R(b)`: rotate by `b`, then by `a` (both in the world frame). */
export function composeAxisAngle(a: ArrayLike<number>, b: ArrayLike<number>): Vec3;
export function composeAxisAngle(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): Tensor | Vec3 {
  if (a instanceof Tensor && b instanceof Tensor) return quatToAxisAngleT(quatMultiply(axisAngleToQuatT(a), axisAngleToQuatT(b)));
  if (a instanceof Tensor || b instanceof Tensor) throw new TypeError('composeAxisAngle: pass two tensors or two plain vectors');
  return quatToAxisAngle(quatMultiply(axisAngleToQuat(a), axisAngleToQuat(b)));
}

/**
 * The world-frame rotation delta from orientation `from` to orientation `to` (both axis-angles): the `d`
 * with `R(d)·R(from) = R(to)`, i.e. `R(to)·R(from)ᵀ` — the form of the end-effector rotation actions of
 * §5.1.1 ("relative delta displacements in a unified world coordinate frame").
 */
export function axisAngleDelta(from: Tensor, to: Tensor): Tensor;
/**
 * The world-frame rotation delta from orientation `from` to orientation `to` (both axis-angles): the `d`
 * with `R(d)·R(from) = R(to)`, i.e. `R(to)·R(from)ᵀ` — the form of the end-effector rotation actions of
 * §5.1.1 ("relative delta displacements in a unified world coordinate frame").
 */
export function axisAngleDelta(from: ArrayLike<number>, to: ArrayLike<number>): Vec3;
export function axisAngleDelta(from: Tensor | ArrayLike<number>, to: Tensor | ArrayLike<number>): Tensor | Vec3 {
  if (from instanceof Tensor && to instanceof Tensor) {
    return quatToAxisAngleT(quatMultiply(axisAngleToQuatT(to), quatConjugate(axisAngleToQuatT(from))));
  }
  if (from instanceof Tensor || to instanceof Tensor) throw new TypeError('axisAngleDelta: pass two tensors or two plain vectors');
  return quatToAxisAngle(quatMultiply(axisAngleToQuat(to), quatConjugate(axisAngleToQuat(from))));
}

// --- helpers -----------------------------------------------------------------------------------------------

function normalizePlain(fn: string, q: ArrayLike<number>): Quat {
  checkPlain(fn, q, 4);
  const n = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!);
  if (!(n > 0)) throw new RangeError(`${fn}: the quaternion [${Array.from(q).join(', ')}] has norm 0`);
  const s = q[0]! < 0 ? -1 / n : 1 / n;
  return [s * q[0]!, s * q[1]!, s * q[2]!, s * q[3]!];
}

/** `q` or `−q`, whichever has w ≥ 0 (the same rotation). */
function canonicalT(q: Tensor): Tensor {
  return q.mul(where(at(q, 0).lt(0), -1, 1));
}
