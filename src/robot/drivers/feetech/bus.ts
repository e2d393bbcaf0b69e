/**
 * A Feetech SCS/STS servo bus over a {@link ByteTransport}: ping, read, write, REG_WRITE/ACTION,
 * reset, sync-read and sync-write, plus register-level helpers over the STS3215 control table.
 *
 * One request is on the line at a time (requests queue in call order). Each attempt clears the
 * parser, sends the packet and waits for one status packet per addressed servo, up to `timeoutMs`.
 * A missing, corrupted, misaddressed or malformed reply fails the attempt and the request is retried
 * up to `retries` times; the last failure is thrown, naming the servo(s) and the attempt count. A reply
 * whose error byte is non-zero is a {@link FeetechStatusError} (voltage, angle, overheat, overcurrent,
 * overload…), thrown at once — unless `statusErrors: 'ignore'`. Broadcast writes and sync-writes get
 * no reply (the servos' Response_Status_Level is assumed to be the default 1: reply to everything).
 * @module
 */
import { encodeRegister, decodeRegister, registerSpec, type RegisterName } from './control-table.js';
import { FeetechError, FeetechChecksumError, FeetechProtocolError, FeetechStatusError, FeetechTimeoutError, FeetechWrongIdError, isRetryable } from './errors.js';
import { PacketParser, type ParsedItem } from './packet-parser.js';
import { BROADCAST_ID, MAX_PARAMS, MAX_SERVO_ID, Instruction, encodeInstruction, type Packet } from './protocol.js';
import type { ByteTransport } from './transport.js';

/** Per-request settings; each falls back to the bus's {@link FeetechBusOptions}. */
export interface RequestOptions {
  /** How long one attempt waits for its reply (or all sync-read replies), in ms (> 0). */
  readonly timeoutMs?: number;
  /** How many times a failed attempt is repeated (integer ≥ 0). */
  readonly retries?: number;
}

/** Options of {@link FeetechBus}. */
export interface FeetechBusOptions extends RequestOptions {
  /** `throw` (default): a reply with error bits rejects with {@link FeetechStatusError}; `ignore`: its data is used. */
  readonly statusErrors?: 'throw' | 'ignore';
}

/** Counters of what happened on the bus. */
export interface BusStats {
  /** Requests sent (each counted once, however many attempts it took). */
  requests: number;
  /** Attempts repeated after a retryable failure. */
  retries: number;
  /** Attempts that ran out of time. */
  timeouts: number;
  /** Replies with a bad checksum. */
  checksumErrors: number;
  /** Replies from a servo the request did not address. */
  wrongIds: number;
  /** Malformed or duplicate replies. */
  protocolErrors: number;
  /** Replies carrying status error bits. */
  statusErrors: number;
  /** Packets that arrived while no request was waiting. */
  strayPackets: number;
}

type Pending = (item: ParsedItem) => void;

const DEFAULT_TIMEOUT_MS = 50;
const DEFAULT_RETRIES = 2;

/** A Feetech servo bus; see the module comment for the request/retry rules. */
export class FeetechBus {
  readonly #transport: ByteTransport;
  readonly #parser = new PacketParser();
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #statusErrors: 'throw' | 'ignore';
  readonly #unsubscribe: () => void;
  #queue: Promise<unknown> = Promise.resolve();
  #pending: Pending | undefined;
  #abort: ((e: Error) => void) | undefined;
  #closed = false;
  /** What happened on the bus so far. */
  readonly stats: BusStats = { requests: 0, retries: 0, timeouts: 0, checksumErrors: 0, wrongIds: 0, protocolErrors: 0, statusErrors: 0, strayPackets: 0 };

  /** A bus on `transport` (already open); the bus owns it from now on and closes it in {@link FeetechBus.close}. */
  constructor(transport: ByteTransport, options: FeetechBusOptions = {}) {
    if (typeof transport?.write !== 'function' || typeof transport.onData !== 'function') throw new TypeError('FeetechBus: transport must implement ByteTransport (write, onData, close)');
    this.#transport = transport;
    this.#timeoutMs = checkTimeout('FeetechBus', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#retries = checkRetries('FeetechBus', options.retries ?? DEFAULT_RETRIES);
    if (options.statusErrors !== undefined && options.statusErrors !== 'throw' && options.statusErrors !== 'ignore') throw new RangeError(`FeetechBus: statusErrors must be 'throw' or 'ignore', got ${JSON.stringify(options.statusErrors)}`);
    this.#statusErrors = options.statusErrors ?? 'throw';
    this.#unsubscribe = transport.onData((chunk) => {
      for (const item of this.#parser.push(chunk)) {
        if (this.#pending) this.#pending(item);
        else this.stats.strayPackets++;
      }
    });
  }

  /** Whether {@link FeetechBus.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when servo `id` answers a PING. */
  async ping(id: number, options?: RequestOptions): Promise<void> {
    checkId('FeetechBus.ping', id);
    await this.#request(`FeetechBus.ping(servo ${id})`, encodeInstruction(id, Instruction.PING), [id], 0, options);
  }

  /** The ids among `ids` (default 0…253) that answer a PING, in ascending order; each is tried once unless `options.retries` says otherwise. */
  async scan(ids: Iterable<number> = range(0, MAX_SERVO_ID + 1), options: RequestOptions = {}): Promise<number[]> {
    const found: number[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      try {
        await this.ping(id, { retries: 0, ...options });
        found.push(id);
      } catch (e) {
        if (!(e instanceof FeetechTimeoutError)) throw e;
      }
    }
    return found;
  }

  /** `length` bytes of servo `id`'s control table from `address`. */
  async read(id: number, address: number, length: number, options?: RequestOptions): Promise<Uint8Array> {
    const fn = `FeetechBus.read(servo ${id}, address ${address}, ${length} bytes)`;
    checkId(fn, id);
    checkSpan(fn, address, length);
    const replies = await this.#request(fn, encodeInstruction(id, Instruction.READ, [address, length]), [id], length, options);
    return replies.get(id)!.params;
  }

  /** Writes `data` to servo `id` from `address` (broadcast id 254: every servo, no reply). */
  async write(id: number, address: number, data: ArrayLike<number>, options?: RequestOptions): Promise<void> {
    await this.#writeLike('write', Instruction.WRITE, id, address, data, options);
  }

  /** Buffers a write in servo `id` until {@link FeetechBus.action}. */
  async regWrite(id: number, address: number, data: ArrayLike<number>, options?: RequestOptions): Promise<void> {
    await this.#writeLike('regWrite', Instruction.REG_WRITE, id, address, data, options);
  }

  /** Applies buffered REG_WRITEs (default: broadcast, no reply). */
  async action(id: number = BROADCAST_ID, options?: RequestOptions): Promise<void> {
    const fn = `FeetechBus.action(servo ${id})`;
    checkId(fn, id, true);
    await this.#request(fn, encodeInstruction(id, Instruction.ACTION), id === BROADCAST_ID ? [] : [id], 0, options);
  }

  /** Restores servo `id`'s factory control table (its id and baud rate too). */
  async reset(id: number, options?: RequestOptions): Promise<void> {
    const fn = `FeetechBus.reset(servo ${id})`;
    checkId(fn, id, true);
    await this.#request(fn, encodeInstruction(id, Instruction.RESET), id === BROADCAST_ID ? [] : [id], 0, options);
  }

  /** `length` bytes from `address` of each servo in `ids` with one SYNC_READ; each replies in turn. */
  async syncRead(ids: readonly number[], address: number, length: number, options?: RequestOptions): Promise<Map<number, Uint8Array>> {
    const fn = `FeetechBus.syncRead(servos ${ids.join(', ')}, address ${address}, ${length} bytes)`;
    checkIdList(fn, ids);
    checkSpan(fn, address, length);
    if (ids.length + 2 > MAX_PARAMS) throw new RangeError(`${fn}: at most ${MAX_PARAMS - 2} servos fit in one SYNC_READ, got ${ids.length}`);
    const replies = await this.#request(fn, encodeInstruction(BROADCAST_ID, Instruction.SYNC_READ, [address, length, ...ids]), ids, length, options);
    return new Map(ids.map((id) => [id, replies.get(id)!.params]));
  }

  /** Writes each servo's `length` bytes from `address` with one SYNC_WRITE (no replies). */
  async syncWrite(address: number, length: number, data: Iterable<readonly [number, ArrayLike<number>]>): Promise<void> {
    const entries = [...data];
    const fn = `FeetechBus.syncWrite(address ${address}, ${length} bytes, servos ${entries.map(([id]) => id).join(', ')})`;
    checkSpan(fn, address, length);
    checkIdList(fn, entries.map(([id]) => id));
    const params: number[] = [address, length];
    for (const [id, bytes] of entries) {
      if (bytes.length !== length) throw new RangeError(`${fn}: servo ${id} has ${bytes.length} data bytes, expected ${length}`);
      params.push(id, ...Array.from(bytes));
    }
    if (params.length > MAX_PARAMS) throw new RangeError(`${fn}: ${params.length} parameter bytes do not fit in one packet (max ${MAX_PARAMS})`);
    await this.#request(fn, encodeInstruction(BROADCAST_ID, Instruction.SYNC_WRITE, params), [], 0);
  }

  /** Register `name` of servo `id`, decoded (sign-magnitude registers come back signed). */
  async readRegister(id: number, name: RegisterName, options?: RequestOptions): Promise<number> {
    const { address, size } = registerSpec(name);
    return decodeRegister(name, await this.read(id, address, size, options));
  }

  /** Writes `value` to register `name` of servo `id`; read-only registers are refused. */
  async writeRegister(id: number, name: RegisterName, value: number, options?: RequestOptions): Promise<void> {
    const spec = writable('FeetechBus.writeRegister', name);
    await this.write(id, spec.address, encodeRegister(name, value), options);
  }

  /** Register `name` of each servo in `ids` with one SYNC_READ. */
  async syncReadRegister(ids: readonly number[], name: RegisterName, options?: RequestOptions): Promise<Map<number, number>> {
    const { address, size } = registerSpec(name);
    const raw = await this.syncRead(ids, address, size, options);
    return new Map([...raw].map(([id, bytes]) => [id, decodeRegister(name, bytes)]));
  }

  /** Writes register `name` of several servos with one SYNC_WRITE. */
  async syncWriteRegister(name: RegisterName, values: Iterable<readonly [number, number]>): Promise<void> {
    const spec = writable('FeetechBus.syncWriteRegister', name);
    await this.syncWrite(spec.address, spec.size, [...values].map(([id, v]) => [id, encodeRegister(name, v)] as const));
  }

  /** Enables (or disables) torque on `ids` with one SYNC_WRITE to `torqueEnable`. */
  async setTorque(ids: readonly number[], enabled: boolean): Promise<void> {
    if (typeof enabled !== 'boolean') throw new TypeError(`FeetechBus.setTorque: enabled must be a boolean, got ${enabled}`);
    await this.syncWriteRegister('torqueEnable', ids.map((id) => [id, enabled ? 1 : 0] as const));
  }

  /** Stops listening and closes the transport; a request in flight rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort?.(new FeetechError('FeetechBus: closed while a request was waiting for its reply', []));
    this.#unsubscribe();
    await this.#transport.close();
  }

  async #writeLike(name: string, instruction: number, id: number, address: number, data: ArrayLike<number>, options?: RequestOptions): Promise<void> {
    const fn = `FeetechBus.${name}(servo ${id}, address ${address}, ${data?.length} bytes)`;
    checkId(fn, id, true);
    checkSpan(fn, address, data.length);
    await this.#request(fn, encodeInstruction(id, instruction, [address, ...Array.from(data)]), id === BROADCAST_ID ? [] : [id], 0, options);
  }

  /** Queues one request; `ids` are the servos expected to reply (none for broadcasts). */
  #request(op: string, packet: Uint8Array, ids: readonly number[], dataLength: number, options: RequestOptions = {}): Promise<Map<number, Packet>> {
    const timeoutMs = checkTimeout(op, options.timeoutMs ?? this.#timeoutMs);
    const retries = checkRetries(op, options.retries ?? this.#retries);
    const run = async (): Promise<Map<number, Packet>> => {
      if (this.#closed) throw new FeetechError(`${op}: the bus is closed`, ids);
      this.stats.requests++;
      if (ids.length === 0) {
        await this.#transport.write(packet);
        return new Map();
      }
      const attempts = retries + 1;
      for (let k = 1; ; k++) {
        try {
          return this.#checkStatus(op, await this.#attempt(`${op} (attempt ${k} of ${attempts})`, packet, ids, dataLength, timeoutMs));
        } catch (e) {
          if (!isRetryable(e) || k === attempts || this.#closed) throw e;
          this.stats.retries++;
        }
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #checkStatus(op: string, replies: Map<number, Packet>): Map<number, Packet> {
    for (const p of replies.values()) {
      if (p.code === 0) continue;
      this.stats.statusErrors++;
      if (this.#statusErrors === 'throw') throw new FeetechStatusError(op, p.id, p.code, p.params);
    }
    return replies;
  }

  /** One attempt: send, then collect one reply per id (a corrupt or foreign reply takes a slot and fails the attempt). */
  #attempt(op: string, packet: Uint8Array, ids: readonly number[], dataLength: number, timeoutMs: number): Promise<Map<number, Packet>> {
    return new Promise((resolve, reject) => {
      const replies = new Map<number, Packet>();
      let failure: Error | undefined;
      let slots = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#pending = undefined;
        this.#abort = undefined;
        if (failure) reject(failure);
        else resolve(replies);
      };
      const fail = (e: Error): void => {
        failure ??= e;
      };
      this.#parser.reset();
      this.#parser.maxParams = dataLength;
      this.#pending = (item) => {
        slots++;
        if (item.kind === 'corrupt') {
          this.stats.checksumErrors++;
          fail(new FeetechChecksumError(op, item.id, item.expected, item.received, item.bytes));
        } else {
          const p = item.packet;
          if (!ids.includes(p.id)) {
            this.stats.wrongIds++;
            fail(new FeetechWrongIdError(op, ids, p.id));
          } else if (replies.has(p.id)) {
            this.stats.protocolErrors++;
            fail(new FeetechProtocolError(`${op}: servo ${p.id} replied twice`, p.id));
          } else {
            replies.set(p.id, p);
            if (p.params.length !== dataLength) {
              this.stats.protocolErrors++;
              fail(new FeetechProtocolError(`${op}: servo ${p.id} replied with ${p.params.length} data bytes, expected ${dataLength}`, p.id));
            }
          }
        }
        if (slots >= ids.length) finish();
      };
      this.#abort = (e) => {
        failure = e;
        finish();
      };
      this.#transport.write(packet).then(
        () => {
          if (done) return;
          timer = setTimeout(() => {
            const missing = ids.filter((id) => !replies.has(id));
            this.stats.timeouts++;
            const who = missing.length === 1 ? `servo ${missing[0]}` : `servos ${missing.join(', ')}`;
            fail(new FeetechTimeoutError(`${op}: no reply from ${who} within ${timeoutMs} ms`, ids, missing, timeoutMs));
            finish();
          }, timeoutMs);
        },
        (e: unknown) => {
          failure = new FeetechError(`${op}: writing to the transport failed: ${e instanceof Error ? e.message : String(e)}`, ids);
          finish();
        },
      );
    });
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function checkId(fn: string, id: number, allowBroadcast = false): void {
  const max = allowBroadcast ? BROADCAST_ID : MAX_SERVO_ID;
  if (!Number.isInteger(id) || id < 0 || id > max) throw new RangeError(`${fn}: servo id must be an integer in [0, ${max}], got ${id}`);
}

function checkIdList(fn: string, ids: readonly number[]): void {
  if (!Array.isArray(ids) || ids.length === 0) throw new RangeError(`${fn}: needs a non-empty list of servo ids`);
  for (const id of ids) checkId(fn, id);
  if (new Set(ids).size !== ids.length) throw new RangeError(`${fn}: servo ids repeat: ${ids.join(', ')}`);
}

function checkSpan(fn: string, address: number, length: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xff) throw new RangeError(`${fn}: address must be an integer in [0, 255], got ${address}`);
  if (!Number.isInteger(length) || length < 1 || length > MAX_PARAMS - 1) throw new RangeError(`${fn}: length must be an integer in [1, ${MAX_PARAMS - 1}], got ${length}`);
}

function checkTimeout(fn: string, ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new RangeError(`${fn}: timeoutMs must be a finite number > 0, got ${ms}`);
  return ms;
}

function checkRetries(fn: string, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: retries must be an integer ≥ 0, got ${n}`);
  return n;
}

function writable(fn: string, name: RegisterName): ReturnType<typeof registerSpec> {
  const spec = registerSpec(name);
  if (spec.access !== 'rw') throw new RangeError(`${fn}: register ${name} (address ${spec.address}) is read-only`);
  return spec;
}
