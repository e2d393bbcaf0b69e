import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodeBuilder, F32, F64, I32, ModuleBuilder, sleb, uleb, type ValType } from '../../../src/tensor/wasm/encoder.js';

function decodeU(bytes: number[]): number {
  let v = 0;
  let scale = 1;
  for (const b of bytes) {
    v += (b & 0x7f) * scale;
    scale *= 128;
  }
  return v;
}

function decodeS(bytes: number[]): number {
  let v = 0;
  let shift = 0;
  for (const b of bytes) {
    v |= (b & 0x7f) << shift;
    shift += 7;
  }
  const last = bytes[bytes.length - 1]!;
  return shift < 32 && last & 0x40 ? v | (-1 << shift) : v;
}

test('LEB128: unsigned and signed encodings decode back, end on a byte without the high bit, and are minimal', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (u, s) => {
      const bu: number[] = [];
      uleb(bu, u);
      assert.equal(decodeU(bu), u);
      assert.ok(bu.slice(0, -1).every((b) => b & 0x80) && !(bu[bu.length - 1]! & 0x80));
      assert.ok(bu.length === 1 || bu[bu.length - 1] !== 0, 'no redundant trailing zero group');
      const bs: number[] = [];
      sleb(bs, s);
      assert.equal(decodeS(bs), s);
      assert.ok(bs.length <= 5);
    }),
  );
  assert.throws(() => uleb([], -1), RangeError);
});

/** Instantiates a one-function module (with a 1-page memory) and returns the function. */
function fn(params: ValType[], results: ValType[], body: (c: CodeBuilder) => void, extra?: (m: ModuleBuilder) => number): (...a: number[]) => number {
  const m = new ModuleBuilder().importMemory({ initial: 1 });
  const helper = extra?.(m);
  m.addFunction('f', params, results, [], (c) => {
    if (helper !== undefined) c.localGet(0).call(helper);
    else body(c);
  });
  const bytes = m.build();
  assert.ok(WebAssembly.validate(bytes));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  return ex['f'] as (...a: number[]) => number;
}

test('scalar instructions compute what their names say', () => {
  assert.equal(fn([I32, I32, I32], [I32], (c) => c.localGet(0).localGet(1).localGet(2).select())(7, 9, 0), 9);
  assert.equal(fn([I32, I32], [I32], (c) => c.localGet(0).localGet(1).i32GtU())(-1, 1), 1);
  assert.equal(fn([I32, I32], [I32], (c) => c.localGet(0).localGet(1).i32LeU())(-1, 1), 0);
  assert.equal(fn([I32, I32], [I32], (c) => c.localGet(0).localGet(1).i32GeU())(5, 5), 1);
  assert.equal(fn([I32, I32], [I32], (c) => c.localGet(0).localGet(1).i32Or())(5, 10), 15);
  assert.equal(fn([F32], [F32], (c) => c.localGet(0).f32Abs())(-2.5), 2.5);
  assert.equal(fn([F32], [F32], (c) => c.localGet(0).f32Neg())(2.5), -2.5);
  const twice = fn([I32], [I32], () => undefined, (m) => m.addFunction('double', [I32], [I32], [], (c) => c.localGet(0).i32Const(2).i32Mul()));
  assert.equal(twice(21), 42);
  const counted = fn([I32], [I32], (c) => {
    const acc = c.local(I32);
    c.block().loop().localGet(0).i32Eqz().brIf(1);
    c.localGet(acc).localGet(0).i32Add().localSet(acc).localGet(0).i32Const(1).i32Sub().localSet(0).br(0).end().end();
    c.localGet(acc);
  });
  assert.equal(counted(10), 55);
});

test('SIMD instructions: v128.const, shuffle, pmin/pmax, promote and f64x2 lanes', () => {
  const lane = (k: number, body: (c: CodeBuilder) => void) => fn([], [F32], (c) => (body(c), c.f32x4ExtractLane(k)))();
  assert.equal(lane(2, (c) => c.v128ConstF32(1, 2, 3, 4)), 3);
  // Bytes 4..7 of the first operand, then lanes of the second.
  const shuffled = [0, 1, 2, 3].map((k) => lane(k, (c) => c.v128ConstF32(1, 2, 3, 4).v128ConstF32(5, 6, 7, 8).i8x16Shuffle([4, 5, 6, 7, 16, 17, 18, 19, 28, 29, 30, 31, 0, 1, 2, 3])));
  assert.deepEqual(shuffled, [2, 5, 8, 1]);
  assert.equal(lane(0, (c) => c.v128ConstF32(1, 0, 0, 0).v128ConstF32(3, 0, 0, 0).f32x4Pmax()), 3);
  assert.equal(lane(0, (c) => c.v128ConstF32(1, 0, 0, 0).v128ConstF32(3, 0, 0, 0).f32x4Pmin()), 1);
  const f64 = (k: number) =>
    fn([], [F64], (c) => c.v128ConstF32(1.5, 2.25, 9, 9).f64x2PromoteLowF32x4().v128ConstF32(0.5, 0, 0, 0).f64x2PromoteLowF32x4().f64x2Add().f64x2ExtractLane(k))();
  assert.deepEqual([f64(0), f64(1)], [2, 2.25]);
  assert.throws(() => new CodeBuilder().i8x16Shuffle([0, 1]), { name: 'RangeError', message: /i8x16\.shuffle needs 16 lane indices/ });
});

test('structure errors: unbalanced blocks and a shared memory without a maximum are refused', () => {
  assert.throws(() => new CodeBuilder().end(), { message: 'wasm encoder: end() without an open block' });
  assert.throws(() => new CodeBuilder().block().finish(), { message: 'wasm encoder: 1 block(s) left open' });
  assert.throws(() => new ModuleBuilder().importMemory({ initial: 1, shared: true }), RangeError);
});
