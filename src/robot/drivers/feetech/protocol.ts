/**
 * The Feetech SCS/STS serial-bus protocol (the Dynamixel-1.0-like protocol the STS3215 speaks), as
 * bytes. Every packet is
 *
 *   instruction:  FF FF id len instr p₁ … pₙ checksum
 *   status:       FF FF id len error p₁ … pₙ checksum
 *
 * with len = n + 2 and checksum = ~(id + len + instr|error + Σ pᵢ) & 0xFF. Ids 0…253 address one servo;
 * 254 (0xFE) is the broadcast id, to which no servo replies. Multi-byte values are little-endian.
 * This file builds and checks single packets; `packet-parser.ts` finds them in a byte stream.
 * @module
 */

/** The two header bytes that open every packet. */
export const PACKET_HEADER = 0xff;
/** The broadcast id: every servo obeys, none replies. */
export const BROADCAST_ID = 0xfe;
/** The largest id a single servo may have. */
export const MAX_SERVO_ID = 0xfd;
/** The most parameter bytes one packet can carry (len is one byte and counts the instruction and checksum). */
export const MAX_PARAMS = 0xff - 2;

/** Instruction codes of the SCS/STS protocol. */
export const Instruction = {
  /** Asks a servo to reply with an empty status packet. */
  PING: 0x01,
  /** Params [address, length]: reply carries `length` bytes from the control table. */
  READ: 0x02,
  /** Params [address, data…]: writes at once. */
  WRITE: 0x03,
  /** Params [address, data…]: buffered until ACTION. */
  REG_WRITE: 0x04,
  /** Applies every buffered REG_WRITE (usually broadcast). */
  ACTION: 0x05,
  /** Restores the factory control table. */
  RESET: 0x06,
  /** Params [address, length, id₁ … idₖ]: each listed servo replies in turn with its `length` bytes. */
  SYNC_READ: 0x82,
  /** Params [address, length, (id, data[length])…]: writes each servo's data; nobody replies. */
  SYNC_WRITE: 0x83,
} as const;

/** One of the {@link Instruction} codes. */
export type InstructionCode = (typeof Instruction)[keyof typeof Instruction];

const INSTRUCTION_NAMES = new Map<number, string>(Object.entries(Instruction).map(([k, v]) => [v, k]));

/** The instruction's name (`READ`, `SYNC_WRITE`, …), or `0x..` for an unknown code. */
export function instructionName(code: number): string {
  return INSTRUCTION_NAMES.get(code) ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/**
 * The bits of a status packet's error byte. Feetech's SDK names bits 0, 1, 2, 3 and 5 (`ERRBIT_VOLTAGE`,
 * `ERRBIT_ANGLE`, `ERRBIT_OVERHEAT`, `ERRBIT_OVERELE`, `ERRBIT_OVERLOAD`); bits 4 and 6 keep their
 * Dynamixel-1.0 meaning (checksum, instruction), and bit 7 is unassigned.
 */
export const StatusErrorBit = {
  /** Input voltage outside the limits of registers 14/15. */
  voltage: 0x01,
  /** Angle sensor fault or position outside the angle limits. */
  angle: 0x02,
  /** Temperature above the limit of register 13. */
  overheat: 0x04,
  /** Current above the protection current (Feetech "overele"). */
  overcurrent: 0x08,
  /** The servo saw a bad checksum (Dynamixel-1.0 meaning). */
  checksum: 0x10,
  /** Load above the overload torque for the protection time. */
  overload: 0x20,
  /** Unknown or malformed instruction (Dynamixel-1.0 meaning). */
  instruction: 0x40,
  /** Unassigned. */
  bit7: 0x80,
} as const;

/** The name of one status error bit. */
export type StatusErrorName = keyof typeof StatusErrorBit;

/** The names of the bits set in a status packet's error byte, lowest bit first (empty when it is 0). */
export function statusErrorNames(error: number): StatusErrorName[] {
  return (Object.keys(StatusErrorBit) as StatusErrorName[]).filter((k) => (error & StatusErrorBit[k]) !== 0);
}

/**
 * The packet checksum over the bytes after the header: ~(id + len + instr|error + Σ params) & 0xFF.
 * `body` is `[id, len, instr, ...params]` (no header, no checksum).
 */
export function checksum(body: ArrayLike<number>, start = 0, end = body.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += body[i]!;
  return ~s & 0xff;
}

const byte = (fn: string, what: string, v: number, max = 0xff): void => {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${fn}: ${what} must be an integer in [0, ${max}], got ${v}`);
};

function frame(fn: string, id: number, code: number, params: ArrayLike<number>): Uint8Array {
  byte(fn, 'id', id, BROADCAST_ID);
  byte(fn, 'instruction/error byte', code);
  if (params.length > MAX_PARAMS) throw new RangeError(`${fn}: at most ${MAX_PARAMS} parameter bytes fit in a packet, got ${params.length}`);
  const out = new Uint8Array(params.length + 6);
  out[0] = PACKET_HEADER;
  out[1] = PACKET_HEADER;
  out[2] = id;
  out[3] = params.length + 2;
  out[4] = code;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    byte(fn, `params[${i}]`, p);
    out[5 + i] = p;
  }
  out[out.length - 1] = checksum(out, 2, out.length - 1);
  return out;
}

/** The bytes of an instruction packet `FF FF id len instr params… checksum`. */
export function encodeInstruction(id: number, instruction: number, params: ArrayLike<number> = []): Uint8Array {
  return frame('encodeInstruction', id, instruction, params);
}

/** The bytes of a status packet `FF FF id len error params… checksum` (what a servo sends back). */
export function encodeStatus(id: number, error: number, params: ArrayLike<number> = []): Uint8Array {
  return frame('encodeStatus', id, error, params);
}

/**
 * A decoded packet. For an instruction packet `code` is the instruction; for a status packet it is
 * the error byte (the layout is the same, so which one it is depends on who sent it).
 */
export interface Packet {
  /** The servo id (or 254 for broadcast). */
  readonly id: number;
  /** The instruction (host → servo) or the error byte (servo → host). */
  readonly code: number;
  /** The parameter bytes. */
  readonly params: Uint8Array;
}

/**
 * Decodes exactly one whole packet; throws naming the problem when the header, length or checksum is
 * wrong. For byte streams use `PacketParser`.
 */
export function decodePacket(bytes: Uint8Array): Packet {
  const fn = 'decodePacket';
  if (bytes.length < 6) throw new RangeError(`${fn}: a packet is at least 6 bytes, got ${bytes.length}`);
  if (bytes[0] !== PACKET_HEADER || bytes[1] !== PACKET_HEADER) throw new RangeError(`${fn}: packet must start with FF FF, got ${hex(bytes.subarray(0, 2))}`);
  const len = bytes[3]!;
  if (len + 4 !== bytes.length) throw new RangeError(`${fn}: length byte ${len} implies ${len + 4} bytes, got ${bytes.length}`);
  const want = checksum(bytes, 2, bytes.length - 1);
  const got = bytes[bytes.length - 1]!;
  if (want !== got) throw new RangeError(`${fn}: bad checksum 0x${got.toString(16)} (expected 0x${want.toString(16)}) in ${hex(bytes)}`);
  return { id: bytes[2]!, code: bytes[4]!, params: bytes.slice(5, bytes.length - 1) };
}

/** Bytes as `FF FF 01 …` for messages. */
export function hex(bytes: ArrayLike<number>, limit = 32): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, limit); i++) parts.push(bytes[i]!.toString(16).toUpperCase().padStart(2, '0'));
  return parts.join(' ') + (bytes.length > limit ? ` … (${bytes.length} bytes)` : '');
}

/** Little-endian bytes of an unsigned `size`-byte value. */
export function toLittleEndian(value: number, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(Math.floor(value / 256 ** i) & 0xff);
  return out;
}

/** The unsigned value of `size` little-endian bytes at `offset`. */
export function fromLittleEndian(bytes: ArrayLike<number>, offset: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[offset + i]!;
  return v;
}
