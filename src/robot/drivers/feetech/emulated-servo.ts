/**
 * One emulated STS3215: its control table (a 256-byte memory with the factory values the emulator
 * assumes) and a simple motion model — with torque on, the shaft moves toward the goal position at a
 * constant speed, clamped to the angle limits, and the present position, velocity and moving flag
 * follow. Register writes go through the same byte layout the bus uses, so what a host writes is
 * what it reads back.
 * @module
 */
import { STS3215_MODEL_NUMBER, STS3215_REGISTERS, TICKS_PER_REVOLUTION, decodeRegister, encodeRegister, registerSpec, type RegisterName } from './control-table.js';

/**
 * Factory values the emulator starts from (documented STS3215 defaults where known, plausible values
 * otherwise; every other register starts at 0). Present voltage 12.0 V (the 12 V servo of the SO-101
 * follower) and 30 °C.
 */
export const EMULATED_FACTORY_VALUES: Readonly<Partial<Record<RegisterName, number>>> = Object.freeze({
  firmwareMajorVersion: 3,
  firmwareMinorVersion: 10,
  modelNumber: STS3215_MODEL_NUMBER,
  baudRate: 0,
  responseStatusLevel: 1,
  minPositionLimit: 0,
  maxPositionLimit: TICKS_PER_REVOLUTION - 1,
  maxTemperatureLimit: 70,
  maxVoltageLimit: 140,
  minVoltageLimit: 40,
  maxTorqueLimit: 1000,
  pCoefficient: 32,
  dCoefficient: 32,
  protectionCurrent: 500,
  angularResolution: 1,
  overloadTorque: 80,
  torqueLimit: 1000,
  presentVoltage: 120,
  presentTemperature: 30,
});

const WRITABLE = (() => {
  const mask = new Uint8Array(256);
  for (const spec of Object.values(STS3215_REGISTERS)) if (spec.access === 'rw') for (let i = 0; i < spec.size; i++) mask[spec.address + i] = 1;
  return mask;
})();

/** An emulated STS3215 servo (see the module comment). */
export class EmulatedServo {
  /** The control table bytes (addresses 0…255). */
  readonly table = new Uint8Array(256);
  /** The shaft position in (fractional) ticks. */
  #shaft: number;
  /** Status error bits set in every reply (for fault tests). */
  errorBits = 0;
  /** Whether the servo answers at all. */
  online = true;
  #registered: [address: number, data: Uint8Array] | undefined;

  /** Shaft speed toward the goal, in ticks/s. */
  speed: number;

  /** A servo with id `id` at `position` ticks, moving at `speed` ticks/s. */
  constructor(id: number, position: number, speed: number) {
    this.#shaft = position;
    this.speed = speed;
    this.factoryReset(id);
  }

  /** Restores the factory values, keeping `id` (so the servo stays addressable on a shared bus). */
  factoryReset(id: number): void {
    this.table.fill(0);
    for (const [name, v] of Object.entries(EMULATED_FACTORY_VALUES)) this.set(name as RegisterName, v);
    this.set('id', id);
    this.#publish(0);
    this.set('goalPosition', this.get('presentPosition'));
  }

  /** Register `name`, decoded. */
  get(name: RegisterName): number {
    return decodeRegister(name, this.table, registerSpec(name).address);
  }

  /** Sets register `name` directly (read-only registers too: this is the emulator's side). */
  set(name: RegisterName, value: number): void {
    this.table.set(encodeRegister(name, value), registerSpec(name).address);
  }

  /** The servo's id (register 5). */
  get id(): number {
    return this.get('id');
  }

  /** The shaft position in ticks (fractional). */
  get shaft(): number {
    return this.#shaft;
  }

  /** Moves the shaft by hand (torque off, or forced): present position follows at once. */
  moveShaft(ticks: number): void {
    if (!Number.isFinite(ticks)) throw new RangeError(`EmulatedServo.moveShaft: ticks must be finite, got ${ticks}`);
    this.#shaft = Math.min(TICKS_PER_REVOLUTION - 1, Math.max(0, ticks));
    this.#publish(0);
  }

  /** Writes `data` from `address` as the WRITE instruction does: bytes of read-only or unknown registers are ignored. */
  writeBytes(address: number, data: Uint8Array): void {
    for (let i = 0; i < data.length && address + i < 256; i++) if (WRITABLE[address + i]) this.table[address + i] = data[i]!;
  }

  /** Buffers a REG_WRITE of `data` at `address` until {@link EmulatedServo.action}. */
  regWrite(address: number, data: Uint8Array): void {
    this.#registered = [address, data.slice()];
  }

  /** Applies the buffered REG_WRITE, if any (the ACTION instruction). */
  action(): void {
    if (this.#registered) this.writeBytes(...this.#registered);
    this.#registered = undefined;
  }

  /** `length` bytes from `address` (zeros past the end of the table). */
  readBytes(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    out.set(this.table.subarray(address, Math.min(256, address + length)));
    return out;
  }

  /** Advances the motion model by `dt` seconds. */
  step(dt: number): void {
    if (!(dt >= 0) || !Number.isFinite(dt)) throw new RangeError(`EmulatedServo.step: dt must be finite and ≥ 0, got ${dt}`);
    if (this.get('torqueEnable') === 0 || dt === 0) {
      this.#publish(0);
      return;
    }
    const lo = this.get('minPositionLimit');
    const hi = this.get('maxPositionLimit');
    const goal = hi > lo ? Math.min(hi, Math.max(lo, this.get('goalPosition'))) : this.get('goalPosition');
    const before = this.#shaft;
    const gap = goal - before;
    const move = Math.sign(gap) * Math.min(Math.abs(gap), this.speed * dt);
    this.#shaft = before + move;
    this.#publish(move / dt);
  }

  #publish(velocity: number): void {
    const [vLo, vHi] = [-32767, 32767];
    this.set('presentPosition', Math.round(this.#shaft));
    this.set('presentVelocity', Math.max(vLo, Math.min(vHi, Math.round(velocity))));
    this.set('moving', velocity === 0 ? 0 : 1);
  }
}
