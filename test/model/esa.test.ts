// Tests of Embodiment-Specific Adaptation (Eq. 12): adapters of slots outside I_e stay bit-identical
// through any number of SGD-with-momentum and AdamW steps on embodiment e, also when switching between
// embodiments leaves stale optimiser state behind; the output depends only on the active slots; the
// outputs match Σ_{k∈I_e} W_k·x_k written out by hand; gradients match finite differences.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Generator, noGrad, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { AdamW, SGD, mseLoss, type Optimizer } from '../../src/nn/index.js';
import {
  SlotwiseDecoder,
  SlotwiseEncoder,
  contiguousSlots,
  slotwiseDecode,
  slotwiseEncode,
  type SlotSpan,
} from '../../src/model/esa.js';
import { gradcheck } from '../helpers/gradcheck.js';

const RUNS = { numRuns: 40 } as const;

/** A layout: K slots of 1–3 dimensions, sometimes with unused dimensions between and after them. */
interface Layout {
  slots: SlotSpan[];
  dim: number;
  features: number;
  bias: boolean;
}

const layoutArb = (minK: number, maxK: number): fc.Arbitrary<Layout> =>
  fc
    .record({
      sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: minK, maxLength: maxK }),
      gaps: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: maxK + 1, maxLength: maxK + 1 }),
      features: fc.integer({ min: 2, max: 4 }),
      bias: fc.boolean(),
      shuffle: fc.boolean(),
    })
    .map(({ sizes, gaps, features, bias, shuffle }) => {
      let at = 0;
      const slots = sizes.map((size, k) => {
        at += gaps[k]!;
        const s = { offset: at, size };
        at += size;
        return s;
      });
      // Slot indices need not follow the offsets: the layout may list its slots in any order.
      if (shuffle) slots.reverse();
      return { slots, dim: at + gaps[sizes.length]!, features, bias };
    });

/** A non-empty proper subset of the K slots (so some slot is inactive), in a random order. */
const activeArb = (K: number): fc.Arbitrary<number[]> =>
  fc.shuffledSubarray(
    Array.from({ length: K }, (_, k) => k),
    { minLength: 1, maxLength: K - 1 },
  );

/** The raw bytes of a tensor's values (a copy). */
function bytes(t: Tensor): Uint8Array {
  const v = t.dataSync();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** An encoder and a decoder over one layout: x ↦ dec(tanh(enc(x))), the way a policy would wrap its expert. */
class Pair {
  readonly enc: SlotwiseEncoder;
  readonly dec: SlotwiseDecoder;
  readonly gen: Generator;
  constructor(
    readonly layout: Layout,
    seed: number,
  ) {
    this.gen = new Generator(seed);
    const opts = { slots: layout.slots, dim: layout.dim, features: layout.features, bias: layout.bias, generator: this.gen };
    this.enc = new SlotwiseEncoder(opts);
    this.dec = new SlotwiseDecoder(opts);
  }
  params(): Tensor[] {
    return [...this.enc.parameters(), ...this.dec.parameters()];
  }
  /** Each slot's parameters (encoder's and decoder's), slot k at index k. */
  slotParams(): Tensor[][] {
    return this.layout.slots.map((_, k) => [...this.enc.slotParameters([k]), ...this.dec.slotParameters([k])]);
  }
  /** One optimiser step on embodiment `active` with a fresh random batch; returns the inactive grads seen. */
  step(opt: Optimizer<object>, active: readonly number[]): (Tensor | null)[] {
    const x = randn([3, this.layout.dim], { generator: this.gen });
    const target = randn([3, this.layout.dim], { generator: this.gen });
    opt.zeroGrad();
    const y = this.dec.forward(this.enc.forward(x, active).tanh(), active);
    mseLoss(y, target).backward();
    const grads = this.slotParams()
      .filter((_, k) => !active.includes(k))
      .flat()
      .map((p) => p.grad);
    opt.step();
    return grads;
  }
}

type OptKind = 'sgd' | 'adamw';
const optimizerArb: fc.Arbitrary<{ kind: OptKind; momentum: number; weightDecay: number; variant: boolean }> = fc.record({
  kind: fc.constantFrom<OptKind>('sgd', 'adamw'),
  momentum: fc.double({ min: 0.5, max: 0.95, noNaN: true }),
  weightDecay: fc.double({ min: 0.01, max: 0.2, noNaN: true }),
  variant: fc.boolean(),
});

function makeOptimizer(params: Tensor[], o: { kind: OptKind; momentum: number; weightDecay: number; variant: boolean }): Optimizer<object> {
  return (
    o.kind === 'sgd'
      ? new SGD(params, { lr: 0.1, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.variant })
      : new AdamW(params, { lr: 0.05, weightDecay: o.weightDecay, amsgrad: o.variant })
  ) as unknown as Optimizer<object>;
}

describe('ESA: only the active slots are trained (Eq. 12)', () => {
  test('Eq. 12: after k SGD-momentum or AdamW (weight decay > 0) steps on e, adapters outside I_e are bit-identical and those in I_e moved', () => {
    fc.assert(
      fc.property(
        layoutArb(2, 5).chain((l) => fc.tuple(fc.constant(l), activeArb(l.slots.length))),
        optimizerArb,
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        ([layout, active], o, steps, seed) => {
          const pair = new Pair(layout, seed);
          const opt = makeOptimizer(pair.params(), o);
          const before = pair.slotParams().map((ps) => ps.map(bytes));
          for (let s = 0; s < steps; s++) {
            for (const g of pair.step(opt, active)) assert.equal(g, null, 'an inactive adapter received a gradient');
          }
          pair.slotParams().forEach((ps, k) => {
            const unchanged = ps.every((p, i) => sameBytes(bytes(p), before[k]![i]!));
            if (active.includes(k)) assert.ok(!unchanged, `active slot ${k} did not move under ${o.kind}`);
            else {
              assert.ok(unchanged, `inactive slot ${k} moved under ${o.kind}`);
              for (const p of ps) assert.equal(opt.stateOf(p), undefined, `inactive slot ${k} got optimiser state`);
            }
          });
        },
      ),
      RUNS,
    );
  });

  test('Eq. 12: switching e1 → e2 → e1 keeps each step’s inactive slots frozen despite stale moments from the other embodiment', () => {
    const scenarioArb = layoutArb(3, 5).chain((l) =>
      fc.tuple(fc.constant(l), activeArb(l.slots.length), activeArb(l.slots.length)).filter(([, e1, e2]) => e2.some((k) => !e1.includes(k)) && e1.some((k) => !e2.includes(k))),
    );
    fc.assert(
      fc.property(scenarioArb, optimizerArb, fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }), fc.nat(), ([layout, e1, e2], o, counts, seed) => {
        const pair = new Pair(layout, seed);
        const opt = makeOptimizer(pair.params(), o);
        const phases: number[][] = [e1, e2, e1];
        phases.forEach((active, phase) => {
          for (let s = 0; s < counts[phase]!; s++) {
            const before = pair.slotParams().map((ps) => ps.map(bytes));
            pair.step(opt, active);
            pair.slotParams().forEach((ps, k) => {
              if (active.includes(k)) return;
              ps.forEach((p, i) => assert.ok(sameBytes(bytes(p), before[k]![i]!), `phase ${phase}: inactive slot ${k} moved under ${o.kind}`));
            });
          }
        });
        // The last phase really had stale state to ignore: slots trained only on e2 hold optimiser state.
        const onlyE2 = e2.filter((k) => !e1.includes(k));
        for (const k of onlyE2) for (const p of pair.slotParams()[k]!) assert.notEqual(opt.stateOf(p), undefined);
      }),
      RUNS,
    );
  });

  test('Eq. 12: the zero-mask alternative would not freeze inactive slots (why inactive tensors are never read)', () => {
    // A slot multiplied by zero gets a zero gradient, not none, and AdamW's decay still moves it.
    const w = randn([2, 3], { generator: new Generator(1) }).requiresGrad_(true);
    const before = bytes(w);
    const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.1 });
    w.mul(0).sum().backward();
    opt.step();
    assert.ok(!sameBytes(bytes(w), before));
  });
});

describe('ESA forward (Eq. 12)', () => {
  test('Eq. 12: the output depends only on the active slots’ inputs and adapters', () => {
    fc.assert(
      fc.property(
        layoutArb(2, 5).chain((l) => fc.tuple(fc.constant(l), activeArb(l.slots.length))),
        fc.nat(),
        ([layout, active], seed) => {
          const pair = new Pair(layout, seed);
          const g = new Generator(seed + 1);
          const x = randn([2, layout.dim], { generator: g });
          const h = randn([2, layout.features], { generator: g });
          const enc0 = bytes(pair.enc.forward(x, active));
          const dec0 = bytes(pair.dec.forward(h, active));
          // Rewrite every dimension outside the active slots, and every inactive adapter.
          const inActive = new Set(active.flatMap((k) => Array.from({ length: layout.slots[k]!.size }, (_, i) => layout.slots[k]!.offset + i)));
          const xv = Float32Array.from(x.dataSync());
          const noise = randn([xv.length], { generator: g }).dataSync();
          xv.forEach((_, i) => {
            if (!inActive.has(i % layout.dim)) xv[i] = noise[i]! * 10;
          });
          noGrad(() => {
            pair.slotParams().forEach((ps, k) => {
              if (!active.includes(k)) for (const p of ps) p.copy_(randn(p.shape, { generator: g }).mul(10));
            });
          });
          const x2 = tensor(xv, { shape: x.shape });
          assert.ok(sameBytes(bytes(pair.enc.forward(x2, active)), enc0), 'encoder output changed');
          const dec = pair.dec.forward(h, active);
          assert.ok(sameBytes(bytes(dec), dec0), 'decoder output changed');
          // Φ_e's convention: every dimension outside the active slots is exactly zero.
          Array.from(dec.dataSync()).forEach((v, i) => {
            if (!inActive.has(i % layout.dim)) assert.equal(v, 0, `decoder dimension ${i % layout.dim} is ${v}, outside I_e`);
          });
          // An active adapter does matter.
          const w0 = pair.enc.slotParameters([active[0]!])[0]!;
          noGrad(() => w0.copy_(w0.add(1)));
          assert.ok(!sameBytes(bytes(pair.enc.forward(x2, active)), enc0), 'an active adapter does not affect the encoder');
        },
      ),
      RUNS,
    );
  });

  test('Eq. 12: the encoder gives Σ_{k∈I_e} (W_k·x_k + b_k) and the decoder places W_k·h + b_k in slot k, element by element', () => {
    fc.assert(
      fc.property(
        layoutArb(1, 4).chain((l) => fc.tuple(fc.constant(l), fc.shuffledSubarray(l.slots.map((_, k) => k), { minLength: 1 }))),
        fc.nat(),
        ([layout, active], seed) => {
          const gen = new Generator(seed);
          const opts = { ...layout, dtype: 'float64' as const, generator: gen };
          const enc = new SlotwiseEncoder(opts);
          const dec = new SlotwiseDecoder(opts);
          const x = randn([layout.dim], { generator: gen, dtype: 'float64' });
          const h = randn([layout.features], { generator: gen, dtype: 'float64' });
          const xv = x.dataSync();
          const hv = h.dataSync();
          const F = layout.features;
          const expectEnc = new Float64Array(F);
          const expectDec = new Float64Array(layout.dim);
          for (const k of active) {
            const { offset, size } = layout.slots[k]!;
            const [we, be] = enc.slotParameters([k]).map((p) => p.dataSync());
            const [wd, bd] = dec.slotParameters([k]).map((p) => p.dataSync());
            for (let o = 0; o < F; o++) {
              let s = be ? be[o]! : 0;
              for (let i = 0; i < size; i++) s += we![o * size + i]! * xv[offset + i]!;
              expectEnc[o]! += s;
            }
            for (let i = 0; i < size; i++) {
              let s = bd ? bd[i]! : 0;
              for (let j = 0; j < F; j++) s += wd![i * F + j]! * hv[j]!;
              expectDec[offset + i] = s;
            }
          }
          const close = (a: ArrayLike<number>, e: Float64Array, what: string): void =>
            e.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) <= 1e-12 * (1 + Math.abs(v)), `${what}[${i}]: ${a[i]} vs ${v}`));
          close(enc.forward(x, active).dataSync(), expectEnc, 'encoder');
          close(dec.forward(h, active).dataSync(), expectDec, 'decoder');
          // I_e is a set: the order it is listed in does not change a bit.
          const reversed = [...active].reverse();
          assert.ok(sameBytes(bytes(enc.forward(x, reversed)), bytes(enc.forward(x, active))));
          assert.ok(sameBytes(bytes(dec.forward(h, reversed)), bytes(dec.forward(h, active))));
        },
      ),
      RUNS,
    );
  });

  test('Eq. 12: the encoder’s and decoder’s gradients match float64 finite differences (inactive slots get none)', () => {
    fc.assert(
      fc.property(
        layoutArb(2, 3).chain((l) => fc.tuple(fc.constant(l), activeArb(l.slots.length))),
        fc.nat(),
        ([layout, active], seed) => {
          const g = new Generator(seed);
          const K = layout.slots.length;
          const F = layout.features;
          const r = (shape: number[]): Tensor => randn(shape, { generator: g, dtype: 'float64' });
          const wEnc = layout.slots.map((s) => r([F, s.size]));
          const wDec = layout.slots.map((s) => r([s.size, F]));
          const bEnc = layout.slots.map(() => r([F]));
          const bDec = layout.slots.map((s) => r([s.size]));
          gradcheck((x, ...ps) => slotwiseEncode(x, ps.slice(0, K), layout.slots, active, layout.bias ? ps.slice(K) : undefined), [r([2, layout.dim]), ...wEnc, ...bEnc], { seed });
          gradcheck((h, ...ps) => slotwiseDecode(h, ps.slice(0, K), layout.slots, active, layout.dim, layout.bias ? ps.slice(K) : undefined), [r([2, F]), ...wDec, ...bDec], { seed });
        },
      ),
      { numRuns: 15 },
    );
  });

  test('Eq. 12: bank() is the paper’s [K, d_out, d_in] tensor, each slot’s block zero-padded', () => {
    const slots = contiguousSlots([2, 3, 1]);
    const gen = new Generator(3);
    const enc = new SlotwiseEncoder({ slots, features: 4, generator: gen });
    const dec = new SlotwiseDecoder({ slots, features: 4, generator: gen });
    assert.deepEqual(enc.bank().shape, [3, 4, 3]);
    assert.deepEqual(dec.bank().shape, [3, 3, 4]);
    assert.deepEqual(
      enc.namedParameters().map(([n]) => n),
      ['adapters.0.weight', 'adapters.1.weight', 'adapters.2.weight'],
    );
    slots.forEach(({ size }, k) => {
      const be = enc.bank().toArray() as number[][][];
      const bd = dec.bank().toArray() as number[][][];
      const we = enc.slotParameters([k])[0]!.toArray() as number[][];
      const wd = dec.slotParameters([k])[0]!.toArray() as number[][];
      for (let o = 0; o < 4; o++) for (let i = 0; i < 3; i++) assert.equal(be[k]![o]![i], i < size ? we[o]![i] : 0);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.equal(bd[k]![i]![j], i < size ? wd[i]![j] : 0);
    });
    assert.equal(enc.bank().requiresGrad, false);
  });
});

describe('ESA errors', () => {
  const slots = contiguousSlots([2, 2]);
  const enc = new SlotwiseEncoder({ slots, features: 3, generator: new Generator(0) });
  const dec = new SlotwiseDecoder({ slots, features: 3, generator: new Generator(0) });
  test('bad active slot lists throw, naming the function and the values', () => {
    const x = randn([4]);
    assert.throws(() => enc.forward(x, []), /slotwiseEncode: the active slots I_e must list at least one slot/);
    assert.throws(() => enc.forward(x, [0, 0]), /slotwiseEncode: active slot 0 is listed twice/);
    assert.throws(() => enc.forward(x, [2]), /slotwiseEncode: active slot 2 is not an index in \[0, 2\)/);
    assert.throws(() => dec.forward(randn([3]), [1.5]), /slotwiseDecode: active slot 1.5/);
    assert.throws(() => enc.slotParameters([-1]), /SlotwiseEncoder.slotParameters: active slot -1/);
  });
  test('bad shapes and layouts throw, naming the shapes', () => {
    assert.throws(() => enc.forward(randn([2, 5]), [0]), /SlotwiseEncoder: expected input \[\.\.\., 4\], got \[2,\s?5\]/);
    assert.throws(() => dec.forward(randn([2, 4]), [0]), /SlotwiseDecoder: expected input \[\.\.\., 3\], got \[2,\s?4\]/);
    assert.throws(() => new SlotwiseEncoder({ slots: [{ offset: 0, size: 2 }, { offset: 1, size: 2 }], features: 2 }), /SlotwiseEncoder: slots 0 .* and 1 .* overlap/);
    assert.throws(() => new SlotwiseEncoder({ slots: [{ offset: 0, size: 0 }], features: 2 }), /size ≥ 1/);
    assert.throws(() => new SlotwiseDecoder({ slots, dim: 3, features: 2 }), /SlotwiseDecoder: dim 3 is smaller than the end of the slots \(4\)/);
    assert.throws(() => new SlotwiseDecoder({ slots: [], features: 2 }), /at least one slot/);
    assert.throws(() => new SlotwiseDecoder({ slots, features: 0 }), /features must be a positive integer/);
    assert.throws(() => slotwiseEncode(randn([4]), [randn([3, 2])], slots, [0]), /slotwiseEncode: got 1 weights for 2 slots/);
    assert.throws(() => slotwiseDecode(randn([3]), [randn([2, 3]), randn([2, 2])], slots, [1], 4), /slotwiseDecode: weight of slot 1 is \[2,\s?2\]/);
  });
});
