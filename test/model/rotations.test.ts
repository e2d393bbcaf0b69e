// Properties of the rotation conversions behind the axis-angle slots of the unified space (§5.1.1,
// Eq. 1): round trips axis-angle → quaternion → matrix → axis-angle (up to ±π·n at θ = π), composition
// = matrix product = quaternion product, orthonormal matrices with det 1, first-order accuracy very near
// θ = 0 and axis recovery very near θ = π; the tensor versions equal the plain ones and have correct,
// finite gradients (also at the identity).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, vjp, type Tensor } from '../../src/tensor/index.js';
import {
  axisAngleDelta,
  axisAngleToMatrix,
  axisAngleToQuat,
  composeAxisAngle,
  matrixToAxisAngle,
  matrixToQuat,
  quatConjugate,
  quatMultiply,
  quatToAxisAngle,
  quatToMatrix,
  type Mat3,
} from '../../src/model/rotations.js';
import { gradcheck } from '../helpers/gradcheck.js';

const RUNS = { numRuns: 200 };
const PI = Math.PI;

/** Doubles in [min, max], with no subnormals (they have too few digits for the relative checks). */
const uniform = (min: number, max: number): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true }).filter((x) => x === 0 || Math.abs(x) >= 1e-300);

/** A unit axis. */
const axisArb = fc
  .tuple(uniform(-1, 1), uniform(-1, 1), uniform(-1, 1))
  .filter(([x, y, z]) => Math.hypot(x, y, z) > 0.1)
  .map(([x, y, z]) => {
    const n = Math.hypot(x, y, z);
    return [x / n, y / n, z / n];
  });

/** Angles in [0, π], with extra weight very near 0 and very near π. */
const angleArb = fc.oneof(
  uniform(0, PI),
  fc.constantFrom(0, 1e-12, 1e-9, 1e-7, 1e-5, 1e-4, PI - 1e-9, PI - 1e-7, PI - 1e-5, PI),
  uniform(0, 1e-6),
  uniform(PI - 1e-6, PI),
);

const axisAngleArb = fc.tuple(axisArb, angleArb).map(([n, t]) => ({ n, t, v: n.map((c) => c * t) }));

/** A random non-zero quaternion, not normalised. */
const quatArb = fc.tuple(uniform(-2, 2), uniform(-2, 2), uniform(-2, 2), uniform(-2, 2)).filter((q) => Math.hypot(...q) > 0.1);

// --- plain 3×3 helpers, independent of the code under test ---------------------------------------------

function mul3(a: Mat3, b: Mat3): Mat3 {
  const c = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) c[3 * i + j] += a[3 * i + k]! * b[3 * k + j]!;
  return c;
}
const transpose3 = (a: Mat3): Mat3 => [a[0]!, a[3]!, a[6]!, a[1]!, a[4]!, a[7]!, a[2]!, a[5]!, a[8]!];
const det3 = (a: Mat3): number =>
  a[0]! * (a[4]! * a[8]! - a[5]! * a[7]!) - a[1]! * (a[3]! * a[8]! - a[5]! * a[6]!) + a[2]! * (a[3]! * a[7]! - a[4]! * a[6]!);
const I3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** Rodrigues from sin and cos directly (accurate away from θ = 0, which is where it is used). */
function rodrigues(n: number[], t: number): Mat3 {
  const [x, y, z] = n as [number, number, number];
  const K = [0, -z, y, z, 0, -x, -y, x, 0];
  const K2 = mul3(K, K);
  return I3.map((e, i) => e + Math.sin(t) * K[i]! + (1 - Math.cos(t)) * K2[i]!);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function close(what: string, a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  const d = maxDiff(a, b);
  if (!(d <= tol)) assert.fail(`${what}: max |diff| ${d} > ${tol}\n  got    [${Array.from(a).join(', ')}]\n  wanted [${Array.from(b).join(', ')}]`);
}

describe('rotations (plain numbers)', () => {
  test('§5.1.1 axis-angle: v → quaternion → matrix → axis-angle returns v (±π·n at θ = π), also within 1e-9 of 0 and of π', () => {
    fc.assert(
      fc.property(axisAngleArb, ({ v, t }) => {
        const q = axisAngleToQuat(v);
        assert.ok(q[0] >= 0, 'quaternion is not canonical');
        close('|q| = 1', [Math.hypot(...q)], [1], 1e-15);
        const back = matrixToAxisAngle(quatToMatrix(q));
        const direct = quatToAxisAngle(q);
        for (const w of [back, direct]) {
          // |v| may round to just above π, where −v is the canonical name of the rotation.
          if (PI - Math.hypot(...v) > 1e-12) close('round trip', w, v, 1e-12);
          else assert.ok(maxDiff(w, v) <= 1e-12 || maxDiff(w, v.map((c) => -c)) <= 1e-12, `round trip at π: ${w} vs ±${v}`);
        }
        // Relative accuracy, which matters only near 0: the angle keeps its digits. (At π, ±v name one
        // rotation, as the check above allows.)
        if (t > 0 && PI - Math.hypot(...v) > 1e-12) close('relative round trip', direct.map((c) => c / t), v.map((c) => c / t), 1e-12);
      }),
      RUNS,
    );
  });

  test('§5.1.1 axis-angle: vectors beyond π come back as the same rotation with θ ≤ π', () => {
    fc.assert(
      fc.property(axisArb, uniform(PI, 4 * PI), (n, t) => {
        const v = n.map((c) => c * t);
        const w = matrixToAxisAngle(axisAngleToMatrix(v));
        assert.ok(Math.hypot(...w) <= PI + 1e-12);
        close('same rotation', axisAngleToMatrix(w), axisAngleToMatrix(v), 1e-12);
      }),
      RUNS,
    );
  });

  test('rotation matrices are orthonormal with det 1 (axis-angles near 0 and π, and unnormalised quaternions)', () => {
    fc.assert(
      fc.property(axisAngleArb, quatArb, ({ v }, q) => {
        for (const R of [axisAngleToMatrix(v), quatToMatrix(q)]) {
          close('RᵀR = I', mul3(transpose3(R), R), I3, 1e-14);
          close('det R = 1', [det3(R)], [1], 1e-14);
        }
      }),
      RUNS,
    );
  });

  test('composition of rotations = product of matrices = quaternion product', () => {
    fc.assert(
      fc.property(axisAngleArb, axisAngleArb, ({ v: a }, { v: b }) => {
        const RaRb = mul3(axisAngleToMatrix(a), axisAngleToMatrix(b));
        close('R(compose(a, b)) = R(a)R(b)', axisAngleToMatrix(composeAxisAngle(a, b)), RaRb, 1e-13);
        close('R(qa ⊗ qb) = R(a)R(b)', quatToMatrix(quatMultiply(axisAngleToQuat(a), axisAngleToQuat(b))), RaRb, 1e-13);
        // The world-frame delta from b to a: R(d)·R(b) = R(a).
        close('R(delta(b, a))·R(b) = R(a)', mul3(axisAngleToMatrix(axisAngleDelta(b, a)), axisAngleToMatrix(b)), axisAngleToMatrix(a), 1e-13);
      }),
      RUNS,
    );
  });

  test('matrix → quaternion recovers ±q, canonical (w ≥ 0), for any quaternion', () => {
    fc.assert(
      fc.property(quatArb, (q) => {
        const n = Math.hypot(...q);
        const unit = q.map((c) => c / n);
        const r = matrixToQuat(quatToMatrix(q));
        assert.ok(r[0] >= 0);
        assert.ok(maxDiff(r, unit) <= 1e-14 || maxDiff(r, unit.map((c) => -c)) <= 1e-14, `${r} vs ±${unit}`);
        close('conjugate inverts', quatToMatrix(quatMultiply(q, quatConjugate(q))), I3, 1e-14);
      }),
      RUNS,
    );
  });

  test('small-angle series: for θ ≤ 1e-5, R − I = [v]× to first order and q = [1, v/2] with relative accuracy (no 0/0 at θ = 0)', () => {
    fc.assert(
      fc.property(axisArb, fc.oneof(uniform(0, 1e-5), fc.constantFrom(0, 1e-300, 1e-12, 1e-9)), (n, t) => {
        const v = n.map((c) => c * t) as [number, number, number];
        const R = axisAngleToMatrix(v);
        const skew = [0, -v[2], v[1], v[2], 0, -v[0], -v[1], v[0], 0];
        for (const i of [1, 2, 3, 5, 6, 7]) {
          const err = Math.abs(R[i]! - skew[i]!);
          assert.ok(err <= t * t + 1e-15 * t, `off-diagonal ${i}: error ${err} at θ = ${t}`);
        }
        const q = axisAngleToQuat(v);
        close('q vector part / θ', q.slice(1).map((c) => (t > 0 ? c / t : c)), t > 0 ? n.map((c) => c / 2) : [0, 0, 0], 1e-11);
        assert.ok(Math.abs(q[0] - 1) <= t * t);
      }),
      RUNS,
    );
  });

  test('near π: the axis comes from the symmetric part of R (R = 2nnᵀ − I at π, Rodrigues at π − δ)', () => {
    fc.assert(
      fc.property(axisArb, fc.constantFrom(0, 1e-12, 1e-9, 1e-6, 1e-3), (n, delta) => {
        const t = PI - delta;
        const R = delta === 0 ? I3.map((e, i) => 2 * n[Math.floor(i / 3)]! * n[i % 3]! - e) : rodrigues(n, t);
        const w = matrixToAxisAngle(R);
        const v = n.map((c) => c * t);
        if (delta === 0) assert.ok(maxDiff(w, v) <= 1e-12 || maxDiff(w, v.map((c) => -c)) <= 1e-12, `${w} vs ±${v}`);
        else close('θ·n near π', w, v, 1e-12);
      }),
      RUNS,
    );
  });

  test('bad input throws at once, naming the function', () => {
    assert.throws(() => axisAngleToQuat([1, 2]), /axisAngleToQuat: expected 3 numbers, got 2/);
    assert.throws(() => axisAngleToMatrix([0, NaN, 0]), /axisAngleToQuat: component 1 is NaN/);
    assert.throws(() => quatToMatrix([0, 0, 0, 0]), /quatToMatrix: the quaternion \[0, 0, 0, 0\] has norm 0/);
    assert.throws(() => matrixToQuat([1, 0, 0]), /matrixToQuat: expected 9 numbers, got 3/);
    const mixed = quatMultiply as (a: unknown, b: unknown) => unknown;
    assert.throws(() => mixed(tensor([1, 0, 0, 0]), [1, 0, 0, 0]), /quatMultiply: pass two tensors or two plain quaternions/);
    assert.throws(() => quatToAxisAngle(tensor([[1, 0, 0]])), /quatToAxisAngle: expected a tensor of shape \[\.\.\., 4\], got \[1,3\]/);
    assert.throws(() => matrixToQuat(tensor([1, 0, 0, 0, 1, 0, 0, 0, 1])), /matrixToQuat: expected a tensor of shape \[\.\.\., 3, 3\]/);
    assert.throws(() => axisAngleToQuat(tensor([1, 2, 3], { dtype: 'int32' })), /axisAngleToQuat: expected a float tensor, got int32/);
  });
});

describe('rotations (tensors)', () => {
  const f64 = (rows: number[][], shape: number[]): Tensor => tensor(Float64Array.from(rows.flat()), { shape, dtype: 'float64' });
  const rowsOf = (t: Tensor, width: number): number[][] => {
    const d = Array.from(t.dataSync());
    return Array.from({ length: d.length / width }, (_, i) => d.slice(i * width, (i + 1) * width));
  };

  test('the batched tensor conversions equal the plain ones row by row (leading axes, near 0 and π)', () => {
    fc.assert(
      fc.property(fc.array(axisAngleArb, { minLength: 6, maxLength: 6 }), fc.array(axisAngleArb, { minLength: 6, maxLength: 6 }), (as, bs) => {
        const va = as.map((a) => a.v);
        const vb = bs.map((b) => b.v);
        const A = f64(va, [2, 3, 3]);
        const B = f64(vb, [2, 3, 3]);
        const qa = axisAngleToQuat(A);
        assert.deepEqual(qa.shape, [2, 3, 4]);
        rowsOf(qa, 4).forEach((r, i) => close('axisAngleToQuat', r, axisAngleToQuat(va[i]!), 1e-14)); // a few ulps: the batched and plain paths round in different orders
        const m = axisAngleToMatrix(A);
        assert.deepEqual(m.shape, [2, 3, 3, 3]);
        rowsOf(m, 9).forEach((r, i) => close('axisAngleToMatrix', r, axisAngleToMatrix(va[i]!), 1e-14));
        rowsOf(matrixToQuat(m), 4).forEach((r, i) => close('matrixToQuat', r, matrixToQuat(axisAngleToMatrix(va[i]!)), 1e-14));
        rowsOf(matrixToAxisAngle(m), 3).forEach((r, i) => {
          const p = matrixToAxisAngle(axisAngleToMatrix(va[i]!));
          assert.ok(maxDiff(r, p) <= 1e-12 || (Math.hypot(...p) > PI - 1e-9 && maxDiff(r, p.map((c) => -c)) <= 1e-12), `matrixToAxisAngle ${r} vs ${p}`);
        });
        rowsOf(quatToAxisAngle(qa), 3).forEach((r, i) => close('quatToAxisAngle', r, quatToAxisAngle(axisAngleToQuat(va[i]!)), 1e-12));
        rowsOf(composeAxisAngle(A, B), 3).forEach((r, i) => {
          close('composeAxisAngle (as rotations)', axisAngleToMatrix(r), axisAngleToMatrix(composeAxisAngle(va[i]!, vb[i]!)), 1e-12);
        });
        rowsOf(axisAngleDelta(A, B), 3).forEach((r, i) => {
          close('axisAngleDelta (as rotations)', axisAngleToMatrix(r), axisAngleToMatrix(axisAngleDelta(va[i]!, vb[i]!)), 1e-12);
        });
      }),
      { numRuns: 40 },
    );
  });

  test('tensor quaternion product broadcasts and matches the plain product', () => {
    fc.assert(
      fc.property(fc.array(quatArb, { minLength: 3, maxLength: 3 }), quatArb, (qs, p) => {
        const out = quatMultiply(f64(qs, [3, 4]), f64([p], [1, 4]));
        assert.deepEqual(out.shape, [3, 4]);
        rowsOf(out, 4).forEach((r, i) => close('quatMultiply', r, quatMultiply(qs[i]!, p), 1e-14));
        rowsOf(quatConjugate(f64(qs, [3, 4])), 4).forEach((r, i) => close('quatConjugate', r, quatConjugate(qs[i]!), 0));
      }),
      { numRuns: 40 },
    );
  });

  test('float32 tensors convert in float32', () => {
    const v = tensor([[0.3, -0.2, 0.5]]);
    for (const out of [axisAngleToQuat(v), axisAngleToMatrix(v), matrixToAxisAngle(axisAngleToMatrix(v))]) assert.equal(out.dtype, 'float32');
    close('float32 round trip', matrixToAxisAngle(axisAngleToMatrix(v)).dataSync(), [0.3, -0.2, 0.5], 1e-6);
  });

  test('gradients match finite differences, including at θ = 0, θ ≈ 1e-9 (series branch) and near π', () => {
    const g = new Generator(7);
    const generic = randn([2, 3], { dtype: 'float64', generator: g });
    const tiny = generic.mul(1e-9);
    const zero = generic.mul(0);
    const nearPi = tensor([[PI - 1e-3, 0, 0], [0, 0.1, -(PI - 0.2)]], { dtype: 'float64' });
    for (const v of [generic, tiny, zero, nearPi]) {
      gradcheck((x) => axisAngleToQuat(x), [v]);
      gradcheck((x) => axisAngleToMatrix(x), [v]);
    }
    const q = randn([2, 4], { dtype: 'float64', generator: g });
    const identity = tensor([[1, 0, 0, 0], [1, 1e-9, -2e-9, 0]], { dtype: 'float64' });
    for (const x of [q, identity]) {
      gradcheck((t) => quatToAxisAngle(t), [x]);
      gradcheck((t) => quatToMatrix(t), [x]);
    }
    const R = axisAngleToMatrix(randn([3, 3], { dtype: 'float64', generator: g }));
    gradcheck((m) => matrixToQuat(m), [R]);
    gradcheck((m) => matrixToAxisAngle(m), [R]);
    gradcheck((a, b) => quatMultiply(a, b), [q, randn([2, 4], { dtype: 'float64', generator: g })]);
    gradcheck((a, b) => composeAxisAngle(a, b), [generic, randn([2, 3], { dtype: 'float64', generator: g })]);
  });

  test('no NaN reaches the gradient at the identity (the unused branch stays finite)', () => {
    const zero = tensor([[0, 0, 0]], { dtype: 'float64' });
    const [, back] = vjp((v: Tensor) => matrixToAxisAngle(axisAngleToMatrix(v)), zero);
    const grad = Array.from(back(tensor([[1, 2, 3]], { dtype: 'float64' }))[0]!.dataSync());
    // The round trip is the identity map, so its Jacobian is I.
    close('d(v ↦ log exp v)/dv at 0', grad, [1, 2, 3], 1e-12);
  });
});
