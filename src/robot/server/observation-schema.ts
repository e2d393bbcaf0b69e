/**
 * What a policy server accepts as an observation, and the check every incoming frame goes through:
 * size bound, exactly one msgpack value, a map at the top, array maps consistent with their data (see
 * `msgpack-numpy.ts`), then the {@link ObservationSchema}: required keys present, each value of the kind,
 * dtype and shape it names. A failed check throws a {@link PolicyProtocolError} whose code says which
 * rule failed, and whose message names the key and the values.
 *
 * @example
 * // openpi's DROID observation: two images, joint and gripper state, and a prompt.
 * const schema: ObservationSchema = {
 *   'observation/exterior_image_1_left': { kind: 'ndarray', dtype: 'uint8', shape: [224, 224, 3] },
 *   'observation/wrist_image_left': { kind: 'ndarray', dtype: 'uint8', shape: [224, 224, 3] },
 *   'observation/joint_position': { kind: 'ndarray', dtype: ['float32', 'float64'], shape: [7] },
 *   'observation/gripper_position': { kind: 'ndarray', dtype: ['float32', 'float64'], shape: [1] },
 *   prompt: { kind: 'string', optional: true },
 * };
 * @module
 */
import { NdArray, NumpyScalar, NUMPY_DTYPES, type NumpyDType } from './ndarray.js';
import { describeValue, unpackMsgpackNumpy, type MsgpackNumpyValue } from './msgpack-numpy.js';
import { PolicyProtocolError } from './protocol.js';

/** One dimension of an expected shape: a size, or `null` for any size. */
export type Dim = number | null;

/** An `NdArray`, of one of the given dtypes (any when omitted) and of the given shape (any when omitted). */
export interface ArraySpec {
  /** The discriminant. */
  readonly kind: 'ndarray';
  /** The dtype, or the dtypes allowed. */
  readonly dtype?: NumpyDType | readonly NumpyDType[];
  /** The shape: rank and sizes, `null` where any size goes. `[]` is a 0-d array. */
  readonly shape?: readonly Dim[];
  /** Whether the key may be absent. */
  readonly optional?: boolean;
}

/** A string (e.g. openpi's `prompt`). */
export interface StringSpec {
  /** The discriminant. */
  readonly kind: 'string';
  /** Whether the key may be absent. */
  readonly optional?: boolean;
}

/** A number: a msgpack int or float, or a numeric numpy scalar. */
export interface NumberSpec {
  /** The discriminant. */
  readonly kind: 'number';
  /** Whether the key may be absent. */
  readonly optional?: boolean;
}

/** A nested map, checked against its own schema (e.g. ALOHA's `images: {cam_high, …}`). */
export interface MapSpec {
  /** The discriminant. */
  readonly kind: 'map';
  /** The nested map's schema. */
  readonly fields: ObservationSchema;
  /** Whether the key may be absent. */
  readonly optional?: boolean;
}

/** What one key of an observation must hold. */
export type FieldSpec = ArraySpec | StringSpec | NumberSpec | MapSpec;

/** An observation's keys and what each must hold. Keys not listed are allowed unless refused in {@link ValidationOptions}. */
export type ObservationSchema = { readonly [key: string]: FieldSpec };

/** A decoded observation: a map of decoded msgpack values. */
export type Observation = { readonly [key: string]: MsgpackNumpyValue };

/** How strictly to check. */
export interface ValidationOptions {
  /** Refuse keys the schema does not list (`unexpected_key`), at every level. Default false (openpi passes extra keys through). */
  readonly rejectExtraKeys?: boolean;
}

/** The limits and schema of {@link decodeObservation}. */
export interface DecodeObservationOptions extends ValidationOptions {
  /** Largest frame accepted, in bytes. */
  readonly maxFrameBytes: number;
  /** The schema to check against; none means any map is accepted. */
  readonly schema?: ObservationSchema;
  /** Nesting depth allowed (see `unpackMsgpackNumpy`). */
  readonly maxDepth?: number;
}

function dtypesOf(spec: ArraySpec): readonly NumpyDType[] | undefined {
  return spec.dtype === undefined ? undefined : typeof spec.dtype === 'string' ? [spec.dtype] : spec.dtype;
}

const shapeText = (shape: readonly Dim[]): string => `[${shape.map((d) => (d === null ? '*' : d)).join(', ')}]`;

/** Throws unless `schema` is well formed (known kinds and dtypes, shapes of non-negative integers or `null`). */
export function checkSchema(schema: ObservationSchema, path = 'schema'): void {
  if (typeof schema !== 'object' || schema === null) throw new Error(`checkSchema: ${path} must be an object of field specs`);
  for (const [key, spec] of Object.entries(schema)) {
    const at = `${path}.${key}`;
    if (typeof spec !== 'object' || spec === null) throw new Error(`checkSchema: ${at} must be a field spec, got ${String(spec)}`);
    if (spec.kind === 'map') checkSchema(spec.fields, at);
    else if (spec.kind === 'ndarray') {
      const bad = dtypesOf(spec)?.find((d) => !NUMPY_DTYPES.includes(d));
      if (bad !== undefined) throw new Error(`checkSchema: ${at} has unknown dtype ${JSON.stringify(bad)}`);
      if (spec.shape !== undefined && !spec.shape.every((d) => d === null || (Number.isSafeInteger(d) && d >= 0))) {
        throw new Error(`checkSchema: ${at} shape ${JSON.stringify(spec.shape)} must hold non-negative integers or null`);
      }
    } else if (spec.kind !== 'string' && spec.kind !== 'number') {
      throw new Error(`checkSchema: ${at} has unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    }
  }
}

function isMap(v: unknown): v is Record<string, MsgpackNumpyValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof NdArray) && !(v instanceof NumpyScalar);
}

function checkField(value: MsgpackNumpyValue, spec: FieldSpec, at: string, options: ValidationOptions): void {
  const wrongType = (want: string): PolicyProtocolError => new PolicyProtocolError('wrong_type', `${at}: expected ${want}, got ${describeValue(value)}`);
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') throw wrongType('a string');
      return;
    case 'number':
      if (typeof value !== 'number' && !(value instanceof NumpyScalar && value.dtype !== 'bool')) throw wrongType('a number');
      return;
    case 'map':
      if (!isMap(value)) throw wrongType('a map');
      return checkMap(value, spec.fields, at, options);
    case 'ndarray': {
      if (!(value instanceof NdArray)) throw wrongType('an ndarray');
      const dtypes = dtypesOf(spec);
      if (dtypes !== undefined && !dtypes.includes(value.dtype)) {
        throw new PolicyProtocolError('wrong_dtype', `${at}: expected dtype ${dtypes.join(' or ')}, got ${value.dtype}`);
      }
      const shape = spec.shape;
      if (shape !== undefined && (shape.length !== value.shape.length || shape.some((d, i) => d !== null && d !== value.shape[i]))) {
        throw new PolicyProtocolError('wrong_shape', `${at}: expected shape ${shapeText(shape)}, got [${value.shape.join(', ')}]`);
      }
    }
  }
}

function checkMap(map: Record<string, MsgpackNumpyValue>, schema: ObservationSchema, path: string, options: ValidationOptions): void {
  for (const [key, spec] of Object.entries(schema)) {
    const at = `${path}.${key}`;
    if (!Object.prototype.hasOwnProperty.call(map, key)) {
      if (spec.optional) continue;
      throw new PolicyProtocolError('missing_key', `${at}: required key is missing (keys present: ${Object.keys(map).join(', ') || 'none'})`);
    }
    checkField(map[key]!, spec, at, options);
  }
  if (options.rejectExtraKeys) {
    const extra = Object.keys(map).find((k) => !Object.prototype.hasOwnProperty.call(schema, k));
    if (extra !== undefined) throw new PolicyProtocolError('unexpected_key', `${path}.${extra}: key is not in the schema`);
  }
}

/**
 * Checks a decoded value against `schema` and returns it as an {@link Observation}. Throws a
 * {@link PolicyProtocolError}: `not_a_map`, `missing_key`, `unexpected_key`, `wrong_type`, `wrong_dtype`
 * or `wrong_shape`.
 */
export function validateObservation(value: MsgpackNumpyValue, schema: ObservationSchema | undefined, options: ValidationOptions = {}): Observation {
  if (!isMap(value)) throw new PolicyProtocolError('not_a_map', `frame: an observation must be a map, got ${describeValue(value)}`);
  if (schema !== undefined) checkMap(value, schema, 'frame', options);
  return value;
}

/**
 * Decodes and checks one incoming frame: `frame_too_large` beyond `maxFrameBytes`, then everything
 * `unpackMsgpackNumpy` and {@link validateObservation} check, in that order.
 */
export function decodeObservation(bytes: Uint8Array, options: DecodeObservationOptions): Observation {
  if (bytes.byteLength > options.maxFrameBytes) {
    throw new PolicyProtocolError('frame_too_large', `frame: ${bytes.byteLength} bytes is over the limit of ${options.maxFrameBytes}`);
  }
  return validateObservation(unpackMsgpackNumpy(bytes, { maxDepth: options.maxDepth }), options.schema, options);
}
