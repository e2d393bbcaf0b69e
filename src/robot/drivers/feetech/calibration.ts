/**
 * Ticks ↔ joint units for Feetech arms, from a calibration file validated on load.
 *
 * A revolute joint: θ = direction · (ticks − zeroTicks) · 2π / 4096, so `zeroTicks` is the
 * present-position reading at θ = 0 (the homing offset, applied in software) and `direction` (±1) is the
 * sign that makes positive θ turn the joint's positive way. Inverse: ticks = round(zeroTicks +
 * direction · θ · 4096 / 2π). A gripper may instead map to an opening width in metres, linearly:
 * w = closedWidth + (ticks − closedTicks) · (openWidth − closedWidth) / (openTicks − closedTicks) —
 * the jaw is a lever, so this is the chord approximation the calibration's two points make exact at
 * both ends. `minTicks`/`maxTicks` bound what may be commanded.
 *
 * The file (JSON):
 *
 *     { "format": "being-ts/feetech-calibration", "version": 1,
 *       "joints": { "shoulder_pan": { "id": 1, "zeroTicks": 2048, "direction": 1, "minTicks": 700, "maxTicks": 3400 },
 *                   …,
 *                   "gripper": { "id": 6, "minTicks": 2000, "maxTicks": 3400,
 *                                "width": { "closedTicks": 2000, "openTicks": 3400, "closedWidth": 0, "openWidth": 0.08 } } } }
 *
 * Optional per joint: `homingOffsetRegister` — the value the servo's own Homing_Offset register (31)
 * must hold for these ticks to mean what the file says (LeRobot writes that register at calibration;
 * the driver checks it on connect). {@link fromLeRobotCalibration} converts LeRobot's calibration file.
 * @module
 */
import { TICKS_PER_REVOLUTION, registerRange } from './control-table.js';
import { MAX_SERVO_ID } from './protocol.js';

/** The SO-100/SO-101 joints in LeRobot's order (ids 1…6 on the bus). */
export const SO101_JOINT_NAMES: readonly string[] = Object.freeze(['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);

/** The `format` string of a calibration file. */
export const CALIBRATION_FORMAT = 'being-ts/feetech-calibration';

/** A gripper's ticks → opening-width map (two points of a line). */
export interface GripperWidthMap {
  /** Ticks with the jaws closed. */
  readonly closedTicks: number;
  /** Ticks with the jaws open. */
  readonly openTicks: number;
  /** Width at `closedTicks`, m (≥ 0, usually 0). */
  readonly closedWidth: number;
  /** Width at `openTicks`, m (> closedWidth). */
  readonly openWidth: number;
}

/** One joint's calibration. */
export interface JointCalibration {
  /** Servo id on the bus (0…253). */
  readonly id: number;
  /** Present-position ticks at 0 rad (revolute joints; ignored with `width`). */
  readonly zeroTicks: number;
  /** +1 or −1: the sign between ticks and radians (revolute joints; ignored with `width`). */
  readonly direction: 1 | -1;
  /** Lowest commandable ticks (0…4095). */
  readonly minTicks: number;
  /** Highest commandable ticks (0…4095, > minTicks). */
  readonly maxTicks: number;
  /** Present: the joint is a gripper reported as an opening width in metres. */
  readonly width?: GripperWidthMap;
  /** The value the servo's Homing_Offset register must hold, when the calibration depends on it. */
  readonly homingOffsetRegister?: number;
}

/** A validated calibration: joints by name, in file order. */
export interface Calibration {
  /** Joints by name, in the order the file lists them. */
  readonly joints: ReadonlyMap<string, JointCalibration>;
}

const MAX_TICK = TICKS_PER_REVOLUTION - 1;
const TICKS_PER_RAD = TICKS_PER_REVOLUTION / (2 * Math.PI);

/** Whether the joint reports metres (a gripper width) or radians. */
export function jointUnit(joint: JointCalibration): 'rad' | 'm' {
  return joint.width ? 'm' : 'rad';
}

/** Ticks → radians (revolute joint) or metres (gripper width). */
export function ticksToPosition(joint: JointCalibration, ticks: number): number {
  const w = joint.width;
  if (w) return w.closedWidth + ((ticks - w.closedTicks) * (w.openWidth - w.closedWidth)) / (w.openTicks - w.closedTicks);
  return (joint.direction * (ticks - joint.zeroTicks)) / TICKS_PER_RAD;
}

/** Radians or metres → the nearest tick (not clamped: see {@link clampTicks}). */
export function positionToTicks(joint: JointCalibration, position: number): number {
  if (!Number.isFinite(position)) throw new RangeError(`positionToTicks: servo ${joint.id} position must be finite, got ${position}`);
  const w = joint.width;
  const t = w ? w.closedTicks + ((position - w.closedWidth) * (w.openTicks - w.closedTicks)) / (w.openWidth - w.closedWidth) : joint.zeroTicks + joint.direction * position * TICKS_PER_RAD;
  return Math.round(t) + 0; // + 0 turns −0 (from rounding a tiny negative) into 0
}

/** `ticks` clamped into the joint's [minTicks, maxTicks]. */
export function clampTicks(joint: JointCalibration, ticks: number): number {
  return Math.min(joint.maxTicks, Math.max(joint.minTicks, ticks));
}

/** The joint's commandable range in its unit, low end first. */
export function positionRange(joint: JointCalibration): [number, number] {
  const a = ticksToPosition(joint, joint.minTicks);
  const b = ticksToPosition(joint, joint.maxTicks);
  return a <= b ? [a, b] : [b, a];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(fn: string, where: string, o: Obj, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new RangeError(`${fn}: ${where} has unknown key ${JSON.stringify(k)} (allowed: ${keys.join(', ')})`);
}

function int(fn: string, where: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${fn}: ${where} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return v;
}

function num(fn: string, where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: ${where} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function parseJoint(fn: string, name: string, j: unknown): JointCalibration {
  const at = `joint "${name}"`;
  if (!isObj(j)) throw new TypeError(`${fn}: ${at} must be an object, got ${JSON.stringify(j)}`);
  only(fn, at, j, ['id', 'zeroTicks', 'direction', 'minTicks', 'maxTicks', 'width', 'homingOffsetRegister']);
  const id = int(fn, `${at}.id`, j.id, 0, MAX_SERVO_ID);
  const minTicks = int(fn, `${at}.minTicks`, j.minTicks, 0, MAX_TICK);
  const maxTicks = int(fn, `${at}.maxTicks`, j.maxTicks, 0, MAX_TICK);
  if (minTicks >= maxTicks) throw new RangeError(`${fn}: ${at} needs minTicks < maxTicks, got ${minTicks} and ${maxTicks}`);
  const [hoLo, hoHi] = registerRange('homingOffset');
  const homingOffsetRegister = j.homingOffsetRegister === undefined ? undefined : int(fn, `${at}.homingOffsetRegister`, j.homingOffsetRegister, hoLo, hoHi);
  const extra = homingOffsetRegister === undefined ? {} : { homingOffsetRegister };
  if (j.width !== undefined) {
    const w = j.width;
    if (!isObj(w)) throw new TypeError(`${fn}: ${at}.width must be an object, got ${JSON.stringify(w)}`);
    only(fn, `${at}.width`, w, ['closedTicks', 'openTicks', 'closedWidth', 'openWidth']);
    const closedTicks = int(fn, `${at}.width.closedTicks`, w.closedTicks, 0, MAX_TICK);
    const openTicks = int(fn, `${at}.width.openTicks`, w.openTicks, 0, MAX_TICK);
    if (closedTicks === openTicks) throw new RangeError(`${fn}: ${at}.width needs closedTicks ≠ openTicks, both are ${closedTicks}`);
    const closedWidth = num(fn, `${at}.width.closedWidth`, w.closedWidth);
    const openWidth = num(fn, `${at}.width.openWidth`, w.openWidth);
    if (closedWidth < 0 || openWidth <= closedWidth) throw new RangeError(`${fn}: ${at}.width needs 0 ≤ closedWidth < openWidth, got ${closedWidth} and ${openWidth}`);
    if (j.zeroTicks !== undefined || j.direction !== undefined) throw new RangeError(`${fn}: ${at} maps to a width; zeroTicks and direction apply to revolute joints only`);
    return Object.freeze({ id, zeroTicks: closedTicks, direction: openTicks > closedTicks ? 1 : -1, minTicks, maxTicks, width: Object.freeze({ closedTicks, openTicks, closedWidth, openWidth }), ...extra });
  }
  const zeroTicks = int(fn, `${at}.zeroTicks`, j.zeroTicks, 0, MAX_TICK);
  if (j.direction !== 1 && j.direction !== -1) throw new RangeError(`${fn}: ${at}.direction must be 1 or -1, got ${JSON.stringify(j.direction)}`);
  return Object.freeze({ id, zeroTicks, direction: j.direction, minTicks, maxTicks, ...extra });
}

/**
 * Validates a calibration file (its text or its parsed JSON) and returns the {@link Calibration}.
 * Throws naming the joint and field for a wrong format or version, unknown keys, non-integer or
 * out-of-range ticks, min ≥ max, a direction other than ±1, a bad width map, or repeated ids.
 */
export function parseCalibration(source: string | unknown): Calibration {
  const fn = 'parseCalibration';
  let json: unknown = source;
  if (typeof source === 'string') {
    try {
      json = JSON.parse(source);
    } catch (e) {
      throw new SyntaxError(`${fn}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!isObj(json)) throw new TypeError(`${fn}: the calibration must be a JSON object`);
  only(fn, 'the calibration', json, ['format', 'version', 'joints']);
  if (json.format !== CALIBRATION_FORMAT) throw new RangeError(`${fn}: format must be ${JSON.stringify(CALIBRATION_FORMAT)}, got ${JSON.stringify(json.format)}`);
  if (json.version !== 1) throw new RangeError(`${fn}: version must be 1, got ${JSON.stringify(json.version)}`);
  if (!isObj(json.joints) || Object.keys(json.joints).length === 0) throw new RangeError(`${fn}: joints must be a non-empty object of joint name → calibration`);
  const joints = new Map<string, JointCalibration>();
  const byId = new Map<number, string>();
  for (const [name, j] of Object.entries(json.joints)) {
    const joint = parseJoint(fn, name, j);
    const other = byId.get(joint.id);
    if (other !== undefined) throw new RangeError(`${fn}: joints "${other}" and "${name}" both have id ${joint.id}`);
    byId.set(joint.id, name);
    joints.set(name, joint);
  }
  return Object.freeze({ joints });
}

/** The calibration as the JSON object {@link parseCalibration} reads (for `JSON.stringify`). */
export function calibrationToJSON(calibration: Calibration): Record<string, unknown> {
  const joints: Obj = {};
  for (const [name, j] of calibration.joints) {
    const extra = j.homingOffsetRegister === undefined ? {} : { homingOffsetRegister: j.homingOffsetRegister };
    joints[name] = j.width
      ? { id: j.id, minTicks: j.minTicks, maxTicks: j.maxTicks, width: { ...j.width }, ...extra }
      : { id: j.id, zeroTicks: j.zeroTicks, direction: j.direction, minTicks: j.minTicks, maxTicks: j.maxTicks, ...extra };
  }
  return { format: CALIBRATION_FORMAT, version: 1, joints };
}

/** The opening widths at the two ends of a gripper's range. */
export interface GripperWidths {
  /** Width with the jaws closed, m. */
  readonly closedWidth: number;
  /** Width with the jaws open, m. */
  readonly openWidth: number;
}

/** Options of {@link fromLeRobotCalibration}. */
export interface LeRobotImportOptions {
  /** Map these joints (default: none) to a width: range_min is closed, range_max open (LeRobot's 0…100 gripper range). */
  readonly widths?: Readonly<Record<string, GripperWidths>>;
}

/**
 * Converts LeRobot's calibration file (`{ joint: { id, drive_mode, homing_offset, range_min, range_max } }`,
 * as `lerobot-calibrate` writes it for SO-100/SO-101) into a {@link Calibration}. LeRobot writes
 * `homing_offset` into each servo's Homing_Offset register, so it becomes `homingOffsetRegister`;
 * 0 rad is the middle of [range_min, range_max] (LeRobot's `DEGREES` mode; LeRobot scales by 4095
 * ticks per turn where this file uses 4096, a 0.02 % difference); drive_mode 1 flips the direction.
 */
export function fromLeRobotCalibration(source: string | unknown, options: LeRobotImportOptions = {}): Calibration {
  const fn = 'fromLeRobotCalibration';
  const json: unknown = typeof source === 'string' ? JSON.parse(source) : source;
  if (!isObj(json)) throw new TypeError(`${fn}: the calibration must be a JSON object of joint name → { id, drive_mode, homing_offset, range_min, range_max }`);
  const widths = options.widths ?? {};
  for (const name of Object.keys(widths)) if (!(name in json)) throw new RangeError(`${fn}: widths names joint "${name}", which the file does not have`);
  const joints: Obj = {};
  for (const [name, j] of Object.entries(json)) {
    if (!isObj(j)) throw new TypeError(`${fn}: joint "${name}" must be an object, got ${JSON.stringify(j)}`);
    only(fn, `joint "${name}"`, j, ['id', 'drive_mode', 'homing_offset', 'range_min', 'range_max']);
    if (j.drive_mode !== 0 && j.drive_mode !== 1) throw new RangeError(`${fn}: joint "${name}".drive_mode must be 0 or 1, got ${JSON.stringify(j.drive_mode)}`);
    const min = int(fn, `joint "${name}".range_min`, j.range_min, 0, MAX_TICK);
    const max = int(fn, `joint "${name}".range_max`, j.range_max, 0, MAX_TICK);
    const base = { id: j.id, minTicks: min, maxTicks: max, homingOffsetRegister: j.homing_offset };
    const w = widths[name];
    joints[name] = w
      ? { ...base, width: j.drive_mode === 0 ? { closedTicks: min, openTicks: max, ...w } : { closedTicks: max, openTicks: min, ...w } }
      : { ...base, zeroTicks: Math.round((min + max) / 2), direction: j.drive_mode === 1 ? -1 : 1 };
  }
  return parseCalibration({ format: CALIBRATION_FORMAT, version: 1, joints });
}
