// Delta end-effector actions (§5.1.1, Eq. 1): positions a − s, rotations R(a)·R(s)ᵀ as axis-angle,
// every other slot absolute; from(to(a)) = a and to(from(Δ)) = Δ (the same rotation at θ = π); yaw-only
// rotations give the wrapped yaw difference; tensors ([T, D] with [D], [B, T, D] with [B, D]) equal the
// plain rows and have correct float64 gradients.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, tensor, type Tensor } from '../../src/tensor/index.js';
import { SlotLayout, UNIFIED_LAYOUT, deltaActionSlots, fromDeltaActions, toDeltaActions } from '../../src/model/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const PI = Math.PI;
const D = UNIFIED_LAYOUT.dim;
const POS = ['right_eef_pos', 'left_eef_pos'].map((n) => UNIFIED_LAYOUT.slot(n));
const ROT = ['right_eef_rot', 'left_eef_rot'].map((n) => UNIFIED_LAYOUT.slot(n));

// --- an independent Rodrigues matrix and helpers ---------------------------------------------------------

type M3 = number[];
function mul3(a: M3, b: M3): M3 {
  const c = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) c[3 * i + j] += a[3 * i + k]! * b[3 * k + j]!;
  return c;
}
/** R = I + sin θ·K + (1 − cos θ)·K² for v = θ·n. */
function rodrigues(v: ArrayLike<number>): M3 {
  const t = Math.hypot(v[0]!, v[1]!, v[2]!);
  if (t === 0) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const [x, y, z] = [v[0]! / t, v[1]! / t, v[2]! / t];
  const K = [0, -z, y, z, 0, -x, -y, x, 0];
  const K2 = mul3(K, K);
  return [1, 0, 0, 0, 1, 0, 0, 0, 1].map((e, i) => e + Math.sin(t) * K[i]! + (1 - Math.cos(t)) * K2[i]!);
}
const transpose3 = (a: M3): M3 => [a[0]!, a[3]!, a[6]!, a[1]!, a[4]!, a[7]!, a[2]!, a[5]!, a[8]!];
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
const triple = (v: ArrayLike<number>, k: number): number[] => [v[k]!, v[k + 1]!, v[k + 2]!];

// --- arbitraries -----------------------------------------------------------------------------------------

const uniform = (min: number, max: number): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true });
const axisArb = fc
  .tuple(uniform(-1, 1), uniform(-1, 1), uniform(-1, 1))
  .filter(([x, y, z]) => Math.hypot(x, y, z) > 0.1)
  .map(([x, y, z]) => [x, y, z].map((c) => c / Math.hypot(x, y, z)));
/** Angles in [0, π], weighted towards 0 and π. */
const angleArb = fc.oneof(uniform(0, PI), fc.constantFrom(0, 1e-9, 1e-5, PI - 1e-5, PI - 1e-9, PI), uniform(PI - 1e-6, PI));
const rotationArb = fc.tuple(axisArb, angleArb).map(([n, t]) => n.map((c) => c * t));

/** A unified vector: every dim random (seeded), the end-effector rotations given. */
function unified(seed: number, rotations: readonly number[][]): Float64Array {
  const g = new Generator(seed);
  const v = Float64Array.from({ length: D }, () => 2 * g.normal());
  ROT.forEach((slot, k) => v.set(rotations[k]!, slot.offset));
  return v;
}
const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 1e9 }),
  rows: fc.array(fc.tuple(rotationArb, rotationArb), { minLength: 1, maxLength: 4 }),
  state: fc.tuple(rotationArb, rotationArb),
});

describe('delta actions (plain rows)', () => {
  test('§5.1.1: the delta slots of the unified layout are the end-effector positions and rotations, not the MANO fingers', () => {
    const { positions, rotations } = deltaActionSlots();
    assert.deepEqual(positions.map((s) => s.name), ['right_eef_pos', 'left_eef_pos']);
    assert.deepEqual(rotations.map((s) => s.name), ['right_eef_rot', 'left_eef_rot']);
    assert.equal(UNIFIED_LAYOUT.slot('right_fingers').quantity, 'axis-angle', 'the fingers are axis-angle too, yet stay absolute');
  });

  test('§5.1.1: positions become a − s, rotations the world-frame R(a)·R(s)ᵀ, every other slot is unchanged', () => {
    fc.assert(
      fc.property(caseArb, ({ seed, rows, state }) => {
        const s = unified(seed + 1, state);
        const chunk = rows.map((r, t) => unified(seed + 2 + t, r));
        const out = toDeltaActions(chunk, s);
        const touched = new Set([...POS, ...ROT].flatMap((sl) => Array.from({ length: sl.size }, (_, i) => sl.offset + i)));
        out.forEach((row, t) => {
          for (let i = 0; i < D; i++) if (!touched.has(i)) assert.ok(Object.is(row[i], chunk[t]![i]), `row ${t}, unified ${i} changed`);
          for (const sl of POS) for (let i = sl.offset; i < sl.offset + sl.size; i++) assert.equal(row[i], chunk[t]![i]! - s[i]!);
          for (const sl of ROT) {
            const d = triple(row, sl.offset);
            assert.ok(Math.hypot(...d) <= PI + 1e-12, 'delta angle in [0, π]');
            close(`${sl.name}: R(Δ)·R(s) = R(a)`, mul3(rodrigues(d), rodrigues(triple(s, sl.offset))), rodrigues(triple(chunk[t]!, sl.offset)), 1e-12);
            close(`${sl.name}: R(Δ) = R(a)·R(s)ᵀ`, rodrigues(d), mul3(rodrigues(triple(chunk[t]!, sl.offset)), transpose3(rodrigues(triple(s, sl.offset)))), 1e-12);
          }
        });
      }),
      { numRuns: 100 },
    );
  });

  test('Eq. 1 / §5.1.1: fromDeltaActions(toDeltaActions(a, s), s) = a and back (the same rotation when θ is within 1e-6 of π)', () => {
    fc.assert(
      fc.property(caseArb, ({ seed, rows, state }) => {
        const s = unified(seed + 1, state);
        const chunk = rows.map((r, t) => unified(seed + 2 + t, r));
        for (const [first, second] of [[toDeltaActions, fromDeltaActions], [fromDeltaActions, toDeltaActions]] as const) {
          const back = second(first(chunk, s), s);
          back.forEach((row, t) => {
            const a = chunk[t]!;
            for (const sl of POS) close(`${sl.name} row ${t}`, row.subarray(sl.offset, sl.offset + 3), a.subarray(sl.offset, sl.offset + 3), 1e-14);
            for (const sl of ROT) {
              const w = triple(row, sl.offset);
              const v = triple(a, sl.offset);
              if (PI - Math.hypot(...v) > 1e-6) close(`${sl.name} row ${t} (vector)`, w, v, 1e-9);
              else close(`${sl.name} row ${t} (rotation, θ ≈ π)`, rodrigues(w), rodrigues(v), 1e-9);
            }
            for (let i = 0; i < D; i++) if (!POS.concat(ROT).some((sl) => i >= sl.offset && i < sl.offset + sl.size)) assert.ok(Object.is(row[i], a[i]));
          });
        }
      }),
      { numRuns: 150 },
    );
  });

  test('§5.1.1 planar case: yaw-only rotations give a yaw-only delta, the difference wrapped into [−π, π]; zeros stay 0, never −0', () => {
    fc.assert(
      fc.property(uniform(-PI, PI), uniform(-PI, PI), (alpha, beta) => {
        const k = ROT[0]!.offset;
        const a = new Float64Array(D);
        const s = new Float64Array(D);
        a[k + 2] = alpha;
        s[k + 2] = beta;
        const [d] = toDeltaActions([a], s);
        let wrapped = alpha - beta;
        if (wrapped > PI) wrapped -= 2 * PI;
        if (wrapped < -PI) wrapped += 2 * PI;
        if (PI - Math.abs(wrapped) > 1e-9) close('delta yaw', [d![k + 2]!], [wrapped], 1e-12);
        else close('delta yaw at ±π', [Math.abs(d![k + 2]!)], [PI], 1e-9);
        for (let i = 0; i < D; i++) if (i !== k + 2) assert.ok(Object.is(d![i], 0), `unified ${i} is ${d![i]}`);
        const [back] = fromDeltaActions([d!], s);
        for (let i = 0; i < D; i++) if (i !== k + 2) assert.ok(Object.is(back![i], 0), `unified ${i} is ${back![i]} after the round trip`);
        if (PI - Math.abs(alpha) > 1e-9) close('yaw back', [back![k + 2]!], [alpha], 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  test('bad inputs throw naming the function and the sizes', () => {
    const s = new Float64Array(D);
    assert.throws(() => toDeltaActions([new Float64Array(3)], s), /toDeltaActions: row 0 must hold 200 unified values, got 3/);
    assert.throws(() => fromDeltaActions([s], [1, 2]), /fromDeltaActions: state must hold 200 unified values, got 2/);
    const nan = new Float64Array(D);
    nan[0] = Number.NaN;
    assert.throws(() => toDeltaActions([s], nan), /toDeltaActions: state\[0\] is NaN/);
    assert.throws(() => toDeltaActions(tensor(new Float64Array(D), { shape: [1, D], dtype: 'float64' }) as never, s), /toDeltaActions: pass a tensor chunk with a tensor state, or plain rows with a plain state/);
    const badRot = new SlotLayout([{ name: 'right_eef_rot', size: 4, quantity: 'axis-angle', unit: 'rad', description: 'not whole 3-vectors' }]);
    assert.throws(() => deltaActionSlots(badRot), /deltaActionSlots: rotation slot "right_eef_rot" has size 4/);
  });
});

describe('delta actions (tensors)', () => {
  const f64 = (v: ArrayLike<number>, shape: number[]): Tensor => tensor(Float64Array.from(v), { shape, dtype: 'float64' });

  test('tensors equal plain rows: [T, D] with [D], and [B, T, D] with [B, D] per batch element', () => {
    fc.assert(
      fc.property(fc.array(caseArb, { minLength: 1, maxLength: 3 }), (cases) => {
        const T = cases[0]!.rows.length;
        const states = cases.map((c) => unified(c.seed + 1, c.state));
        const chunks = cases.map((c) => Array.from({ length: T }, (_, t) => unified(c.seed + 2 + t, c.rows[Math.min(t, c.rows.length - 1)]!)));
        const batch = f64(chunks.flatMap((c) => c.flatMap((r) => Array.from(r))), [cases.length, T, D]);
        const sBatch = f64(states.flatMap((s) => Array.from(s)), [cases.length, D]);
        for (const [t, p] of [[toDeltaActions, toDeltaActions], [fromDeltaActions, fromDeltaActions]] as const) {
          const out = t(batch, sBatch);
          assert.deepEqual(out.shape, [cases.length, T, D]);
          const flat = out.dataSync();
          chunks.forEach((c, b) => {
            const want = p(c, states[b]!);
            const single = t(f64(c.flatMap((r) => Array.from(r)), [T, D]), f64(states[b]!, [D])).dataSync();
            want.forEach((row, i) => {
              close(`batch ${b} row ${i}`, flat.subarray((b * T + i) * D, (b * T + i + 1) * D), row, 1e-9);
              close(`[T, D] row ${i}`, single.subarray(i * D, (i + 1) * D), row, 1e-9);
            });
          });
        }
      }),
      { numRuns: 30 },
    );
  });

  test('float64 gradients of both directions match finite differences (positions, one- and two-vector rotation slots)', () => {
    const layout = new SlotLayout(
      [
        { name: 'right_eef_pos', size: 3, quantity: 'position', unit: 'm', description: 'position' },
        { name: 'right_gripper', size: 1, quantity: 'width', unit: 'm', description: 'absolute' },
        { name: 'right_eef_rot', size: 3, quantity: 'axis-angle', unit: 'rad', description: 'rotation' },
        { name: 'right_fingers', size: 3, quantity: 'axis-angle', unit: 'rad', description: 'absolute axis-angle' },
        { name: 'left_eef_rot', size: 6, quantity: 'axis-angle', unit: 'rad', description: 'two rotations' },
      ],
      { dim: 17 },
    );
    const g = new Generator(5);
    // Components within ±0.8: every angle, and every delta's angle, stays below π (where the canonical
    // sign flips), and one rotation is exactly the identity (the small-angle series).
    const draw = (n: number) => Float64Array.from({ length: n }, () => 1.6 * g.uniform() - 0.8);
    const chunk = draw(2 * 2 * 17);
    chunk.fill(0, 4, 7);
    const state = draw(2 * 17);
    for (const f of [toDeltaActions, fromDeltaActions]) {
      gradcheck((a, s) => f(a, s, layout), [f64(chunk, [2, 2, 17]), f64(state, [2, 17])]);
      gradcheck((a, s) => f(a, s, layout), [f64(chunk.subarray(0, 34), [2, 17]), f64(state.subarray(0, 17), [17])]);
    }
  });

  test('bad tensors throw naming the function and the shapes', () => {
    const a = f64(new Float64Array(2 * D), [2, D]);
    assert.throws(() => toDeltaActions(a, f64(new Float64Array(D), [1, D])), /toDeltaActions: expected chunk \[\.\.\., T, 200\] with state \[\.\.\., 200\] \(same leading dims\), got \[2,200\] and \[1,200\]/);
    assert.throws(() => fromDeltaActions(f64(new Float64Array(D), [D]), f64(new Float64Array(D), [D])), /fromDeltaActions: expected chunk/);
    assert.throws(() => toDeltaActions(a, tensor(new Float32Array(D), { shape: [D] })), /toDeltaActions: chunk and state must be float32 or float64 of one dtype, got float64 and float32/);
  });
});
