/**
 * The errors of the Feetech bus. Every one names the operation and the servo id(s); the retryable
 * ones (timeout, checksum, wrong id, malformed reply) are what `FeetechBus` retries before giving up,
 * a status error (the servo answered and reported a fault) is thrown at once.
 * @module
 */
import { hex, statusErrorNames, type StatusErrorName } from './protocol.js';

/** The base class of the Feetech bus errors. */
export class FeetechError extends Error {
  /** The servo ids the failed request addressed. */
  readonly ids: readonly number[];

  /** An error about `ids`. */
  constructor(message: string, ids: readonly number[]) {
    super(message);
    this.name = 'FeetechError';
    this.ids = Object.freeze([...ids]);
  }
}

/** No (complete) reply arrived within the timeout, on every attempt. */
export class FeetechTimeoutError extends FeetechError {
  /** The servos that did not reply. */
  readonly missing: readonly number[];
  /** The timeout of each attempt, in ms. */
  readonly timeoutMs: number;

  /** A timeout of the request to `ids`, of which `missing` never replied. */
  constructor(message: string, ids: readonly number[], missing: readonly number[], timeoutMs: number) {
    super(message, ids);
    this.name = 'FeetechTimeoutError';
    this.missing = Object.freeze([...missing]);
    this.timeoutMs = timeoutMs;
  }
}

/** A reply arrived with a checksum that does not match its bytes. */
export class FeetechChecksumError extends FeetechError {
  /** The received bytes, header to checksum. */
  readonly bytes: Uint8Array;

  /** A bad-checksum reply claiming to come from `id`. */
  constructor(operation: string, id: number, expected: number, received: number, bytes: Uint8Array) {
    super(`${operation}: bad checksum in reply from servo ${id}: received 0x${received.toString(16)}, expected 0x${expected.toString(16)} (${hex(bytes)})`, [id]);
    this.name = 'FeetechChecksumError';
    this.bytes = bytes;
  }
}

/** A reply came from a servo the request did not address. */
export class FeetechWrongIdError extends FeetechError {
  /** The id the reply carried. */
  readonly received: number;

  /** A reply from `received` while waiting for `ids`. */
  constructor(operation: string, ids: readonly number[], received: number) {
    super(`${operation}: expected a reply from servo ${ids.join(', ')} but servo ${received} replied`, ids);
    this.name = 'FeetechWrongIdError';
    this.received = received;
  }
}

/** A well-formed reply with the wrong shape (e.g. fewer data bytes than asked for), or a duplicate. */
export class FeetechProtocolError extends FeetechError {
  /** A malformed reply from `id`. */
  constructor(message: string, id: number) {
    super(message, [id]);
    this.name = 'FeetechProtocolError';
  }
}

/** The servo replied but set bits in its error byte (voltage, angle, overheat, overcurrent, overload…). */
export class FeetechStatusError extends FeetechError {
  /** The servo that reported the fault. */
  readonly id: number;
  /** The raw error byte. */
  readonly error: number;
  /** The names of the bits set. */
  readonly faults: readonly StatusErrorName[];
  /** The reply's data bytes (valid: the servo answered). */
  readonly data: Uint8Array;

  /** A status error `error` from servo `id`, with the reply's `data`. */
  constructor(operation: string, id: number, error: number, data: Uint8Array) {
    const faults = statusErrorNames(error);
    super(`${operation}: servo ${id} reports ${faults.join(', ')} (error byte 0x${error.toString(16).padStart(2, '0')})`, [id]);
    this.name = 'FeetechStatusError';
    this.id = id;
    this.error = error;
    this.faults = Object.freeze(faults);
    this.data = data;
  }
}

/** Whether `e` is a bus error worth retrying: a lost, corrupted, misaddressed or malformed reply. */
export function isRetryable(e: unknown): boolean {
  return e instanceof FeetechTimeoutError || e instanceof FeetechChecksumError || e instanceof FeetechWrongIdError || e instanceof FeetechProtocolError;
}
