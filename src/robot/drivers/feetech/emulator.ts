/**
 * An emulated Feetech servo bus: several {@link EmulatedServo}s behind one {@link ByteTransport},
 * speaking the protocol byte for byte — PING, READ, WRITE, REG_WRITE, ACTION, RESET, SYNC_READ and
 * SYNC_WRITE, replies as status packets, nothing for broadcasts or corrupted requests. It lets you
 * try the whole stack without hardware (over an in-memory link or one end of a pseudo-terminal pair),
 * and tests use its fault injection: dropped replies, corrupted checksums, delays, replies from the
 * wrong id, garbage on the line, and status error bits.
 *
 * Emulation limits (documented, not hidden): the Homing_Offset register is stored but not applied to
 * positions; baud rate, return delay, Response_Status_Level and Lock are stored but have no effect;
 * RESET keeps the servo's id; a reply to a WRITE that changes the id comes from the old id.
 * @module
 */
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { EmulatedServo } from './emulated-servo.js';
import { PacketParser } from './packet-parser.js';
import { BROADCAST_ID, MAX_SERVO_ID, Instruction, StatusErrorBit, encodeStatus, type Packet } from './protocol.js';
import type { ByteTransport } from './transport.js';

/** Options of {@link FeetechEmulator}. */
export interface FeetechEmulatorOptions {
  /** Servo ids on the bus (default 1…6, an SO-101 arm). */
  readonly ids?: readonly number[];
  /** Starting shaft position in ticks, one per id or one for all (default 2048, mid-range). */
  readonly positions?: number | readonly number[];
  /** Shaft speed toward the goal, ticks/s (default 3000, about 4.6 rad/s). */
  readonly speed?: number;
  /** Time source for motion and reply delays (default the system clock). */
  readonly clock?: Clock;
  /** Advance the motion model by the clock's elapsed time on every request (default true). */
  readonly autoStep?: boolean;
}

/**
 * A fault the emulator injects into its replies: `drop` (not sent), `corrupt` (wrong checksum byte),
 * `delay` (sent `ms` later), `wrongId` (carries id `replyAs`), `garbage` (`bytes` sent just before).
 * It applies to replies from servo `id` (default any) for the next `count` of them (default 1;
 * `Infinity` for ever).
 */
export interface EmulatorFault {
  /** What happens to the reply. */
  readonly kind: 'drop' | 'corrupt' | 'delay' | 'wrongId' | 'garbage';
  /** Only replies from this servo (default: any servo). */
  readonly id?: number;
  /** How many replies it affects (default 1). */
  readonly count?: number;
  /** `delay`: milliseconds. */
  readonly ms?: number;
  /** `wrongId`: the id the reply carries. */
  readonly replyAs?: number;
  /** `garbage`: the bytes sent before the reply. */
  readonly bytes?: ArrayLike<number>;
}

/** Counters of the emulator's traffic. */
export interface EmulatorStats {
  /** Instruction packets received intact. */
  requests: number;
  /** Candidate packets received with a bad checksum (ignored, as a servo does). */
  corruptRequests: number;
  /** Status packets sent. */
  replies: number;
  /** Replies withheld by a `drop` fault. */
  dropped: number;
}

/** The emulated bus; see the module comment. */
export class FeetechEmulator {
  readonly #transport: ByteTransport;
  readonly #servos = new Map<number, EmulatedServo>();
  readonly #parser = new PacketParser();
  readonly #clock: Clock;
  readonly #autoStep: boolean;
  readonly #unsubscribe: () => void;
  readonly #timers = new Set<TimerHandle>();
  #faults: { fault: EmulatorFault; left: number }[] = [];
  #outbox: Promise<void> = Promise.resolve();
  #last: number;
  #closed = false;
  /** Traffic counters. */
  readonly stats: EmulatorStats = { requests: 0, corruptRequests: 0, replies: 0, dropped: 0 };

  /** An emulated bus answering on `transport` (the device end of a link or port). */
  constructor(transport: ByteTransport, options: FeetechEmulatorOptions = {}) {
    const fn = 'FeetechEmulator';
    const ids = options.ids ?? [1, 2, 3, 4, 5, 6];
    if (!Array.isArray(ids) || ids.length === 0) throw new RangeError(`${fn}: ids must be a non-empty array, got ${JSON.stringify(ids)}`);
    const speed = options.speed ?? 3000;
    if (!Number.isFinite(speed) || speed <= 0) throw new RangeError(`${fn}: speed must be a finite number of ticks/s > 0, got ${speed}`);
    const pos = options.positions ?? 2048;
    if (Array.isArray(pos) && pos.length !== ids.length) throw new RangeError(`${fn}: ${ids.length} ids but ${pos.length} positions`);
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id > MAX_SERVO_ID) throw new RangeError(`${fn}: servo id must be an integer in [0, ${MAX_SERVO_ID}], got ${id}`);
      if (this.#servos.has(id)) throw new RangeError(`${fn}: servo id ${id} appears twice`);
      const p = typeof pos === 'number' ? pos : pos[i]!;
      if (!Number.isFinite(p) || p < 0 || p > 4095) throw new RangeError(`${fn}: position of servo ${id} must be in [0, 4095] ticks, got ${p}`);
      this.#servos.set(id, new EmulatedServo(id, p, speed));
    });
    this.#transport = transport;
    this.#clock = options.clock ?? systemClock;
    this.#autoStep = options.autoStep ?? true;
    this.#last = this.#clock.now();
    this.#unsubscribe = transport.onData((chunk) => {
      for (const item of this.#parser.push(chunk)) {
        if (item.kind === 'corrupt') this.stats.corruptRequests++;
        else this.#handle(item.packet);
      }
    });
  }

  /** The ids of the servos on the bus, ascending. */
  get ids(): number[] {
    return [...this.#servos.keys()].sort((a, b) => a - b);
  }

  /** The servo with id `id`; throws when there is none. */
  servo(id: number): EmulatedServo {
    const s = this.#servos.get(id);
    if (s === undefined) throw new RangeError(`FeetechEmulator.servo: no servo with id ${id} (ids: ${this.ids.join(', ')})`);
    return s;
  }

  /** Injects `fault` into the matching replies from now on (faults stack; each applies to its own count). */
  injectFault(fault: EmulatorFault): void {
    const count = fault.count ?? 1;
    if (!(count >= 1)) throw new RangeError(`FeetechEmulator.injectFault: count must be ≥ 1 (or Infinity), got ${count}`);
    const fn = 'FeetechEmulator.injectFault';
    if (!['drop', 'corrupt', 'delay', 'wrongId', 'garbage'].includes(fault.kind)) throw new RangeError(`${fn}: kind must be drop, corrupt, delay, wrongId or garbage, got ${JSON.stringify(fault.kind)}`);
    if (fault.kind === 'delay' && !(typeof fault.ms === 'number' && Number.isFinite(fault.ms) && fault.ms >= 0)) throw new RangeError(`${fn}: delay needs ms finite and ≥ 0, got ${fault.ms}`);
    if (fault.kind === 'wrongId' && !(Number.isInteger(fault.replyAs) && fault.replyAs! >= 0 && fault.replyAs! <= MAX_SERVO_ID)) throw new RangeError(`${fn}: wrongId needs replyAs, a servo id in [0, ${MAX_SERVO_ID}], got ${fault.replyAs}`);
    if (fault.kind === 'garbage' && !(fault.bytes && typeof fault.bytes.length === 'number')) throw new RangeError(`${fn}: garbage needs bytes`);
    if (fault.id !== undefined) this.servo(fault.id);
    this.#faults.push({ fault, left: count });
  }

  /** Removes every pending fault. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** Advances every servo's motion by `dt` seconds. */
  step(dt: number): void {
    for (const s of this.#servos.values()) s.step(dt);
  }

  /** Stops answering and closes the transport; delayed replies are cancelled. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) this.#clock.clearTimer(t);
    this.#timers.clear();
    this.#unsubscribe();
    await this.#transport.close();
  }

  #targets(id: number): EmulatedServo[] {
    if (id === BROADCAST_ID) return [...this.#servos.values()].filter((s) => s.online);
    const s = this.#servos.get(id);
    return s && s.online ? [s] : [];
  }

  #handle(p: Packet): void {
    this.stats.requests++;
    if (this.#autoStep) {
      const now = this.#clock.now();
      this.step(Math.max(0, now - this.#last));
      this.#last = now;
    }
    const single = p.id !== BROADCAST_ID;
    const params = p.params;
    for (const s of this.#targets(p.id)) {
      switch (p.code) {
        case Instruction.PING:
          if (single) this.#reply(s, []);
          break;
        case Instruction.READ:
          if (single) this.#reply(s, params.length === 2 ? s.readBytes(params[0]!, params[1]!) : [], params.length === 2 ? 0 : StatusErrorBit.instruction);
          break;
        case Instruction.WRITE:
        case Instruction.REG_WRITE:
          if (params.length >= 2) {
            if (p.code === Instruction.WRITE) this.#write(s, params[0]!, params.subarray(1));
            else s.regWrite(params[0]!, params.subarray(1));
          }
          if (single) this.#reply(s, [], params.length >= 2 ? 0 : StatusErrorBit.instruction, p.id);
          break;
        case Instruction.ACTION:
          this.#applyAction(s);
          if (single) this.#reply(s, []);
          break;
        case Instruction.RESET:
          s.factoryReset(s.id);
          if (single) this.#reply(s, []);
          break;
        case Instruction.SYNC_READ:
        case Instruction.SYNC_WRITE:
          break; // handled once below, for the bus as a whole
        default:
          if (single) this.#reply(s, [], StatusErrorBit.instruction);
      }
    }
    if (!single && p.code === Instruction.SYNC_READ && params.length >= 2) {
      const [address, length] = [params[0]!, params[1]!];
      for (const id of params.subarray(2)) {
        const s = this.#servos.get(id);
        if (s?.online) this.#reply(s, s.readBytes(address, length));
      }
    }
    if (!single && p.code === Instruction.SYNC_WRITE && params.length >= 2) {
      const [address, length] = [params[0]!, params[1]!];
      for (let i = 2; i + 1 + length <= params.length; i += length + 1) {
        const s = this.#servos.get(params[i]!);
        if (s?.online) this.#write(s, address, params.subarray(i + 1, i + 1 + length));
      }
    }
  }

  #write(s: EmulatedServo, address: number, data: Uint8Array): void {
    const before = s.id;
    s.writeBytes(address, data);
    this.#rekey(s, before);
  }

  /** Follows a servo whose id register changed from `before`. */
  #rekey(s: EmulatedServo, before: number): void {
    const after = s.id;
    if (after !== before) {
      if (this.#servos.has(after)) {
        s.table[5] = before; // refuse an id already taken, as the bus would otherwise hold two servos with one id
        return;
      }
      this.#servos.delete(before);
      this.#servos.set(after, s);
    }
  }

  #applyAction(s: EmulatedServo): void {
    const before = s.id;
    s.action();
    this.#rekey(s, before);
  }

  #take(id: number, kind: EmulatorFault['kind']): EmulatorFault | undefined {
    const f = this.#faults.find((x) => x.fault.kind === kind && (x.fault.id === undefined || x.fault.id === id));
    if (f === undefined) return undefined;
    if (--f.left <= 0) this.#faults = this.#faults.filter((x) => x !== f);
    return f.fault;
  }

  /** Queues a status packet from `s` (as `id`: the id it was addressed by, which a WRITE may have just changed). */
  #reply(s: EmulatedServo, data: ArrayLike<number>, error = 0, id = s.id): void {
    if (this.#take(id, 'drop')) {
      this.stats.dropped++;
      return;
    }
    const wrong = this.#take(id, 'wrongId');
    const bytes = encodeStatus(wrong?.replyAs ?? id, error | s.errorBits, data);
    if (this.#take(id, 'corrupt')) bytes[bytes.length - 1] ^= 0x5a;
    const garbage = this.#take(id, 'garbage');
    const delay = this.#take(id, 'delay');
    const out = garbage?.bytes ? Uint8Array.from([...Array.from(garbage.bytes), ...bytes]) : bytes;
    const ms = delay?.ms ?? 0;
    this.stats.replies++;
    this.#outbox = this.#outbox
      .then(() => (ms > 0 ? this.#sleep(ms) : undefined))
      .then(() => (this.#closed || !this.#transport.isOpen ? undefined : this.#transport.write(out)))
      .catch(() => undefined);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.#clock.setTimer(() => {
        this.#timers.delete(t);
        resolve();
      }, ms / 1000);
      this.#timers.add(t);
    });
  }
}
