/**
 * FeetechBus against the emulated servo bus over an in-memory link: ping, read, write, REG_WRITE/ACTION,
 * sync-read, sync-write and torque enable move the emulated control tables as the protocol says; bad
 * checksums, misaddressed and malformed replies are retried; missing replies end in a timeout naming
 * the servo; status error bits are named and not retried.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeetechBus, type FeetechBusOptions } from '../../../src/robot/drivers/feetech/bus.js';
import { FeetechEmulator, type FeetechEmulatorOptions } from '../../../src/robot/drivers/feetech/emulator.js';
import { createMemoryLink, type MemoryLinkOptions } from '../../../src/robot/drivers/feetech/transport.js';
import { FeetechChecksumError, FeetechError, FeetechStatusError, FeetechTimeoutError, FeetechWrongIdError } from '../../../src/robot/drivers/feetech/errors.js';
import { STS3215_MODEL_NUMBER, encodeRegister } from '../../../src/robot/drivers/feetech/control-table.js';
import { BROADCAST_ID, StatusErrorBit } from '../../../src/robot/drivers/feetech/protocol.js';

interface Rig {
  bus: FeetechBus;
  emulator: FeetechEmulator;
}

/** Runs `body` with a bus and an emulator on the two ends of a memory link, closing both after. */
async function withRig(body: (rig: Rig) => Promise<void>, opts: { emulator?: FeetechEmulatorOptions; bus?: FeetechBusOptions; link?: MemoryLinkOptions } = {}): Promise<void> {
  const [host, device] = createMemoryLink(opts.link);
  const emulator = new FeetechEmulator(device, { autoStep: false, ...opts.emulator });
  const bus = new FeetechBus(host, { timeoutMs: 20, retries: 2, ...opts.bus });
  try {
    await body({ bus, emulator });
  } finally {
    await bus.close();
    await emulator.close();
  }
}

describe('FeetechBus with the emulated bus', () => {
  test('ping answers for every servo on the bus; scan finds exactly the emulated ids', async () => {
    const ids = [1, 2, 3, 7, 12];
    await withRig(
      async ({ bus }) => {
        for (const id of ids) await bus.ping(id);
        assert.deepEqual(await bus.scan(Array.from({ length: 16 }, (_, i) => i), { timeoutMs: 5 }), ids);
      },
      { emulator: { ids } },
    );
  });

  test('write then read returns what was written, for any goal position; read-only registers read the model number', async () => {
    await withRig(async ({ bus, emulator }) => {
      assert.equal(await bus.readRegister(4, 'modelNumber'), STS3215_MODEL_NUMBER);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 4095 }), async (id, goal) => {
          await bus.writeRegister(id, 'goalPosition', goal);
          assert.equal(await bus.readRegister(id, 'goalPosition'), goal);
          assert.equal(emulator.servo(id).get('goalPosition'), goal);
          const raw = await bus.read(id, 42, 2);
          assert.deepEqual(Array.from(raw), encodeRegister('goalPosition', goal));
        }),
        { numRuns: 25 },
      );
      await assert.rejects(bus.writeRegister(1, 'presentPosition', 5), /writeRegister: register presentPosition \(address 56\) is read-only/);
    });
  });

  test('sync-write sets every goal; with torque on the shafts move toward them at the emulated speed, and sync-read reports it', async () => {
    await withRig(
      async ({ bus, emulator }) => {
        const ids = [1, 2, 3];
        const goals = new Map([
          [1, 2048 + 300],
          [2, 2048 - 500],
          [3, 2048],
        ]);
        await bus.syncWriteRegister('goalPosition', [...goals]);
        emulator.step(0.1); // torque is off: nothing moves
        assert.deepEqual([...(await bus.syncReadRegister(ids, 'presentPosition')).values()], [2048, 2048, 2048]);
        await bus.setTorque(ids, true);
        assert.deepEqual(ids.map((id) => emulator.servo(id).get('torqueEnable')), [1, 1, 1]);
        emulator.step(0.1); // 1000 ticks/s · 0.1 s = 100 ticks toward each goal
        assert.deepEqual([...(await bus.syncReadRegister(ids, 'presentPosition'))], [
          [1, 2148],
          [2, 1948],
          [3, 2048],
        ]);
        const speeds = await bus.syncReadRegister(ids, 'presentVelocity');
        assert.deepEqual([...speeds.values()], [1000, -1000, 0]);
        emulator.step(1);
        assert.deepEqual([...(await bus.syncReadRegister(ids, 'presentPosition')).values()], [2348, 1548, 2048]);
        await bus.setTorque(ids, false);
        assert.deepEqual(ids.map((id) => emulator.servo(id).get('torqueEnable')), [0, 0, 0]);
      },
      { emulator: { ids: [1, 2, 3], speed: 1000 } },
    );
  });

  test('a goal outside the angle limits stops at the limit', async () => {
    await withRig(async ({ bus, emulator }) => {
      await bus.writeRegister(1, 'maxPositionLimit', 2100);
      await bus.writeRegister(1, 'torqueEnable', 1);
      await bus.writeRegister(1, 'goalPosition', 4000);
      emulator.step(10);
      assert.equal(await bus.readRegister(1, 'presentPosition'), 2100);
    });
  });

  test('REG_WRITE is held until ACTION; RESET restores factory values', async () => {
    await withRig(async ({ bus, emulator }) => {
      await bus.regWrite(2, 42, encodeRegister('goalPosition', 1000));
      assert.equal(emulator.servo(2).get('goalPosition'), 2048);
      await bus.action();
      assert.equal(emulator.servo(2).get('goalPosition'), 1000);
      await bus.writeRegister(2, 'maxTorqueLimit', 10);
      await bus.reset(2);
      assert.equal(await bus.readRegister(2, 'maxTorqueLimit'), 1000);
    });
  });

  test('writing the id register readdresses the servo; an id already taken is refused', async () => {
    await withRig(async ({ bus, emulator }) => {
      await bus.writeRegister(6, 'id', 9);
      await bus.ping(9);
      await assert.rejects(bus.ping(6, { retries: 0 }), FeetechTimeoutError);
      await bus.writeRegister(9, 'id', 1);
      assert.equal(await bus.readRegister(9, 'id'), 9);
      assert.deepEqual(emulator.ids, [1, 2, 3, 4, 5, 9]);
    });
  });

  test('a broadcast write reaches every servo and waits for no reply', async () => {
    await withRig(async ({ bus, emulator }) => {
      await bus.write(BROADCAST_ID, 40, [1]);
      await bus.ping(1); // the next request completes, so the broadcast was handled first
      assert.deepEqual(emulator.ids.map((id) => emulator.servo(id).get('torqueEnable')), [1, 1, 1, 1, 1, 1]);
      assert.equal(emulator.stats.replies, 1);
    });
  });

  test('every request still works when the link delivers one byte per chunk', async () => {
    const bytewise = (b: Uint8Array) => Array.from(b, (x) => Uint8Array.of(x));
    await withRig(
      async ({ bus }) => {
        await bus.syncWriteRegister('goalPosition', [
          [1, 100],
          [2, 200],
        ]);
        assert.deepEqual([...(await bus.syncReadRegister([1, 2], 'goalPosition')).values()], [100, 200]);
        assert.equal(bus.stats.retries, 0);
      },
      { link: { split: bytewise } },
    );
  });

  test('requests issued together are queued and each gets its own servo’s reply', async () => {
    await withRig(async ({ bus, emulator }) => {
      for (const id of emulator.ids) emulator.servo(id).set('goalPosition', 100 * id);
      const got = await Promise.all(emulator.ids.map((id) => bus.readRegister(id, 'goalPosition')));
      assert.deepEqual(got, [100, 200, 300, 400, 500, 600]);
    });
  });
});

describe('FeetechBus faults', () => {
  test('a bad checksum fails the attempt and the retry succeeds', async () => {
    await withRig(async ({ bus, emulator }) => {
      emulator.injectFault({ kind: 'corrupt', id: 2 });
      assert.equal(await bus.readRegister(2, 'modelNumber'), STS3215_MODEL_NUMBER);
      assert.equal(bus.stats.checksumErrors, 1);
      assert.equal(bus.stats.retries, 1);
    });
  });

  test('bad checksums on every attempt end in FeetechChecksumError naming the servo', async () => {
    await withRig(async ({ bus, emulator }) => {
      emulator.injectFault({ kind: 'corrupt', id: 5, count: Infinity });
      await assert.rejects(bus.ping(5), (e: unknown) => {
        assert.ok(e instanceof FeetechChecksumError);
        assert.match(e.message, /ping\(servo 5\) \(attempt 3 of 3\): bad checksum in reply from servo 5/);
        assert.deepEqual(e.ids, [5]);
        return true;
      });
    });
  });

  test('a missing reply ends in a timeout naming the servo, after retries+1 attempts', async () => {
    await withRig(
      async ({ bus, emulator }) => {
        emulator.injectFault({ kind: 'drop', id: 3, count: Infinity });
        await assert.rejects(bus.read(3, 56, 2), (e: unknown) => {
          assert.ok(e instanceof FeetechTimeoutError);
          assert.match(e.message, /read\(servo 3, address 56, 2 bytes\) \(attempt 2 of 2\): no reply from servo 3 within 10 ms/);
          assert.deepEqual(e.missing, [3]);
          return true;
        });
        assert.equal(emulator.stats.dropped, 2);
        assert.equal(bus.stats.timeouts, 2);
        await bus.ping(4); // the bus is still usable
      },
      { bus: { timeoutMs: 10, retries: 1 } },
    );
  });

  test('one dropped reply out of a sync-read is retried; a servo that never answers is named alone', async () => {
    await withRig(async ({ bus, emulator }) => {
      emulator.injectFault({ kind: 'drop', id: 4 });
      assert.equal((await bus.syncRead([1, 2, 3, 4, 5, 6], 56, 8)).size, 6);
      assert.equal(bus.stats.retries, 1);
      emulator.servo(6).online = false;
      await assert.rejects(bus.syncReadRegister([1, 2, 6, 3], 'presentPosition', { retries: 0 }), (e: unknown) => {
        assert.ok(e instanceof FeetechTimeoutError);
        assert.match(e.message, /no reply from servo 6 within 20 ms/);
        assert.deepEqual(e.missing, [6]);
        return true;
      });
    });
  });

  test('a reply from the wrong servo is retried, and named when it persists', async () => {
    await withRig(async ({ bus, emulator }) => {
      emulator.injectFault({ kind: 'wrongId', id: 1, replyAs: 9 });
      await bus.ping(1);
      assert.equal(bus.stats.wrongIds, 1);
      emulator.injectFault({ kind: 'wrongId', id: 1, replyAs: 9, count: Infinity });
      await assert.rejects(bus.ping(1), (e: unknown) => e instanceof FeetechWrongIdError && e.received === 9 && /expected a reply from servo 1 but servo 9 replied/.test(e.message));
    });
  });

  test('garbage on the line before a reply (with or without a false header) does not lose the reply', async () => {
    await withRig(async ({ bus, emulator }) => {
      emulator.injectFault({ kind: 'garbage', bytes: [0x00, 0x13, 0x7e], id: 1 });
      await bus.ping(1);
      assert.equal(bus.stats.retries, 0);
      emulator.injectFault({ kind: 'garbage', bytes: [0xff, 0xff, 0x01, 0x02, 0x00], id: 1 });
      assert.equal(await bus.readRegister(1, 'modelNumber'), STS3215_MODEL_NUMBER);
    });
  });

  test('status error bits reject at once with their names, keeping the data; statusErrors "ignore" returns the data', async () => {
    await withRig(async ({ bus, emulator }) => {
      emulator.servo(2).errorBits = StatusErrorBit.overheat | StatusErrorBit.overload;
      const before = emulator.stats.requests;
      await assert.rejects(bus.readRegister(2, 'presentTemperature'), (e: unknown) => {
        assert.ok(e instanceof FeetechStatusError);
        assert.deepEqual(e.faults, ['overheat', 'overload']);
        assert.equal(e.id, 2);
        assert.deepEqual(Array.from(e.data), [30]);
        assert.match(e.message, /servo 2 reports overheat, overload \(error byte 0x24\)/);
        return true;
      });
      assert.equal(emulator.stats.requests - before, 1, 'a status error is not retried');
    });
    await withRig(
      async ({ bus, emulator }) => {
        emulator.servo(2).errorBits = StatusErrorBit.voltage;
        assert.equal(await bus.readRegister(2, 'presentTemperature'), 30);
        assert.equal(bus.stats.statusErrors, 1);
      },
      { bus: { statusErrors: 'ignore' } },
    );
  });

  test('a reply delayed within the timeout is accepted without a retry', async () => {
    await withRig(
      async ({ bus, emulator }) => {
        emulator.injectFault({ kind: 'delay', ms: 5, id: 1 });
        await bus.ping(1);
        assert.equal(bus.stats.retries, 0);
      },
      { bus: { timeoutMs: 200 } },
    );
  });

  test('bad arguments throw naming the call and the value; close rejects waiting and later requests', async () => {
    await withRig(async ({ bus, emulator }) => {
      await assert.rejects(bus.read(254, 56, 2), /read\(servo 254, address 56, 2 bytes\): servo id must be an integer in \[0, 253\], got 254/);
      await assert.rejects(bus.syncRead([1, 1], 56, 2), /servo ids repeat: 1, 1/);
      await assert.rejects(bus.syncWrite(42, 2, [[1, [1]]]), /servo 1 has 1 data bytes, expected 2/);
      await assert.rejects(bus.ping(1, { timeoutMs: -1 }), /timeoutMs must be a finite number > 0, got -1/);
      assert.throws(() => emulator.injectFault({ kind: 'delay' }), /injectFault: delay needs ms finite and ≥ 0, got undefined/);
      assert.throws(() => emulator.injectFault({ kind: 'drop', id: 42 }), /no servo with id 42/);
      emulator.injectFault({ kind: 'drop', count: Infinity });
      const waiting = bus.ping(1, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 5));
      await bus.close();
      await assert.rejects(waiting, (e: unknown) => e instanceof FeetechError && /closed while a request was waiting/.test(e.message));
      await assert.rejects(bus.ping(1), /the bus is closed/);
    });
  });
});
