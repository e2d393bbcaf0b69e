/**
 * The Feetech stack over a real pseudo-terminal pair (Debian's `socat`): both ends opened with the
 * `serialport` package at 1 Mbit/s, the emulated SO-101 on one end, the bus and the arm driver on the
 * other. Skips, saying why, when `socat` is not on PATH or `serialport` cannot be loaded.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { FeetechBus } from '../../../src/robot/drivers/feetech/bus.js';
import { FeetechEmulator } from '../../../src/robot/drivers/feetech/emulator.js';
import { FeetechArmDriver } from '../../../src/robot/drivers/feetech/arm-driver.js';
import { FeetechTimeoutError } from '../../../src/robot/drivers/feetech/errors.js';
import { openSerialPortTransport, type SerialPortTransport } from '../../../src/robot/drivers/feetech/serialport-transport.js';
import { nominalSo101Calibration } from '../../../src/robot/drivers/feetech/so101-calibration.js';
import { positionToTicks } from '../../../src/robot/drivers/feetech/calibration.js';

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function serialportLoads(): Promise<boolean> {
  const name = 'serialport';
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

const socat = onPath('socat');
const skip = socat === undefined ? 'socat is not on PATH (apt-get install socat) — skipping the pseudo-terminal test' : !(await serialportLoads()) ? 'the optional serialport package cannot be loaded — skipping the pseudo-terminal test' : false;

/** Starts socat with two linked ptys; resolves when it reports its transfer loop (5 s at most). */
async function startSocat(dir: string): Promise<{ proc: ChildProcess; host: string; device: string }> {
  const host = join(dir, 'host');
  const device = join(dir, 'device');
  const proc = spawn(socat!, ['-d', '-d', `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`socat did not start within 5 s: ${log}`)), 5000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${code}: ${log}`));
    });
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('starting data transfer loop')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { proc, host, device };
}

describe('Feetech over a pseudo-terminal pair (socat)', { skip }, () => {
  test('serialport at 1 Mbit/s on both ends: ping, sync-write/sync-read, a dropped reply times out naming the servo, and the arm driver reaches an action', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'feetech-pty-'));
    const { proc, host, device } = await startSocat(dir);
    const opened: SerialPortTransport[] = [];
    let emulator: FeetechEmulator | undefined;
    try {
      const deviceEnd = await openSerialPortTransport(device, { baudRate: 1_000_000 });
      opened.push(deviceEnd);
      emulator = new FeetechEmulator(deviceEnd, { autoStep: false });
      const hostEnd = await openSerialPortTransport(host, { baudRate: 1_000_000 });
      opened.push(hostEnd);
      const bus = new FeetechBus(hostEnd, { timeoutMs: 50, retries: 2 });
      for (const id of emulator.ids) await bus.ping(id);
      await bus.syncWriteRegister('goalPosition', emulator.ids.map((id) => [id, 1000 + 100 * id] as const));
      assert.deepEqual([...(await bus.syncReadRegister(emulator.ids, 'goalPosition')).values()], [1100, 1200, 1300, 1400, 1500, 1600]);
      emulator.injectFault({ kind: 'drop', id: 2, count: Infinity });
      await assert.rejects(bus.ping(2, { retries: 0 }), (e: unknown) => e instanceof FeetechTimeoutError && /no reply from servo 2/.test(e.message));
      emulator.clearFaults();
      emulator.injectFault({ kind: 'corrupt', id: 3 });
      await bus.ping(3);
      assert.equal(bus.stats.checksumErrors, 1);
      await bus.close();

      const calibration = nominalSo101Calibration();
      const driver = new FeetechArmDriver({ calibration, transport: () => openSerialPortTransport(host, { baudRate: 1_000_000 }), bus: { timeoutMs: 50, retries: 2 } });
      await driver.connect();
      const action = [0.3, -0.2, 0.5, 0.1, -1, 0.03];
      await driver.sendAction(action);
      await driver.bus!.ping(1); // answered after the emulator has handled the SYNC_WRITE before it
      emulator.step(2); // 2 s at 3000 ticks/s: every shaft reaches its goal
      await driver.readState();
      const ticks = Array.from(driver.telemetry!.ticks);
      assert.deepEqual(ticks, driver.joints.map((j, i) => positionToTicks(j, action[i]!)));
      await driver.stop();
    } finally {
      for (const t of opened) await t.close().catch(() => undefined);
      await emulator?.close();
      proc.kill();
      if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
