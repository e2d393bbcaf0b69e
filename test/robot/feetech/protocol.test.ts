/**
 * Feetech SCS/STS packets: `FF FF id len code params… checksum` with len = n + 2 and
 * checksum = ~(id + len + code + Σ params) & 0xFF; status error bits; the STS3215 control table's
 * little-endian and sign-magnitude encodings.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BROADCAST_ID,
  Instruction,
  MAX_PARAMS,
  StatusErrorBit,
  checksum,
  decodePacket,
  encodeInstruction,
  encodeStatus,
  instructionName,
  statusErrorNames,
} from '../../../src/robot/drivers/feetech/protocol.js';
import { STS3215_REGISTERS, decodeRegister, encodeRegister, registerRange, type RegisterName } from '../../../src/robot/drivers/feetech/control-table.js';

const id = fc.integer({ min: 0, max: BROADCAST_ID });
const params = fc.uint8Array({ maxLength: 40 });

describe('Feetech packets', () => {
  test('encode → decode is the identity for every id, code and parameter list; len = n + 2', () => {
    fc.assert(
      fc.property(id, fc.integer({ min: 0, max: 255 }), params, fc.boolean(), (i, code, p, status) => {
        const bytes = status ? encodeStatus(i, code, p) : encodeInstruction(i, code, p);
        assert.equal(bytes.length, p.length + 6);
        assert.deepEqual([bytes[0], bytes[1]], [0xff, 0xff]);
        assert.equal(bytes[3], p.length + 2);
        const d = decodePacket(bytes);
        assert.equal(d.id, i);
        assert.equal(d.code, code);
        assert.deepEqual(Array.from(d.params), Array.from(p));
      }),
    );
  });

  test('the checksum is the low byte of the complement of the sum after the header, so the body plus checksum sums to 0xFF mod 256', () => {
    fc.assert(
      fc.property(id, fc.integer({ min: 0, max: 255 }), params, (i, code, p) => {
        const bytes = encodeInstruction(i, code, p);
        const sum = bytes.subarray(2).reduce((s, b) => s + b, 0);
        assert.equal(sum % 256, 0xff);
        assert.equal(bytes[bytes.length - 1], checksum([i, p.length + 2, code, ...p]));
      }),
    );
  });

  test('a known packet: READ of 2 bytes at 56 from servo 1 is FF FF 01 04 02 38 02 BE', () => {
    // ~(1 + 4 + 2 + 0x38 + 2) & 0xFF = ~0x41 & 0xFF = 0xBE, computed by hand.
    assert.deepEqual(Array.from(encodeInstruction(1, Instruction.READ, [0x38, 2])), [0xff, 0xff, 0x01, 0x04, 0x02, 0x38, 0x02, 0xbe]);
  });

  test('any single-byte change after the header makes decodePacket throw', () => {
    fc.assert(
      fc.property(id, params, fc.nat(), fc.integer({ min: 1, max: 255 }), (i, p, at, delta) => {
        const bytes = encodeStatus(i, 0, p);
        const k = 2 + (at % (bytes.length - 2));
        bytes[k] = (bytes[k]! + delta) & 0xff;
        assert.throws(() => decodePacket(bytes), /checksum|length byte/);
      }),
    );
  });

  test('bad input throws naming the function and the value', () => {
    assert.throws(() => encodeInstruction(256, Instruction.PING), /encodeInstruction: id must be an integer in \[0, 254\], got 256/);
    assert.throws(() => encodeInstruction(1, Instruction.WRITE, [1, 300]), /params\[1\].*300/);
    assert.throws(() => encodeInstruction(1, Instruction.WRITE, new Uint8Array(MAX_PARAMS + 1)), /at most 253/);
    assert.throws(() => decodePacket(Uint8Array.of(0xff, 0xfe, 1, 2, 1, 0)), /must start with FF FF/);
    assert.throws(() => decodePacket(Uint8Array.of(0xff, 0xff, 1)), /at least 6 bytes/);
  });

  test('status error bits are named: voltage, angle, overheat, overcurrent, overload…', () => {
    assert.deepEqual(statusErrorNames(0), []);
    assert.deepEqual(statusErrorNames(0x01 | 0x04 | 0x20), ['voltage', 'overheat', 'overload']);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (e) => {
        const names = statusErrorNames(e);
        assert.equal(names.reduce((s, n) => s | StatusErrorBit[n], 0), e);
      }),
    );
    assert.equal(instructionName(Instruction.SYNC_READ), 'SYNC_READ');
    assert.equal(instructionName(0x7f), '0x7f');
  });
});

describe('STS3215 control table', () => {
  const names = Object.keys(STS3215_REGISTERS) as RegisterName[];

  test('registers do not overlap and fit in the 256-byte table', () => {
    const used = new Map<number, string>();
    for (const n of names) {
      const { address, size } = STS3215_REGISTERS[n];
      for (let a = address; a < address + size; a++) {
        assert.ok(!used.has(a), `${n} overlaps ${used.get(a)} at ${a}`);
        used.set(a, n);
      }
    }
    assert.ok(Math.max(...used.keys()) < 256);
  });

  test('the addresses the SO-100/SO-101 stack relies on', () => {
    const at = (n: RegisterName) => [STS3215_REGISTERS[n].address, STS3215_REGISTERS[n].size];
    assert.deepEqual(at('id'), [5, 1]);
    assert.deepEqual(at('baudRate'), [6, 1]);
    assert.deepEqual(at('minPositionLimit'), [9, 2]);
    assert.deepEqual(at('maxPositionLimit'), [11, 2]);
    assert.deepEqual(at('torqueEnable'), [40, 1]);
    assert.deepEqual(at('goalPosition'), [42, 2]);
    assert.deepEqual(at('lock'), [55, 1]);
    assert.deepEqual(at('presentPosition'), [56, 2]);
    assert.deepEqual(at('presentVelocity'), [58, 2]);
    assert.deepEqual(at('presentLoad'), [60, 2]);
    assert.deepEqual(at('presentVoltage'), [62, 1]);
    assert.deepEqual(at('presentTemperature'), [63, 1]);
  });

  test('encodeRegister → decodeRegister is the identity over each register’s range (sign-magnitude where signed)', () => {
    for (const n of names) {
      const [lo, hi] = registerRange(n);
      fc.assert(
        fc.property(fc.integer({ min: lo, max: hi }), (v) => {
          const bytes = encodeRegister(n, v);
          assert.equal(bytes.length, STS3215_REGISTERS[n].size);
          assert.equal(decodeRegister(n, bytes), v);
        }),
        { numRuns: 50 },
      );
      assert.throws(() => encodeRegister(n, hi + 1), new RegExp(`encodeRegister: ${n}`));
    }
  });

  test('sign-magnitude: −v sets the sign bit over the magnitude of v; little-endian byte order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2047 }), (v) => {
        const [lo, hi] = encodeRegister('homingOffset', -v) as [number, number];
        assert.equal(lo + 256 * hi, v | (1 << 11));
        const [plo, phi] = encodeRegister('presentLoad', 0) as [number, number];
        assert.equal(plo + phi, 0);
        assert.deepEqual(encodeRegister('goalPosition', v), [v & 0xff, v >> 8]);
      }),
    );
    assert.equal(decodeRegister('presentLoad', [0x10, 0x04]), -16); // bit 10 set, magnitude 16
    assert.equal(decodeRegister('presentVelocity', [0x05, 0x80]), -5); // bit 15 set, magnitude 5
  });
});
