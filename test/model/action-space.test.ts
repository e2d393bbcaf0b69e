// Properties of the unified state-action space (Eq. 1, s = Φ_e(s⁽ᵉ⁾)): slot layouts are disjoint and
// validated; Φ_e puts each raw value at its slot and index and exact zeros elsewhere; the inverse recovers
// the raw vector; the active mask and I_e match the mapping; the tensor Φ_e equals the array Φ_e and
// sends gradients only through the active dimensions. Expected positions are computed from the generated
// description, not from the Embodiment's own tables.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, randn, tensor, vjp, type Tensor } from '../../src/tensor/index.js';
import { Embodiment, SlotLayout, UNIFIED_LAYOUT, type EmbodimentSpec, type RawComponent, type SlotSpec } from '../../src/model/action-space.js';
import { EXAMPLE_EMBODIMENTS, FR3_INSPIRE, MANO_HANDS, SO101_ARM, UPPER_BODY_HUMANOID } from '../../src/model/example-embodiments.js';
import { gradcheck } from '../helpers/gradcheck.js';

const RUNS = { numRuns: 60 };

const slot = (name: string, size: number, offset?: number): SlotSpec => ({ name, size, offset, quantity: 'joint', unit: 'rad', description: name });

/** A random layout: slots of sizes 1–6 placed with gaps 0–3, padded by 0–4 reserved dims. */
interface LayoutCase {
  specs: SlotSpec[];
  offsets: number[];
  dim: number;
}
const layoutArb: fc.Arbitrary<LayoutCase> = fc
  .record({
    parts: fc.array(fc.record({ size: fc.integer({ min: 1, max: 6 }), gap: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 7 }),
    pad: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ parts, pad }) => {
    let at = 0;
    const offsets = parts.map((p) => {
      const o = at + p.gap;
      at = o + p.size;
      return o;
    });
    return { specs: parts.map((p, k) => slot(`s${k}`, p.size, offsets[k])), offsets, dim: at + pad };
  });

/** A random embodiment over a layout: a random subset of each slot's indices, cut into runs, in random raw order. */
interface EmbodimentCase extends LayoutCase {
  spec: EmbodimentSpec;
  /** The expected unified index of each raw entry, from the description. */
  expected: number[];
}
type Run = { name: string; slot: string; at: number; size: number; unified: number[] };
const embodimentArb: fc.Arbitrary<EmbodimentCase> = layoutArb.chain((L) => {
  const total = L.specs.reduce((p, s) => p + s.size, 0);
  return fc
    .array(fc.integer({ min: 0, max: 2 }), { minLength: total, maxLength: total })
    .filter((flags) => flags.some((f) => f > 0))
    .chain((flags) => {
      // Per slot index — 0: unused; 1: continues the current run; 2: starts a new component.
      const runs: Run[] = [];
      let k0 = 0;
      L.specs.forEach((s, k) => {
        let cur: Run | null = null;
        for (let i = 0; i < s.size; i++) {
          const f = flags[k0 + i]!;
          if (f === 0) cur = null;
          else if (f === 2 || cur === null) {
            cur = { name: `c${runs.length}`, slot: s.name, at: i, size: 1, unified: [L.offsets[k]! + i] };
            runs.push(cur);
          } else {
            cur.size++;
            cur.unified.push(L.offsets[k]! + i);
          }
        }
        k0 += s.size;
      });
      return fc.shuffledSubarray(runs, { minLength: runs.length, maxLength: runs.length }).map((order) => ({
        ...L,
        spec: { name: 'random', components: order.map(({ name, slot: sl, at, size }) => ({ name, slot: sl, at, size })) },
        expected: order.flatMap((c) => c.unified),
      }));
    });
});

function build(c: EmbodimentCase): Embodiment {
  return new Embodiment(c.spec, new SlotLayout(c.specs, { dim: c.dim }));
}

function rawRows(rows: number, rawDim: number, seed: number): Float64Array {
  const g = new Generator(seed);
  return Float64Array.from(randn([rows * rawDim], { dtype: 'float64', generator: g }).dataSync(), (v) => v + 0.5); // no zeros among them (a.s.)
}

describe('SlotLayout', () => {
  test('Eq. 1: the default layout has disjoint slots inside d = 200, and the rest is reserved', () => {
    const cover = new Array<number>(UNIFIED_LAYOUT.dim).fill(0);
    for (const s of UNIFIED_LAYOUT.slots) {
      assert.ok(s.offset >= 0 && s.offset + s.size <= 200, `${s.name} lies outside [0, 200)`);
      for (let i = s.offset; i < s.offset + s.size; i++) cover[i]!++;
    }
    assert.equal(UNIFIED_LAYOUT.dim, 200);
    assert.ok(cover.every((c) => c <= 1), 'some dimension belongs to two slots');
    assert.deepEqual([...UNIFIED_LAYOUT.reserved], cover.flatMap((c, i) => (c === 0 ? [i] : [])));
    for (let i = 0; i < 200; i++) {
      const hit = UNIFIED_LAYOUT.slotAt(i);
      assert.equal(hit === null, cover[i] === 0);
      if (hit) assert.equal(hit.slot.offset + hit.index, i);
    }
  });

  test('Eq. 1: the default layout has the semantic slots of §5.1.1 with units (EEF, joints, grippers, hands, head, waist, base)', () => {
    const want: [string, number, string][] = [
      ['right_eef_pos', 3, 'm'], ['left_eef_pos', 3, 'm'], ['right_eef_rot', 3, 'rad'], ['left_eef_rot', 3, 'rad'],
      ['right_arm_joints', 7, 'rad'], ['left_arm_joints', 7, 'rad'], ['right_gripper', 1, 'm'], ['left_gripper', 1, 'm'],
      ['right_fingers', 45, 'rad'], ['left_fingers', 45, 'rad'], ['head', 2, 'rad'], ['waist', 3, 'rad'], ['base_heading', 1, 'rad'],
    ];
    for (const [name, size, unit] of want) {
      const s = UNIFIED_LAYOUT.slot(name);
      assert.equal(s.size, size, name);
      assert.equal(s.unit, unit, name);
    }
    assert.equal(UNIFIED_LAYOUT.slot('base_velocity').size, 3);
    assert.ok(UNIFIED_LAYOUT.slot('right_dexhand').size >= 6, 'the 6-DoF hands of Table 2 must fit');
    assert.equal(UNIFIED_LAYOUT.slot('right_eef_rot').quantity, 'axis-angle');
  });

  test('Eq. 1: a layout is accepted exactly when its slots are disjoint; the error names both slots', () => {
    const arb = fc.array(fc.record({ size: fc.integer({ min: 1, max: 5 }), offset: fc.integer({ min: 0, max: 15 }) }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(arb, (parts) => {
        const specs = parts.map((p, k) => slot(`s${k}`, p.size, p.offset));
        let clash: [number, number] | null = null;
        for (let a = 0; a < parts.length && !clash; a++) {
          for (let b = a + 1; b < parts.length && !clash; b++) {
            const [p, q] = [parts[a]!, parts[b]!];
            if (p.offset < q.offset + q.size && q.offset < p.offset + p.size) clash = [a, b];
          }
        }
        if (clash === null) {
          const L = new SlotLayout(specs, { dim: 25 });
          L.slots.forEach((s, k) => assert.equal(s.offset, parts[k]!.offset));
        } else {
          assert.throws(
            () => new SlotLayout(specs, { dim: 25 }),
            (e: Error) => e instanceof RangeError && /^SlotLayout: slots "s\d+" .* and "s\d+" .* overlap/.test(e.message),
          );
        }
      }),
      RUNS,
    );
  });

  test('slots without an offset are packed after the previous slot; dim defaults to the end', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }), (sizes) => {
        const L = new SlotLayout(sizes.map((n, k) => slot(`s${k}`, n)));
        let at = 0;
        L.slots.forEach((s, k) => {
          assert.equal(s.offset, at);
          at += sizes[k]!;
        });
        assert.equal(L.dim, at);
        assert.equal(L.reserved.length, 0);
      }),
      RUNS,
    );
  });

  test('bad layouts throw at once, naming the problem', () => {
    assert.throws(() => new SlotLayout([]), /SlotLayout: needs at least one slot/);
    assert.throws(() => new SlotLayout([slot('a', 2), slot('a', 1)]), /two slots are named "a"/);
    assert.throws(() => new SlotLayout([slot('a', 0)]), /slot "a" needs an integer size ≥ 1, got 0/);
    assert.throws(() => new SlotLayout([slot('a', 2, -1)]), /slot "a" needs an integer offset ≥ 0, got -1/);
    assert.throws(() => new SlotLayout([slot('a', 2), slot('b', 3)], { dim: 4 }), /dim 4 is too small: slot "b" ends at 5/);
    assert.throws(() => UNIFIED_LAYOUT.slot('tail'), /no slot "tail"; slots are right_eef_pos/);
    assert.throws(() => UNIFIED_LAYOUT.slotAt(200), /slotAt: index 200 is outside \[0, 200\)/);
  });
});

describe('Embodiment (Φ_e)', () => {
  test('Eq. 1: Φ_e places each raw value in its slot and index, and exact zeros elsewhere', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer({ min: 1, max: 3 }), fc.nat(), (c, rows, seed) => {
        const e = build(c);
        assert.equal(e.rawDim, c.expected.length);
        const raw = rawRows(rows, e.rawDim, seed);
        const u = e.toUnified(raw);
        assert.equal(u.length, rows * c.dim);
        for (let n = 0; n < rows; n++) {
          const row = u.subarray(n * c.dim, (n + 1) * c.dim);
          const expect = new Float64Array(c.dim);
          c.expected.forEach((ui, r) => (expect[ui] = raw[n * e.rawDim + r]!));
          assert.deepEqual(Array.from(row), Array.from(expect));
        }
      }),
      RUNS,
    );
  });

  test('Eq. 1: the inverse recovers the raw values exactly and ignores the dims outside I_e', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer({ min: 1, max: 3 }), fc.nat(), (c, rows, seed) => {
        const e = build(c);
        const raw = rawRows(rows, e.rawDim, seed);
        const u = e.toUnified(raw);
        assert.deepEqual(Array.from(e.fromUnified(u)), Array.from(raw));
        // A prediction with junk off I_e decodes to the same raw vector.
        const junk = rawRows(rows, c.dim, seed + 1);
        const noisy = u.map((v, i) => (e.activeMask[i % c.dim] ? v : junk[i]!));
        assert.deepEqual(Array.from(e.fromUnified(noisy)), Array.from(raw));
        // Float32 in, Float32 out, same routing.
        const f32 = e.fromUnified(e.toUnified(Float32Array.from(raw)));
        assert.ok(f32 instanceof Float32Array);
        assert.deepEqual(Array.from(f32), Array.from(Float32Array.from(raw)));
      }),
      RUNS,
    );
  });

  test('Eq. 1: activeMask, I_e and the active slots match the mapping', () => {
    fc.assert(
      fc.property(embodimentArb, (c) => {
        const e = build(c);
        const used = new Set(c.expected);
        assert.equal(used.size, c.expected.length, 'the generator made a clash');
        assert.deepEqual([...e.activeIndices], [...used].sort((a, b) => a - b));
        assert.deepEqual([...e.activeMask], Array.from({ length: c.dim }, (_, i) => used.has(i)));
        assert.deepEqual(Array.from(e.activeMaskTensor('float64').dataSync()), e.activeMask.map((b) => (b ? 1 : 0)));
        const slots = c.specs.flatMap((s, k) => (c.expected.some((u) => u >= c.offsets[k]! && u < c.offsets[k]! + s.size) ? [k] : []));
        assert.deepEqual([...e.activeSlots], slots);
        // Φ_e of an all-ones raw vector is the 0/1 mask.
        assert.deepEqual(Array.from(e.toUnified(new Array(e.rawDim).fill(1))), e.activeMask.map((b) => (b ? 1 : 0)));
      }),
      RUNS,
    );
  });

  test('Eq. 1: the tensor Φ_e and its inverse equal the array versions, over any leading shape and layout of memory', () => {
    const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 });
    fc.assert(
      fc.property(embodimentArb, shapeArb, fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'>, fc.boolean(), fc.nat(), (c, lead, dtype, permuted, seed) => {
        const e = build(c);
        const rows = lead.reduce((p, d) => p * d, 1);
        const raw = rawRows(rows, e.rawDim, seed);
        let t = tensor(raw, { shape: [...lead, e.rawDim], dtype });
        if (permuted) t = tensor(raw, { shape: [e.rawDim, rows], dtype }).transpose().reshape([...lead, e.rawDim]);
        const host = Float64Array.from(t.dataSync());
        const u = e.toUnified(t);
        assert.deepEqual(u.shape, [...lead, c.dim]);
        assert.equal(u.dtype, dtype);
        assert.deepEqual(Array.from(u.dataSync()), Array.from(e.toUnified(host)));
        const back = e.fromUnified(u);
        assert.deepEqual(back.shape, [...lead, e.rawDim]);
        assert.deepEqual(Array.from(back.dataSync()), Array.from(host));
      }),
      RUNS,
    );
  });

  test('Eq. 1: gradients of the tensor Φ_e and its inverse flow only through the active dims', () => {
    fc.assert(
      fc.property(embodimentArb, fc.nat(), (c, seed) => {
        const e = build(c);
        const g = new Generator(seed);
        const raw = randn([2, e.rawDim], { dtype: 'float64', generator: g });
        const cot = randn([2, c.dim], { dtype: 'float64', generator: g });
        const [, back] = vjp((x: Tensor) => e.toUnified(x), raw);
        const gRaw = back(cot)[0]!.dataSync();
        const cotHost = cot.dataSync();
        for (let n = 0; n < 2; n++) {
          c.expected.forEach((ui, r) => assert.equal(gRaw[n * e.rawDim + r], cotHost[n * c.dim + ui]));
        }
        const u = randn([2, c.dim], { dtype: 'float64', generator: g });
        const cotRaw = randn([2, e.rawDim], { dtype: 'float64', generator: g });
        const [, backInv] = vjp((x: Tensor) => e.fromUnified(x), u);
        const gU = backInv(cotRaw)[0]!.dataSync();
        const cr = cotRaw.dataSync();
        for (let n = 0; n < 2; n++) {
          for (let i = 0; i < c.dim; i++) {
            const r = c.expected.indexOf(i);
            assert.equal(gU[n * c.dim + i], r < 0 ? 0 : cr[n * e.rawDim + r], `unified dim ${i}`);
          }
        }
      }),
      { numRuns: 30 },
    );
    const e = new Embodiment(FR3_INSPIRE);
    const g = new Generator(3);
    gradcheck((x) => e.toUnified(x).mul(e.toUnified(x)), [randn([2, e.rawDim], { dtype: 'float64', generator: g })]);
    gradcheck((u) => e.fromUnified(u).sin(), [randn([3, 200], { dtype: 'float64', generator: g })]);
  });

  test('`at` defaults to the next free index of the same slot, in raw order', () => {
    const L = new SlotLayout([slot('a', 5), slot('b', 3)]);
    const e = new Embodiment({ name: 'packed', components: [{ name: 'x', slot: 'a', size: 2 }, { name: 'y', slot: 'b' }, { name: 'z', slot: 'a' }, { name: 'w', slot: 'b', size: 2 }] }, L);
    assert.deepEqual([...e.unifiedIndex], [0, 1, 5, 2, 6, 7]);
    assert.deepEqual(e.component('z'), { name: 'z', slot: 'a', rawOffset: 3, at: 2, size: 1 });
  });

  test('bad descriptions and inputs throw at once, naming the embodiment and the values', () => {
    const L = new SlotLayout([slot('a', 3), slot('b', 2)]);
    const mk = (components: RawComponent[]) => () => new Embodiment({ name: 'bot', components }, L);
    assert.throws(mk([]), /Embodiment "bot": needs at least one component/);
    assert.throws(mk([{ name: 'q', slot: 'c' }]), /component "q" names slot "c", which the layout lacks; slots are a, b/);
    assert.throws(mk([{ name: 'q', slot: 'a', size: 2, at: 2 }]), /component "q" \(2 entries at 2\) does not fit slot "a" of size 3/);
    assert.throws(mk([{ name: 'q', slot: 'a', size: 0 }]), /component "q" needs an integer size ≥ 1, got 0/);
    assert.throws(mk([{ name: 'p', slot: 'b', size: 2 }, { name: 'q', slot: 'b', at: 1 }]), /components "p" and "q" both write index 1 of slot "b"/);
    const e = new Embodiment({ name: 'bot', components: [{ name: 'q', slot: 'a', size: 3 }] }, L);
    assert.throws(() => e.toUnified([1, 2]), /Embodiment.toUnified \("bot"\): 2 values are not whole rows of 3/);
    assert.throws(() => e.fromUnified(new Float64Array(7)), /Embodiment.fromUnified \("bot"\): 7 values are not whole rows of 5/);
    assert.throws(() => e.toUnified(tensor([[1, 2]])), /Embodiment.toUnified \("bot"\): expected a tensor of shape \[\.\.\., 3\], got \[1,2\]/);
    assert.throws(() => e.fromUnified(tensor(1)), /expected a tensor of shape \[\.\.\., 5\], got \[\]/);
    assert.throws(() => e.component('nope'), /no component "nope"; components are q/);
  });
});

describe('example embodiments', () => {
  test('Eq. 1: every example is valid on the default layout, and Table 2 DoF counts match the raw sizes', () => {
    for (const spec of EXAMPLE_EMBODIMENTS) {
      const e = new Embodiment(spec);
      assert.equal(e.activeIndices.length, e.rawDim, spec.name);
      const raw = Float64Array.from({ length: e.rawDim }, (_, i) => i + 1);
      assert.deepEqual(Array.from(e.fromUnified(e.toUnified(raw))), Array.from(raw), spec.name);
    }
    assert.equal(new Embodiment(SO101_ARM).rawDim, 6);
    assert.equal(new Embodiment(FR3_INSPIRE).rawDim, 13);
    assert.equal(new Embodiment(UPPER_BODY_HUMANOID).rawDim, 31);
  });

  test('Eq. 1: the human wrist pose shares the robot EEF slots; MANO fingers use only the reserved fine-manipulation slots', () => {
    const mano = new Embodiment(MANO_HANDS);
    const slotsOf = (e: Embodiment): Set<string> => new Set(e.activeSlots.map((k) => e.layout.slots[k]!.name));
    const human = slotsOf(mano);
    assert.ok(human.has('right_eef_pos') && human.has('right_eef_rot') && human.has('left_eef_pos') && human.has('left_eef_rot'));
    for (const c of mano.components.filter((c) => c.name.endsWith('hand_pose'))) {
      assert.equal(c.size, 45);
      assert.equal(UNIFIED_LAYOUT.slot(c.slot).quantity, 'axis-angle');
    }
    const robots = EXAMPLE_EMBODIMENTS.filter((s) => s !== MANO_HANDS).map((s) => slotsOf(new Embodiment(s)));
    assert.ok(robots.some((r) => r.has('right_eef_pos')), 'some robot must share the EEF slots with the human hand');
    for (const r of robots) assert.ok(!r.has('right_fingers') && !r.has('left_fingers'), 'robots must not write the human finger slots');
  });
});
