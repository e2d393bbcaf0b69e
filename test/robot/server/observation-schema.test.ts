// Frame validation: size bound, decoding, a map at the top, and the schema (required keys, kinds, dtypes,
// shapes with wildcards, nested maps, extra keys). Each failure carries the code of the rule that failed;
// a frame that satisfies the schema passes whatever else it holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode as referenceEncode } from '@msgpack/msgpack';
import { NdArray, NumpyScalar, NUMPY_DTYPES, type NumpyDType } from '../../../src/robot/server/ndarray.js';
import { packMsgpackNumpy } from '../../../src/robot/server/msgpack-numpy.js';
import { checkSchema, decodeObservation, type ObservationSchema } from '../../../src/robot/server/observation-schema.js';
import { PolicyProtocolError, type PolicyErrorCode } from '../../../src/robot/server/protocol.js';

const SCHEMA: ObservationSchema = {
  'observation/image': { kind: 'ndarray', dtype: 'uint8', shape: [4, 5, 3] },
  'observation/state': { kind: 'ndarray', dtype: ['float32', 'float64'], shape: [null] },
  images: { kind: 'map', fields: { cam_high: { kind: 'ndarray', dtype: 'uint8', shape: [3, null, null] } } },
  step: { kind: 'number', optional: true },
  prompt: { kind: 'string', optional: true },
};

const good = (): Record<string, unknown> => ({
  'observation/image': NdArray.zeros('uint8', [4, 5, 3]),
  'observation/state': NdArray.zeros('float32', [14]),
  images: { cam_high: NdArray.zeros('uint8', [3, 2, 7]) },
  prompt: 'stack the cups',
});

function codeOf(bytes: Uint8Array, options: { maxFrameBytes?: number; rejectExtraKeys?: boolean } = {}): PolicyErrorCode | 'ok' {
  try {
    decodeObservation(bytes, { maxFrameBytes: options.maxFrameBytes ?? 1 << 20, schema: SCHEMA, rejectExtraKeys: options.rejectExtraKeys });
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof PolicyProtocolError, String(e));
    return e.code;
  }
}

describe('observation schema: each rule refuses with its own code', () => {
  test('a frame that satisfies the schema is returned decoded; optional keys may be absent or present', () => {
    const obs = decodeObservation(packMsgpackNumpy({ ...good(), step: new NumpyScalar('int64', 3) }), { maxFrameBytes: 1 << 20, schema: SCHEMA });
    assert.ok(obs['observation/state'] instanceof NdArray);
    assert.equal(obs.prompt, 'stack the cups');
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), prompt: undefined })), 'ok');
  });

  test('size bound: a frame one byte over maxFrameBytes is frame_too_large, at the bound it passes', () => {
    const bytes = packMsgpackNumpy(good());
    assert.equal(codeOf(bytes, { maxFrameBytes: bytes.length }), 'ok');
    assert.equal(codeOf(bytes, { maxFrameBytes: bytes.length - 1 }), 'frame_too_large');
  });

  test('not msgpack, not a map', () => {
    assert.equal(codeOf(new TextEncoder().encode('{"json": true}')), 'not_msgpack');
    assert.equal(codeOf(packMsgpackNumpy([good()])), 'not_a_map');
    assert.equal(codeOf(packMsgpackNumpy(NdArray.zeros('uint8', [4, 5, 3]))), 'not_a_map');
    assert.equal(codeOf(packMsgpackNumpy('observation')), 'not_a_map');
  });

  test('every required key, at any level, is checked for presence', () => {
    for (const key of ['observation/image', 'observation/state', 'images']) {
      const obs = good();
      delete obs[key];
      assert.equal(codeOf(packMsgpackNumpy(obs)), 'missing_key', key);
    }
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), images: {} })), 'missing_key');
  });

  test('wrong kinds: wrong_type', () => {
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), 'observation/image': 'pixels' })), 'wrong_type');
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), images: NdArray.zeros('uint8', [3, 2, 7]) })), 'wrong_type');
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), prompt: 7 })), 'wrong_type');
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), step: 'three' })), 'wrong_type');
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), 'observation/state': [1, 2, 3] })), 'wrong_type');
  });

  test('any dtype outside the allowed set is wrong_dtype; each allowed one passes', () => {
    fc.assert(
      fc.property(fc.constantFrom<NumpyDType>(...NUMPY_DTYPES), (dtype) => {
        const code = codeOf(packMsgpackNumpy({ ...good(), 'observation/state': NdArray.zeros(dtype, [14]) }));
        assert.equal(code, dtype === 'float32' || dtype === 'float64' ? 'ok' : 'wrong_dtype');
      }),
    );
  });

  test('shapes: fixed sizes must match, null matches any size, the rank must match', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 4 }), (shape) => {
        const image = codeOf(packMsgpackNumpy({ ...good(), 'observation/image': NdArray.zeros('uint8', shape) }));
        assert.equal(image, shape.length === 3 && shape[0] === 4 && shape[1] === 5 && shape[2] === 3 ? 'ok' : 'wrong_shape');
        const cam = codeOf(packMsgpackNumpy({ ...good(), images: { cam_high: NdArray.zeros('uint8', shape) } }));
        assert.equal(cam, shape.length === 3 && shape[0] === 3 ? 'ok' : 'wrong_shape');
      }),
    );
  });

  test('array maps inconsistent with their data are invalid_ndarray before any schema check', () => {
    const lying = referenceEncode({ ...good(), 'observation/state': { __ndarray__: true, data: new Uint8Array(10), dtype: '<f4', shape: [14] } });
    assert.equal(codeOf(lying), 'invalid_ndarray');
  });

  test('extra keys pass by default and are unexpected_key when refused', () => {
    const bytes = packMsgpackNumpy({ ...good(), extra: 1 });
    assert.equal(codeOf(bytes), 'ok');
    assert.equal(codeOf(bytes, { rejectExtraKeys: true }), 'unexpected_key');
    assert.equal(codeOf(packMsgpackNumpy({ ...good(), images: { cam_high: NdArray.zeros('uint8', [3, 1, 1]), other: 1 } }), { rejectExtraKeys: true }), 'unexpected_key');
  });

  test('error messages name the key and the values', () => {
    const bytes = packMsgpackNumpy({ ...good(), 'observation/image': NdArray.zeros('uint8', [4, 5, 4]) });
    assert.throws(() => decodeObservation(bytes, { maxFrameBytes: 1 << 20, schema: SCHEMA }), /observation\/image.*\[4, 5, 3\].*\[4, 5, 4\]/);
  });

  test('malformed schemas are refused at once', () => {
    assert.throws(() => checkSchema({ a: { kind: 'ndarray', dtype: 'float128' as NumpyDType } }), /float128/);
    assert.throws(() => checkSchema({ a: { kind: 'ndarray', shape: [-1] } }), /shape/);
    assert.throws(() => checkSchema({ a: { kind: 'tensor' } as never }), /kind/);
    assert.throws(() => checkSchema({ m: { kind: 'map', fields: { b: { kind: 'ndarray', shape: [1.5] } } } }), /m\.b/);
    assert.doesNotThrow(() => checkSchema(SCHEMA));
  });
});
