/**
 * The streaming packet parser: packets split anywhere and concatenated, with garbage between them,
 * come out whole, in order, exactly once; corrupted packets are reported, not delivered, and do not
 * hide the packets after them; arbitrary bytes never make it throw or deliver a bad packet.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketParser, type ParsedItem } from '../../../src/robot/drivers/feetech/packet-parser.js';
import { encodeStatus, checksum } from '../../../src/robot/drivers/feetech/protocol.js';

const packet = fc.record({ id: fc.integer({ min: 0, max: 253 }), error: fc.integer({ min: 0, max: 255 }), params: fc.uint8Array({ maxLength: 12 }) });
/** Garbage with no 0xFF byte cannot contain a header, so the exact packet sequence must come out. */
const cleanGarbage = fc.array(fc.integer({ min: 0, max: 0xfe }), { maxLength: 8 });

/** Splits `bytes` at the given cut points (taken modulo the length). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function feed(parser: PacketParser, chunks: Uint8Array[]): ParsedItem[] {
  return chunks.flatMap((c) => parser.push(c));
}

const concat = (parts: ArrayLike<number>[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

describe('PacketParser', () => {
  test('random splits and concatenations with garbage between packets: every packet once, in order, nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(cleanGarbage, packet), { maxLength: 8 }), cleanGarbage, fc.array(fc.nat(), { maxLength: 20 }), (items, tail, cuts) => {
        const stream = concat([...items.flatMap(([g, p]) => [g, encodeStatus(p.id, p.error, p.params)]), tail]);
        const parser = new PacketParser();
        const out = feed(parser, split(stream, cuts));
        assert.ok(out.every((x) => x.kind === 'packet'));
        assert.deepEqual(
          out.map((x) => (x.kind === 'packet' ? [x.packet.id, x.packet.code, Array.from(x.packet.params)] : null)),
          items.map(([, p]) => [p.id, p.error, Array.from(p.params)]),
        );
        const garbage = items.reduce((s, [g]) => s + g.length, 0) + tail.length;
        assert.equal(parser.skipped + parser.buffered, garbage);
      }),
    );
  });

  test('a packet with a bad checksum is reported as corrupt with its id, and the packets after it still come out', () => {
    fc.assert(
      fc.property(
        packet,
        // Parameters without 0xFF so the corrupted packet's body cannot hold a false header.
        fc.record({ id: fc.integer({ min: 0, max: 253 }), params: fc.array(fc.integer({ min: 0, max: 0xfe }), { maxLength: 8 }) }),
        packet,
        fc.integer({ min: 1, max: 255 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (a, bad, c, delta, cuts) => {
          const corrupted = encodeStatus(bad.id, 0, bad.params);
          corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1]! + delta) & 0xff;
          const stream = concat([encodeStatus(a.id, a.error, a.params), corrupted, encodeStatus(c.id, c.error, c.params)]);
          const out = feed(new PacketParser(), split(stream, cuts));
          assert.deepEqual(
            out.map((x) => (x.kind === 'packet' ? `packet ${x.packet.id}` : `corrupt ${x.id}`)),
            [`packet ${a.id}`, `corrupt ${bad.id}`, `packet ${c.id}`],
          );
          const bad2 = out[1]!;
          assert.ok(bad2.kind === 'corrupt' && bad2.expected === checksum(corrupted, 2, corrupted.length - 1));
        },
      ),
    );
  });

  test('arbitrary bytes: never throws, every delivered packet has a good checksum, and bytes are all accounted for', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const parser = new PacketParser();
        const out = feed(parser, split(bytes, cuts));
        let delivered = 0;
        for (const x of out) {
          if (x.kind !== 'packet') continue;
          delivered += x.bytes.length;
          assert.deepEqual(Array.from(encodeStatus(x.packet.id, x.packet.code, x.packet.params)), Array.from(x.bytes));
        }
        assert.equal(delivered + parser.skipped + parser.buffered, bytes.length);
      }),
    );
  });

  test('after garbage that opens a false header, a real packet is still found (the false frame fails its checksum and the search resumes)', () => {
    // FF FF 07 04 … claims a 4-parameter packet; its "checksum" is the real packet's first byte.
    const real = encodeStatus(3, 0, [0x10, 0x20]);
    const out = feed(new PacketParser(), [Uint8Array.of(0xff, 0xff, 0x07, 0x04, 0x01), real]);
    const packets = out.filter((x) => x.kind === 'packet');
    assert.equal(packets.length, 1);
    assert.ok(packets[0]!.kind === 'packet' && packets[0]!.packet.id === 3);
  });

  test('maxParams rejects longer length bytes as garbage; reset() drops a partial packet', () => {
    const parser = new PacketParser({ maxParams: 2 });
    assert.deepEqual(parser.push(encodeStatus(1, 0, [1, 2, 3])), []);
    assert.equal(parser.push(encodeStatus(1, 0, [1, 2])).length, 1);
    const half = encodeStatus(2, 0, [9]);
    parser.push(half.subarray(0, 4));
    assert.equal(parser.buffered, 4);
    parser.reset();
    assert.deepEqual(parser.push(half.subarray(4)), []);
    assert.throws(() => new PacketParser({ maxParams: 300 }), /PacketParser: maxParams must be an integer in \[0, 253\], got 300/);
    assert.throws(() => parser.push([1, 2] as unknown as Uint8Array), /PacketParser.push: chunk must be a Uint8Array/);
  });
});
