// openpi's msgpack_numpy wire format: the Python-written fixtures of test/fixtures/openpi decode to what
// expected.json describes, and our encoder writes the same bytes from that description; arrays of every
// dtype and odd shape round-trip; plain values encode exactly as @msgpack/msgpack encodes them; malformed
// frames are refused with the right code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { encode as referenceEncode, ExtData } from '@msgpack/msgpack';
import { NdArray, NumpyScalar, NUMPY_DTYPES, itemSize, numpyDTypeString, type NdArrayData, type NumpyDType } from '../../../src/robot/server/ndarray.js';
import { packMsgpackNumpy, unpackMsgpackNumpy } from '../../../src/robot/server/msgpack-numpy.js';
import { PolicyProtocolError, type PolicyErrorCode } from '../../../src/robot/server/protocol.js';
import { hex, normalize } from './helpers.js';

// The compiled test lives in build/test/robot/server/; the fixtures stay in the source tree.
const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures', 'openpi');
interface Case {
  file: string;
  identical: boolean;
  why?: string;
  value: unknown;
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { cases: Case[] };
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

const CTORS: Record<NumpyDType, new (b: ArrayBuffer) => NdArrayData> = {
  bool: Uint8Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float16: Uint16Array, float32: Float32Array, float64: Float64Array,
};

/** The JavaScript value expected.json describes, built without our decoder. */
function build(t: unknown): unknown {
  if (Array.isArray(t)) return t.map(build);
  if (typeof t !== 'object' || t === null) return t;
  const o = t as Record<string, any>;
  if ('$ndarray' in o) {
    const { dtype, shape, hex: h } = o.$ndarray as { dtype: NumpyDType; shape: number[]; hex: string };
    const bytes = Uint8Array.from(Buffer.from(h, 'hex'));
    return new NdArray(dtype, shape, new CTORS[dtype](bytes.buffer));
  }
  if ('$npgeneric' in o) return new NumpyScalar(o.$npgeneric.dtype, o.$npgeneric.value);
  if ('$bytes' in o) return Uint8Array.from(Buffer.from(o.$bytes, 'hex'));
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, build(v)]));
}

function rejectsWith(code: PolicyErrorCode, f: () => unknown): void {
  assert.throws(f, (e: unknown) => e instanceof PolicyProtocolError && e.code === code, `expected a ${code} error`);
}

describe('msgpack-numpy: openpi-written fixtures', () => {
  assert.ok(expected.cases.length >= 5);
  for (const c of expected.cases) {
    test(`${c.file} decodes to its description`, () => {
      assert.deepStrictEqual(normalize(unpackMsgpackNumpy(fixture(c.file))), normalize(build(c.value)));
    });
    if (c.identical) {
      test(`${c.file}: our encoding of the same data is byte-identical to Python's`, () => {
        assert.equal(hex(packMsgpackNumpy(build(c.value))), hex(fixture(c.file)));
      });
    } else {
      test(`${c.file}: re-encoding differs only as documented (${c.why}), and means the same`, () => {
        const ours = packMsgpackNumpy(unpackMsgpackNumpy(fixture(c.file)));
        assert.notEqual(hex(ours), hex(fixture(c.file)));
        assert.deepStrictEqual(normalize(unpackMsgpackNumpy(ours)), normalize(build(c.value)));
      });
    }
  }

  test('array maps have bin keys in openpi order: __ndarray__, data, dtype, shape', () => {
    const bytes = packMsgpackNumpy(NdArray.from(new Float32Array([1, 2])));
    const bin = (s: string): string => `c4${s.length.toString(16).padStart(2, '0')}${Buffer.from(s).toString('hex')}`;
    assert.equal(hex(bytes.subarray(0, 1)), '84');
    const text = hex(bytes);
    const at = ['__ndarray__', 'data', 'dtype', 'shape'].map((k) => text.indexOf(bin(k)));
    assert.ok(at.every((p, i) => p > 0 && (i === 0 || p > at[i - 1]!)), `keys at ${at}`);
    assert.ok(text.includes(Buffer.from(numpyDTypeString('float32')).toString('hex')));
  });
});

const DTYPE_ARB = fc.constantFrom<NumpyDType>(...NUMPY_DTYPES);
const SHAPE_ARB = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });

describe('msgpack-numpy: arrays and scalars round-trip', () => {
  test('an NdArray of any dtype and shape (0-d, empty, odd sizes) comes back with the same dtype, shape and bytes', () => {
    fc.assert(
      fc.property(DTYPE_ARB, SHAPE_ARB, fc.integer(), (dtype, shape, seed) => {
        const size = shape.reduce((a, b) => a * b, 1);
        const bytes = new Uint8Array(size * itemSize(dtype));
        for (let i = 0; i < bytes.length; i++) bytes[i] = dtype === 'bool' ? (seed >> i % 31) & 1 : (seed * (i + 7) * 2654435761) >>> 24;
        const a = new NdArray(dtype, shape, new CTORS[dtype](bytes.buffer));
        const back = unpackMsgpackNumpy(packMsgpackNumpy({ a, nested: [a] })) as { a: NdArray; nested: NdArray[] };
        for (const b of [back.a, back.nested[0]!]) {
          assert.ok(b instanceof NdArray);
          assert.equal(b.dtype, dtype);
          assert.deepStrictEqual([...b.shape], shape);
          assert.equal(hex(b.data), hex(bytes));
        }
      }),
      { numRuns: 200 },
    );
  });

  test('float32/float64/int32/uint8/bool values survive exactly, NaN and -0 included', () => {
    const cases: [NumpyDType, number[], (number | boolean)[]][] = [
      ['float32', [2, 1, 3], [NaN, -0, Infinity, -Infinity, 1.5, 3.4028234663852886e38]],
      ['float64', [], [5e-324]],
      ['int32', [3, 1], [-2147483648, 2147483647, 0]],
      ['uint8', [1, 1, 1, 5], [0, 1, 127, 128, 255]],
      ['bool', [2, 2], [true, false, false, true]],
    ];
    for (const [dtype, shape, values] of cases) {
      const a = NdArray.fromValues(dtype, shape, values);
      const b = unpackMsgpackNumpy(packMsgpackNumpy(a)) as NdArray;
      assert.equal(hex(b.data), hex(a.data), dtype);
      assert.deepStrictEqual([...b.data].map((x) => (typeof x === 'number' && dtype === 'bool' ? x === 1 : x)), values.map((x) => x), dtype);
    }
  });

  test('numpy scalars round-trip with their dtype; floats travel as float 64 like Python item()', () => {
    for (const s of [new NumpyScalar('float32', 1.5), new NumpyScalar('int64', -7), new NumpyScalar('uint64', 2n ** 64n - 1n), new NumpyScalar('bool', false), new NumpyScalar('float16', 2)]) {
      const bytes = packMsgpackNumpy(s);
      assert.deepStrictEqual(normalize(unpackMsgpackNumpy(bytes)), normalize(s));
      if (s.dtype.startsWith('float')) assert.ok(hex(bytes).includes(`cb${Buffer.from(new Float64Array([Number(s.value)]).buffer).reverse().toString('hex')}`));
    }
  });

  test('other typed arrays encode as 1-D arrays of their dtype; Uint8Array stays bytes', () => {
    const back = unpackMsgpackNumpy(packMsgpackNumpy({ f: new Float64Array([1, 2, 3]), b: new Uint8Array([9]) })) as { f: NdArray; b: Uint8Array };
    assert.equal(back.f.dtype, 'float64');
    assert.deepStrictEqual([...back.f.shape], [3]);
    assert.ok(back.b instanceof Uint8Array && !(back.b instanceof NdArray));
  });
});

// JSON-like values whose encoding has one correct form: no integral floats, no index-like keys.
const plainArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 31) - 5, max: 2 ** 32 + 5 }),
    fc.maxSafeInteger(),
    fc.double({ noDefaultInfinity: false }).filter((x) => !Number.isInteger(x) && !Number.isNaN(x)),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !/^\d+$/.test(k) && k !== '__proto__' && !k.startsWith('__n')), tie('value'), { maxKeys: 20 }),
  ),
})).value;

describe('msgpack-numpy: plain values', () => {
  test('encode exactly as @msgpack/msgpack encodes them (smallest int forms, str 8, bin, maps in insertion order)', () => {
    fc.assert(
      fc.property(plainArb, (v) => {
        assert.equal(hex(packMsgpackNumpy(v)), hex(referenceEncode(v)));
      }),
      { numRuns: 300 },
    );
  });

  test('decode back to the same value', () => {
    fc.assert(fc.property(plainArb, (v) => assert.deepStrictEqual(normalize(unpackMsgpackNumpy(packMsgpackNumpy(v))), normalize(v))), { numRuns: 200 });
  });

  test('long strings and byte strings take the 16- and 32-bit length forms', () => {
    for (const n of [65535, 65536]) {
      const s = 'a'.repeat(n);
      const b = new Uint8Array(n).fill(7);
      assert.equal(hex(packMsgpackNumpy([s, b])), hex(referenceEncode([s, b])));
    }
  });
});

describe('msgpack-numpy: malformed frames are refused', () => {
  const ndarrayMap = (over: Record<string, unknown>): Uint8Array =>
    referenceEncode({ __ndarray__: true, data: new Uint8Array(8), dtype: '<f4', shape: [2], ...over });

  test('array maps with str keys (a naive JavaScript peer) are accepted too', () => {
    const a = unpackMsgpackNumpy(ndarrayMap({})) as NdArray;
    assert.equal(a.dtype, 'float32');
    assert.deepStrictEqual([...a.shape], [2]);
  });

  test('data length inconsistent with dtype × shape: invalid_ndarray', () => {
    rejectsWith('invalid_ndarray', () => unpackMsgpackNumpy(ndarrayMap({ shape: [3] })));
    rejectsWith('invalid_ndarray', () => unpackMsgpackNumpy(ndarrayMap({ dtype: '<f8' })));
    rejectsWith('invalid_ndarray', () => unpackMsgpackNumpy(ndarrayMap({ dtype: '<f4', shape: [1, 1] })));
  });

  test('unsupported dtypes, bad shapes, non-bytes data, bool bytes other than 0/1: invalid_ndarray', () => {
    for (const over of [{ dtype: '<U1' }, { dtype: '<c8' }, { dtype: '|O' }, { dtype: 5 }, { shape: [-2, -1] }, { shape: [2.5] }, { shape: 'x' }, { data: 'abcdefgh' }]) {
      rejectsWith('invalid_ndarray', () => unpackMsgpackNumpy(ndarrayMap(over)));
    }
    rejectsWith('invalid_ndarray', () => unpackMsgpackNumpy(ndarrayMap({ dtype: '|b1', shape: [8], data: new Uint8Array(8).fill(2) })));
    rejectsWith('invalid_ndarray', () => unpackMsgpackNumpy(referenceEncode({ __npgeneric__: true, data: 'x', dtype: '<f4' })));
  });

  test('bytes that are not exactly one msgpack value: not_msgpack', () => {
    const good = packMsgpackNumpy({ a: 1 });
    rejectsWith('not_msgpack', () => unpackMsgpackNumpy(good.subarray(0, good.length - 1)));
    rejectsWith('not_msgpack', () => unpackMsgpackNumpy(new Uint8Array([...good, 0])));
    rejectsWith('not_msgpack', () => unpackMsgpackNumpy(new Uint8Array([0xc1])));
    rejectsWith('not_msgpack', () => unpackMsgpackNumpy(new Uint8Array(0)));
  });

  test('extension types, too deep nesting, non-UTF-8 or __proto__ bin keys: invalid_frame', () => {
    rejectsWith('invalid_frame', () => unpackMsgpackNumpy(referenceEncode({ x: new ExtData(5, new Uint8Array(2)) })));
    rejectsWith('invalid_frame', () => unpackMsgpackNumpy(referenceEncode({ t: new Date(0) })));
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    rejectsWith('invalid_frame', () => unpackMsgpackNumpy(referenceEncode(deep)));
    assert.doesNotThrow(() => unpackMsgpackNumpy(referenceEncode(deep), { maxDepth: 64 }));
    // A map {bin(key): 1}.
    const binKeyMap = (key: number[]): Uint8Array => new Uint8Array([0x81, 0xc4, key.length, ...key, 0x01]);
    rejectsWith('invalid_frame', () => unpackMsgpackNumpy(binKeyMap([0xff, 0xfe])));
    rejectsWith('invalid_frame', () => unpackMsgpackNumpy(binKeyMap([...Buffer.from('__proto__')])));
  });

  test('the encoder refuses what msgpack cannot carry', () => {
    assert.throws(() => packMsgpackNumpy({ f: () => 1 }), /packMsgpackNumpy/);
    assert.throws(() => packMsgpackNumpy(new Map()), /packMsgpackNumpy/);
    assert.throws(() => packMsgpackNumpy(2n ** 64n), /packMsgpackNumpy/);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    assert.throws(() => packMsgpackNumpy(cycle), /deeper/);
  });
});
