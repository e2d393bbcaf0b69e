/**
 * The STS3215 control table (the servo in SO-100/SO-101 arms): each register's address, size, access
 * and value encoding, after Feetech's SMS/STS memory map as LeRobot's `feetech/tables.py` and
 * Feetech's `SMS_STS` SDK use it. Names are LeRobot's in camelCase (`Goal_Position` → `goalPosition`).
 *
 * Encoding: little-endian; registers with a `signBit` hold sign-magnitude values (bit `signBit` set
 * means negative, the lower bits the magnitude): homingOffset (bit 11), goalPosition and
 * presentPosition (bit 15, only used outside position mode), goalVelocity and presentVelocity
 * (bit 15), presentLoad (bit 10), presentCurrent (bit 15). Every other register is unsigned.
 *
 * Units: positions in ticks (4096 per revolution), velocities in ticks/s, voltage in 0.1 V,
 * temperature in °C, load in 0.1 % of the maximum torque, current in 6.5 mA.
 * @module
 */
import { fromLittleEndian, toLittleEndian } from './protocol.js';

/** One register of the control table. */
export interface RegisterSpec {
  /** Byte address. */
  readonly address: number;
  /** Bytes (1 or 2). */
  readonly size: 1 | 2;
  /** `rw` writable, `r` read-only. */
  readonly access: 'r' | 'rw';
  /** `eeprom` (kept over power cycles unless locked) or `sram`. */
  readonly area: 'eeprom' | 'sram';
  /** The sign bit of a sign-magnitude value; absent for unsigned registers. */
  readonly signBit?: number;
}

const reg = (address: number, size: 1 | 2, access: 'r' | 'rw', signBit?: number): RegisterSpec =>
  Object.freeze({ address, size, access, area: address < 40 ? 'eeprom' : 'sram', ...(signBit === undefined ? {} : { signBit }) });

/** The STS3215 registers by name (LeRobot's names in camelCase). */
export const STS3215_REGISTERS = Object.freeze({
  /** Firmware major version. */
  firmwareMajorVersion: reg(0, 1, 'r'),
  /** Firmware minor version. */
  firmwareMinorVersion: reg(1, 1, 'r'),
  /** Model number (777 for the STS3215). */
  modelNumber: reg(3, 2, 'r'),
  /** Servo id on the bus (0…253). */
  id: reg(5, 1, 'rw'),
  /** Bit rate code, an index into `BAUD_RATES` (0 = 1 Mbit/s). */
  baudRate: reg(6, 1, 'rw'),
  /** Delay before a reply, in 2 µs units. */
  returnDelayTime: reg(7, 1, 'rw'),
  /** 0: reply to READ and PING only; 1: reply to every instruction. */
  responseStatusLevel: reg(8, 1, 'rw'),
  /** Lowest goal position accepted, ticks. */
  minPositionLimit: reg(9, 2, 'rw'),
  /** Highest goal position accepted, ticks. */
  maxPositionLimit: reg(11, 2, 'rw'),
  /** Overheat threshold, °C. */
  maxTemperatureLimit: reg(13, 1, 'rw'),
  /** Over-voltage threshold, 0.1 V. */
  maxVoltageLimit: reg(14, 1, 'rw'),
  /** Under-voltage threshold, 0.1 V. */
  minVoltageLimit: reg(15, 1, 'rw'),
  /** Torque limit kept over power cycles, 0.1 % of the maximum. */
  maxTorqueLimit: reg(16, 2, 'rw'),
  /** Phase (direction) bits. */
  phase: reg(18, 1, 'rw'),
  /** Which faults release torque (status error bits). */
  unloadingCondition: reg(19, 1, 'rw'),
  /** Which faults light the LED (status error bits). */
  ledAlarmCondition: reg(20, 1, 'rw'),
  /** Position loop P gain. */
  pCoefficient: reg(21, 1, 'rw'),
  /** Position loop D gain. */
  dCoefficient: reg(22, 1, 'rw'),
  /** Position loop I gain. */
  iCoefficient: reg(23, 1, 'rw'),
  /** Minimum output to start moving, 0.1 %. */
  minimumStartupForce: reg(24, 2, 'rw'),
  /** Clockwise dead band, ticks. */
  cwDeadZone: reg(26, 1, 'rw'),
  /** Counter-clockwise dead band, ticks. */
  ccwDeadZone: reg(27, 1, 'rw'),
  /** Over-current threshold, 6.5 mA. */
  protectionCurrent: reg(28, 2, 'rw'),
  /** Angular resolution multiplier. */
  angularResolution: reg(30, 1, 'rw'),
  /** Offset subtracted from the raw position, ticks (sign-magnitude, bit 11). */
  homingOffset: reg(31, 2, 'rw', 11),
  /** 0 position, 1 constant speed, 2 PWM, 3 step. */
  operatingMode: reg(33, 1, 'rw'),
  /** Torque after an overload, %. */
  protectiveTorque: reg(34, 1, 'rw'),
  /** Overload time before protection, 10 ms. */
  protectionTime: reg(35, 1, 'rw'),
  /** Overload threshold, %. */
  overloadTorque: reg(36, 1, 'rw'),
  /** Speed loop P gain. */
  velocityP: reg(37, 1, 'rw'),
  /** Over-current time before protection, 10 ms. */
  overCurrentProtectionTime: reg(38, 1, 'rw'),
  /** Speed loop I gain. */
  velocityI: reg(39, 1, 'rw'),
  /** 1: torque on; 0: limp. */
  torqueEnable: reg(40, 1, 'rw'),
  /** Acceleration, 100 ticks/s². */
  acceleration: reg(41, 1, 'rw'),
  /** Target position, ticks (sign bit 15 outside position mode). */
  goalPosition: reg(42, 2, 'rw', 15),
  /** Time to reach the goal, ms. */
  goalTime: reg(44, 2, 'rw'),
  /** Speed toward the goal, ticks/s (sign-magnitude, bit 15). */
  goalVelocity: reg(46, 2, 'rw', 15),
  /** Torque limit, 0.1 % of the maximum. */
  torqueLimit: reg(48, 2, 'rw'),
  /** 0: EEPROM writes persist; 1: they are lost at power-off. */
  lock: reg(55, 1, 'rw'),
  /** Measured position, ticks. */
  presentPosition: reg(56, 2, 'r', 15),
  /** Measured speed, ticks/s (sign-magnitude, bit 15). */
  presentVelocity: reg(58, 2, 'r', 15),
  /** Measured load, 0.1 % (sign-magnitude, bit 10). */
  presentLoad: reg(60, 2, 'r', 10),
  /** Supply voltage, 0.1 V. */
  presentVoltage: reg(62, 1, 'r'),
  /** Temperature, °C. */
  presentTemperature: reg(63, 1, 'r'),
  /** Fault bits as in a status packet. */
  status: reg(65, 1, 'r'),
  /** 1 while moving. */
  moving: reg(66, 1, 'r'),
  /** Measured current, 6.5 mA (sign-magnitude, bit 15). */
  presentCurrent: reg(69, 2, 'r', 15),
});

/** A register name of the STS3215 control table. */
export type RegisterName = keyof typeof STS3215_REGISTERS;

/** The model number an STS3215 reports in `modelNumber`. */
export const STS3215_MODEL_NUMBER = 777;

/** Encoder ticks per revolution of the STS3215 (12-bit magnetic encoder). */
export const TICKS_PER_REVOLUTION = 4096;

/** Bit rates selected by the `baudRate` register values 0…7 (0 = 1 Mbit/s, the SO-100/SO-101 setting). */
export const BAUD_RATES: readonly number[] = Object.freeze([1_000_000, 500_000, 250_000, 128_000, 115_200, 57_600, 38_400, 19_200]);

/** The spec of register `name`; throws naming it when it is not in the table. */
export function registerSpec(name: RegisterName): RegisterSpec {
  const spec = (STS3215_REGISTERS as Record<string, RegisterSpec>)[name];
  if (spec === undefined) throw new RangeError(`registerSpec: unknown STS3215 register ${JSON.stringify(name)}`);
  return spec;
}

/** The smallest and largest value register `name` can hold. */
export function registerRange(name: RegisterName): [number, number] {
  const { size, signBit } = registerSpec(name);
  if (signBit === undefined) return [0, 256 ** size - 1];
  const m = 2 ** signBit - 1;
  return [-m, m];
}

/** The bytes of `value` in register `name` (sign-magnitude where the register has a sign bit). */
export function encodeRegister(name: RegisterName, value: number): number[] {
  const { size, signBit } = registerSpec(name);
  const [lo, hi] = registerRange(name);
  if (!Number.isInteger(value) || value < lo || value > hi) throw new RangeError(`encodeRegister: ${name} takes an integer in [${lo}, ${hi}], got ${value}`);
  const raw = signBit !== undefined && value < 0 ? -value + 2 ** signBit : value;
  return toLittleEndian(raw, size);
}

/** The value of register `name` from its bytes at `offset` of `bytes`. */
export function decodeRegister(name: RegisterName, bytes: ArrayLike<number>, offset = 0): number {
  const { size, signBit } = registerSpec(name);
  if (offset < 0 || offset + size > bytes.length) throw new RangeError(`decodeRegister: ${name} needs ${size} bytes at offset ${offset}, got ${bytes.length} bytes`);
  const raw = fromLittleEndian(bytes, offset, size);
  if (signBit === undefined) return raw;
  const magnitude = raw % 2 ** signBit;
  return Math.floor(raw / 2 ** signBit) % 2 === 1 ? -magnitude : magnitude;
}
