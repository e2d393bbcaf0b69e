/**
 * A streaming parser for Feetech packets (`FF FF id len code params… checksum`, see `protocol.ts`):
 * bytes may arrive split across chunks or several packets in one chunk, with garbage in between.
 *
 * Resynchronisation: the parser looks for `FF FF` followed by an id other than `FF` and a length byte
 * 2 ≤ len ≤ maxParams + 2. A candidate whose checksum fails is reported as `corrupt` and the search
 * restarts one byte after its first header byte, so a false header inside garbage (or a corrupted
 * packet) never swallows the packets that follow it — unless the false frame happens to pass the
 * checksum, which no framing without a length-independent delimiter can rule out.
 * @module
 */
import { checksum, PACKET_HEADER, MAX_PARAMS, type Packet } from './protocol.js';

/** What {@link PacketParser.push} finds. */
export type ParsedItem =
  | {
      /** A whole packet with a good checksum. */
      readonly kind: 'packet';
      /** The decoded packet. */
      readonly packet: Packet;
      /** Its bytes, header to checksum. */
      readonly bytes: Uint8Array;
    }
  | {
      /** A well-framed candidate whose checksum failed. */
      readonly kind: 'corrupt';
      /** The id byte of the candidate. */
      readonly id: number;
      /** The checksum the bytes imply. */
      readonly expected: number;
      /** The checksum byte received. */
      readonly received: number;
      /** The candidate's bytes, header to checksum. */
      readonly bytes: Uint8Array;
    };

/** Options of {@link PacketParser}. */
export interface PacketParserOptions {
  /** Longest parameter list accepted (0…253, default 253); longer length bytes are treated as garbage. */
  readonly maxParams?: number;
}

/** Finds packets in a byte stream; see the module comment for how it resynchronises. */
export class PacketParser {
  #buf = new Uint8Array(64);
  #len = 0;
  #maxParams: number;
  #skipped = 0;

  /** A parser with an empty buffer. */
  constructor(options: PacketParserOptions = {}) {
    this.#maxParams = PacketParser.#checkMax(options.maxParams ?? MAX_PARAMS);
  }

  static #checkMax(m: number): number {
    if (!Number.isInteger(m) || m < 0 || m > MAX_PARAMS) throw new RangeError(`PacketParser: maxParams must be an integer in [0, ${MAX_PARAMS}], got ${m}`);
    return m;
  }

  /** Longest parameter list accepted; a smaller bound lets a false header be rejected sooner. */
  get maxParams(): number {
    return this.#maxParams;
  }

  /** Sets the longest parameter list accepted (0…253). */
  set maxParams(m: number) {
    this.#maxParams = PacketParser.#checkMax(m);
  }

  /** Bytes discarded as garbage so far (corrupt candidates count their first byte). */
  get skipped(): number {
    return this.#skipped;
  }

  /** Bytes held, waiting for the rest of a packet. */
  get buffered(): number {
    return this.#len;
  }

  /** Forgets buffered bytes (e.g. before a new request, so a stale partial reply cannot complete). */
  reset(): void {
    this.#skipped += this.#len;
    this.#len = 0;
  }

  /** Appends `chunk` and returns every packet and corrupt candidate now complete, in stream order. */
  push(chunk: Uint8Array): ParsedItem[] {
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`PacketParser.push: chunk must be a Uint8Array, got ${Object.prototype.toString.call(chunk)}`);
    if (this.#len + chunk.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + chunk.length));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
    const out: ParsedItem[] = [];
    let pos = 0;
    const buf = this.#buf;
    const end = this.#len;
    while (pos < end) {
      if (buf[pos] !== PACKET_HEADER) {
        pos++;
        this.#skipped++;
        continue;
      }
      if (pos + 4 > end) break; // need FF FF id len
      const id = buf[pos + 2]!;
      const len = buf[pos + 3]!;
      if (buf[pos + 1] !== PACKET_HEADER || id === PACKET_HEADER || len < 2 || len > this.#maxParams + 2) {
        pos++;
        this.#skipped++;
        continue;
      }
      const total = len + 4;
      if (pos + total > end) break;
      const bytes = buf.slice(pos, pos + total);
      const expected = checksum(bytes, 2, total - 1);
      const received = bytes[total - 1]!;
      if (expected === received) {
        out.push({ kind: 'packet', packet: { id, code: bytes[4]!, params: bytes.slice(5, total - 1) }, bytes });
        pos += total;
      } else {
        out.push({ kind: 'corrupt', id, expected, received, bytes });
        pos++;
        this.#skipped++;
      }
    }
    buf.copyWithin(0, pos, end);
    this.#len = end - pos;
    return out;
  }
}
