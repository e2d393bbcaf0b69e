/**
 * safetensors: the numpy-written fixtures of test/fixtures/safetensors (see scripts/fixtures/README.md)
 * are read bit for bit, the corrupt ones are refused with `safetensors:` errors, our writer reproduces the
 * reference writer's bytes, F16/BF16 narrowing matches the exhaustive reference, and everything round-trips.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runDenoScript } from '../helpers/deno.js';
import { manualSeed, tensor, type DType, type Tensor, type TypedArray } from '../../src/tensor/index.js';
import { deserialize, serialize, type SafetensorsWriteDType } from '../../src/nn/index.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32, toBFloat16Bits, toFloat16Bits } from '../../src/nn/half.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { loadSafetensors, saveSafetensors } from '../../src/node/index.js';

interface ExpectedTensor {
  stored: string;
  shape: number[];
  dtype: DType;
  hex: string;
}
interface Expected {
  valid: Record<string, { metadata: Record<string, string>; rewritable: boolean; order: string[] | null; tensors: Record<string, ExpectedTensor> }>;
  corrupt: Record<string, string[]>;
  conversions: Record<'from_f32' | 'from_f64', { bits: string[]; f16: string[]; bf16: string[] }>;
}

// The compiled test lives in build/test/nn/; the fixtures stay in the source tree.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DIR = resolve(REPO_ROOT, 'test', 'fixtures', 'safetensors');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const bytesOf = (t: Tensor): string => hex(t.dataSync());
const hex16 = (a: Uint16Array): string[] => Array.from(a, (h) => h.toString(16).padStart(4, '0'));

function assertSafetensorsError(fn: () => unknown, words: readonly string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
    assert.match(e.message, /^safetensors: /);
    for (const w of words) assert.ok(e.message.includes(w), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(w)}`);
    return true;
  });
}

/** Writes `tensors` as they were stored in the fixture `name` (same dtypes and metadata). */
function rewrite(name: string): Uint8Array {
  const { tensors, dtypes, metadata } = deserialize(fixture(name));
  const meta = Object.keys(expected.valid[name]!.metadata).length > 0 ? { metadata } : {};
  return serialize(tensors, { ...meta, dtypes: dtypes as Record<string, SafetensorsWriteDType> });
}

describe('safetensors: reading the numpy-written fixtures', () => {
  test('every fixture file is described in expected.json', () => {
    const described = new Set([...Object.keys(expected.valid), ...Object.keys(expected.corrupt), 'expected.json']);
    assert.deepEqual(readdirSync(DIR).filter((f) => !described.has(f)), []);
  });

  for (const [name, want] of Object.entries(expected.valid)) {
    test(`${name}: names, order, dtypes, shapes, metadata and values bit for bit`, () => {
      const got = deserialize(fixture(name));
      if (want.order) assert.deepEqual(Object.keys(got.tensors), want.order, 'tensors come in data order');
      assert.deepEqual(Object.keys(got.tensors).sort(), Object.keys(want.tensors).sort());
      assert.deepEqual(got.metadata, want.metadata);
      for (const [k, w] of Object.entries(want.tensors)) {
        const t = got.tensors[k]!;
        assert.equal(got.dtypes[k], w.stored, `${k}: stored dtype`);
        assert.equal(t.dtype, w.dtype, `${k}: dtype`);
        assert.deepEqual(t.shape, w.shape, `${k}: shape`);
        assert.equal(bytesOf(t), w.hex, `${k}: bits`);
      }
    });
  }

  test('reads from an ArrayBuffer and from a Uint8Array at an odd offset', () => {
    const bytes = fixture('multi.safetensors');
    const odd = new Uint8Array(bytes.length + 3);
    odd.set(bytes, 3);
    const a = deserialize(bytes.slice().buffer);
    const b = deserialize(odd.subarray(3));
    for (const k of Object.keys(a.tensors)) assert.equal(bytesOf(b.tensors[k]!), bytesOf(a.tensors[k]!));
  });

  for (const [name, words] of Object.entries(expected.corrupt)) {
    test(`${name} is refused with a safetensors error naming ${words.join(' / ')}`, () => {
      assertSafetensorsError(() => deserialize(fixture(name)), words);
    });
  }

  test('every truncation of a valid file is refused', () => {
    const bytes = fixture('multi.safetensors');
    for (let n = 0; n < bytes.length; n++) assertSafetensorsError(() => deserialize(bytes.subarray(0, n)), []);
  });

  test('random byte corruption gives a safetensors error or a parse, never another kind of failure', () => {
    const bytes = fixture('multi.safetensors');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = bytes.slice();
        for (const [i, v] of edits) b[i] = v;
        try {
          deserialize(b);
        } catch (e) {
          assert.ok(e instanceof Error && e.message.startsWith('safetensors: '), String(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('safetensors: writing as the reference writer does', () => {
  for (const [name, want] of Object.entries(expected.valid)) {
    if (!want.rewritable) continue;
    test(`${name}: our bytes equal the fixture's`, () => {
      assert.equal(hex(rewrite(name)), hex(fixture(name)));
    });
  }

  test("the reference implementation's own test vectors", () => {
    // From huggingface/safetensors tensor.rs: test_serialization, test_empty.
    const attn = tensor(Float32Array.from([0, 1, 2, 3, 4, 5]), { shape: [1, 2, 3] });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    const data = Buffer.from(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
    const le = (n: number): Buffer => Buffer.from([n, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(hex(serialize({ 'attn.0': attn })), Buffer.concat([le(64), Buffer.from(header), data]).toString('hex'));
    assert.equal(hex(serialize({})), Buffer.concat([le(8), Buffer.from('{}      ')]).toString('hex'));
    const meta = '{"__metadata__":{"framework":"pt"}}     ';
    assert.equal(hex(serialize({}, { metadata: { framework: 'pt' } })), Buffer.concat([le(40), Buffer.from(meta)]).toString('hex'));
  });

  test('the data starts at a multiple of 8 bytes and the header is padded with spaces', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = serialize({ [name]: tensor([1, 2]) });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      assert.equal(n % 8, 0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      assert.match(text, /^\{.*\} *$/);
    }
  });

  test('names sort by dtype (widest first), then by code point, whatever the insertion order', () => {
    const t = (dtype: DType): Tensor => tensor([1, 0], { dtype });
    const a = { b: t('float32'), a: t('float32'), '\u{1F600}': t('float32'), '\uFFFD': t('float32'), i: t('int32'), d: t('float64'), m: t('bool') };
    const bytes = serialize(a);
    const reversed = serialize(Object.fromEntries(Object.entries(a).reverse()));
    assert.equal(hex(bytes), hex(reversed));
    assert.deepEqual(Object.keys(deserialize(bytes).tensors), ['d', 'a', 'b', '\uFFFD', '\u{1F600}', 'i', 'm']);
  });

  test('a non-contiguous view is written in row-major order', () => {
    const x = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] }).transpose();
    assert.equal(hex(serialize({ x })), hex(serialize({ x: x.contiguous() })));
  });

  test('a tensor named __proto__ or constructor is an ordinary entry', () => {
    const tensors: Record<string, Tensor> = {};
    Object.defineProperty(tensors, '__proto__', { value: tensor([1]), enumerable: true });
    tensors['constructor'] = tensor([2]);
    const got = deserialize(serialize(tensors)).tensors;
    assert.deepEqual(Object.keys(got).sort(), ['__proto__', 'constructor']);
    assert.deepEqual(Array.from(got['constructor']!.dataSync()), [2]);
    assert.deepEqual(Array.from(Object.getOwnPropertyDescriptor(got, '__proto__')!.value.dataSync()), [1]);
  });

  test('bad writer inputs are refused with safetensors errors', () => {
    const x = tensor([1, 2, 3], { dtype: 'int32' });
    assertSafetensorsError(() => serialize({ x }, { dtypes: { x: 'F16' } }), ["'x'", 'int32', 'F16']);
    assertSafetensorsError(() => serialize({ x }, { dtypes: { y: 'I64' } }), ["'y'"]);
    assertSafetensorsError(() => serialize({ __metadata__: x }), ['__metadata__', 'reserved']);
    assertSafetensorsError(() => serialize({ ['a\uD800']: x }), ['lone surrogate']);
    assertSafetensorsError(() => serialize({ x: [1, 2] as unknown as Tensor }), ["'x'", 'not a Tensor']);
    assertSafetensorsError(() => serialize({ x }, { metadata: { k: 3 as unknown as string } }), ["'k'", 'string']);
  });
});

describe('safetensors: F16 and BF16 conversions', () => {
  const cases = expected.conversions;
  const f32In = new Uint32Array(cases.from_f32.bits.map((h) => parseInt(h, 16)));
  const f64In = new BigUint64Array(cases.from_f64.bits.map((h) => BigInt(`0x${h}`)));

  test('float32 → F16 / BF16 matches the exhaustive reference (ties, subnormals, overflow, NaN payloads)', () => {
    const x = new Float32Array(f32In.buffer);
    assert.deepEqual(hex16(toFloat16Bits(x)), cases.from_f32.f16);
    assert.deepEqual(hex16(toBFloat16Bits(x)), cases.from_f32.bf16);
  });

  test('float64 → F16 / BF16 rounds once, directly from the double', () => {
    const x = new Float64Array(f64In.buffer);
    assert.deepEqual(hex16(toFloat16Bits(x)), cases.from_f64.f16);
    assert.deepEqual(hex16(toBFloat16Bits(x)), cases.from_f64.bf16);
    // 1 + 2^-11 + 2^-40 is above the tie: rounding through float32 first would give 1.
    assert.equal(toFloat16Bits(Float64Array.of(1 + 2 ** -11 + 2 ** -40))[0], 0x3c01);
    assert.equal(toBFloat16Bits(Float64Array.of(1 + 2 ** -8 + 2 ** -30))[0], 0x3f81);
  });

  test('the writer stores exactly those bits', () => {
    const x = tensor(new Float32Array(f32In.buffer), { shape: [f32In.length] });
    for (const [dt, want] of [['F16', cases.from_f32.f16], ['BF16', cases.from_f32.bf16]] as const) {
      const bytes = serialize({ x }, { dtypes: { x: dt } });
      const data = bytes.subarray(bytes.length - 2 * f32In.length);
      assert.deepEqual(hex16(new Uint16Array(data.slice().buffer)), want);
    }
  });

  test('widening is exact and narrowing inverts it on all 65536 bit patterns of each format', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f16 = float16BitsToFloat32(all);
    const bf16 = bfloat16BitsToFloat32(all);
    assert.deepEqual(toFloat16Bits(f16), all);
    assert.deepEqual(toBFloat16Bits(bf16), all);
    const notNaN = all.filter((h) => (h & 0x7c00) !== 0x7c00 || (h & 0x3ff) === 0);
    assert.deepEqual(toFloat16Bits(Float64Array.from(float16BitsToFloat32(notNaN))), notNaN);
    for (const h of [0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xc000]) {
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const v = (h & 0x8000 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : 2 ** (e - 15) * (1 + m / 1024));
      assert.equal(f16[h], v);
    }
  });

  test('F16 and BF16 checkpoints halve float32 weights and read back as the rounded values', () => {
    const x = tensor(Float32Array.from([0.1, -2.5, 1e-6, 70000]), { shape: [2, 2] });
    for (const [floatDType, narrow, widen] of [
      ['F16', toFloat16Bits, float16BitsToFloat32],
      ['BF16', toBFloat16Bits, bfloat16BitsToFloat32],
    ] as const) {
      const got = deserialize(serialize({ x }, { floatDType }));
      assert.equal(got.dtypes['x'], floatDType);
      assert.equal(got.tensors['x']!.dtype, 'float32');
      assert.equal(bytesOf(got.tensors['x']!), hex(widen(narrow(x.dataSync() as Float32Array))));
    }
  });
});

describe('safetensors: round trips', () => {
  const WRITABLE: Record<DType, SafetensorsWriteDType[]> = {
    float32: ['F32', 'F64', 'F16', 'BF16'],
    float64: ['F64', 'F32', 'F16', 'BF16'],
    int32: ['I32', 'I64'],
    bool: ['BOOL'],
  };
  const NAN_BITS = [0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xff812345];
  const word = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...NAN_BITS));
  const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
  const spec = fc.record({
    dtype: fc.constantFrom<DType>('float32', 'float64', 'int32', 'bool'),
    shape: shapeArb,
    words: fc.array(word, { minLength: 128, maxLength: 128 }),
    store: fc.nat(3),
  });

  function build(s: { dtype: DType; shape: number[]; words: number[] }): Tensor {
    const n = s.shape.reduce((a, d) => a * d, 1);
    const w = Uint32Array.from(s.words.slice(0, 2 * n));
    let data: TypedArray;
    if (s.dtype === 'float32') data = new Float32Array(w.buffer, 0, n);
    else if (s.dtype === 'float64') data = new Float64Array(w.buffer, 0, n);
    else if (s.dtype === 'int32') data = new Int32Array(w.buffer, 0, n);
    else data = Uint8Array.from(w.subarray(0, n), (v) => v & 1);
    return tensor(data, { shape: s.shape, dtype: s.dtype });
  }

  test('serialize then deserialize is bit-identical in the native dtypes (NaN payloads included)', () => {
    const names = fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 6 }).filter((s) => s !== '__metadata__'), { minLength: 0, maxLength: 5 });
    const meta = fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), fc.string({ unit: 'binary', maxLength: 8 }), { maxKeys: 3 });
    fc.assert(
      fc.property(names, fc.array(spec, { minLength: 5, maxLength: 5 }), meta, (ns, specs, metadata) => {
        const tensors: Record<string, Tensor> = {};
        ns.forEach((n, i) => Object.defineProperty(tensors, n, { value: build(specs[i]!), enumerable: true }));
        const bytes = serialize(tensors, { metadata });
        const got = deserialize(bytes);
        assert.deepEqual(Object.keys(got.tensors).sort(), [...ns].sort());
        assert.deepEqual({ ...got.metadata }, { ...metadata });
        for (const n of ns) {
          const [a, b] = [tensors[n]!, got.tensors[n]!];
          assert.equal(b.dtype, a.dtype);
          assert.deepEqual(b.shape, a.shape);
          assert.equal(bytesOf(b), bytesOf(a));
        }
        // Reading and writing back gives the same bytes.
        assert.equal(hex(serialize(got.tensors, { metadata: got.metadata })), hex(bytes));
      }),
      { numRuns: 200 },
    );
  });

  test('any stored dtype reads back as the converted values, and rewriting with the read dtypes is a fixed point', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const x = build(s);
        const store = WRITABLE[x.dtype][s.store % WRITABLE[x.dtype].length]!;
        const bytes = serialize({ x }, { dtypes: { x: store } });
        const got = deserialize(bytes);
        assert.equal(got.dtypes['x'], store);
        assert.deepEqual(got.tensors['x']!.shape, x.shape);
        const host = x.dataSync();
        const want: TypedArray =
          store === 'F16' ? float16BitsToFloat32(toFloat16Bits(host as Float32Array)) :
          store === 'BF16' ? bfloat16BitsToFloat32(toBFloat16Bits(host as Float32Array)) :
          store === 'F32' && x.dtype === 'float64' ? Float32Array.from(host) :
          store === 'F64' && x.dtype === 'float32' ? Float64Array.from(host) : host;
        const gotHost = got.tensors['x']!.dataSync();
        if ((store === 'F32' && x.dtype === 'float64') || (store === 'F64' && x.dtype === 'float32')) {
          // A NaN changes width through a number: compare NaN-ness there, bits elsewhere.
          const show = (a: TypedArray): unknown[] => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));
          assert.deepEqual(show(gotHost), show(want));
        } else {
          assert.equal(hex(gotHost), hex(want));
        }
        assert.equal(hex(serialize(got.tensors, { dtypes: { x: store } })), hex(bytes));
      }),
      { numRuns: 300 },
    );
  });
});

describe('safetensors: files in Node (being-ts/node)', () => {
  const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'being-ts-safetensors-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('saveSafetensors writes the serialize bytes atomically and leaves no temporary file', () =>
    withDir(async (dir) => {
      const path = join(dir, 'ckpt.safetensors');
      const tensors = deserialize(fixture('multi.safetensors'));
      const opts = { dtypes: tensors.dtypes as Record<string, SafetensorsWriteDType> };
      await saveSafetensors(path, tensors.tensors, opts);
      assert.deepEqual(readdirSync(dir), ['ckpt.safetensors']);
      assert.equal(hex(readFileSync(path)), hex(fixture('multi.safetensors')));
      const back = await loadSafetensors(path);
      for (const k of Object.keys(tensors.tensors)) assert.equal(bytesOf(back.tensors[k]!), bytesOf(tensors.tensors[k]!));
      assert.deepEqual(back.dtypes, tensors.dtypes);
      // Overwriting replaces the file; a failed save leaves the old one and no temporary file.
      await saveSafetensors(path, { y: tensor([1, 2, 3]) }, { metadata: { step: '2' } });
      assert.deepEqual(readdirSync(dir), ['ckpt.safetensors']);
      assert.deepEqual((await loadSafetensors(path)).metadata, { step: '2' });
      await assert.rejects(saveSafetensors(path, { y: tensor([1]) }, { dtypes: { y: 'I32' } }), /^Error: safetensors: /);
      await assert.rejects(saveSafetensors(join(dir, 'missing', 'x.safetensors'), { y: tensor([1]) }), /ENOENT/);
      assert.deepEqual(readdirSync(dir), ['ckpt.safetensors']);
      assert.deepEqual(Object.keys((await loadSafetensors(path)).tensors), ['y']);
    }));

  test('loadSafetensors refuses every corrupt fixture with the same error as deserialize', () =>
    withDir(async (dir) => {
      for (const name of Object.keys(expected.corrupt)) {
        const path = join(dir, name);
        writeFileSync(path, fixture(name));
        let want = '';
        try {
          deserialize(fixture(name));
        } catch (e) {
          want = (e as Error).message;
        }
        await assert.rejects(loadSafetensors(path), (e: Error) => {
          assert.equal(e.message, want, name);
          return true;
        });
      }
    }));

  test("a Linear's stateDict saved and loaded into a fresh Linear is bit-identical", () =>
    withDir(async (dir) => {
      manualSeed(1);
      const src = new Linear(5, 3);
      manualSeed(2);
      const dst = new Linear(5, 3);
      assert.notEqual(bytesOf(dst.weight), bytesOf(src.weight));
      const path = join(dir, 'linear.safetensors');
      await saveSafetensors(path, src.stateDict(), { metadata: { format: 'pt' } });
      const { tensors, metadata } = await loadSafetensors(path);
      assert.deepEqual(metadata, { format: 'pt' });
      assert.deepEqual(dst.loadStateDict(tensors), { missing: [], unexpected: [] });
      for (const [k, t] of Object.entries(src.stateDict())) assert.equal(bytesOf(dst.stateDict()[k]!), bytesOf(t), k);
      // The same in memory, through the runtime-neutral API.
      manualSeed(3);
      const mem = new Linear(5, 3);
      mem.loadStateDict(deserialize(serialize(src.stateDict())).tensors);
      assert.equal(bytesOf(mem.weight), bytesOf(src.weight));
      assert.equal(bytesOf(mem.bias!), bytesOf(src.bias!));
    }));
});

test('safetensors: the built runtime-neutral module runs in Deno', (t) => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'nn', 'safetensors.js'))) {
    t.skip('dist/ is not built (npm run build)');
    return;
  }
  const r = runDenoScript<{ runtime: string; bytes: string; values: string }>('test/deno/safetensors.deno.ts');
  assert.equal(r.status, 0, `deno failed:\n${r.stderr}`);
  const out = r.result!;
  const x = tensor(Float32Array.from([0.1, -2.5, NaN, 65520]), { shape: [2, 2] });
  assert.equal(out.runtime, 'deno');
  const y = tensor([1, -2], { dtype: 'int32' });
  assert.equal(out.bytes, hex(serialize({ x, y }, { dtypes: { x: 'BF16', y: 'I64' }, metadata: { by: 'deno' } })));
  assert.equal(out.values, hex(bfloat16BitsToFloat32(toBFloat16Bits(x.dataSync() as Float32Array))));
});
