/**
 * FeetechArmDriver (a RobotDriver in the raw layout a⁽ᵉ⁾ of Eq. 1) on the emulated SO-101 bus: connect
 * holds the present pose before enabling torque, actions become goal ticks through the calibration and
 * the arm reaches them, hold/stop/emergency stop do what the driver contract says, and bus failures
 * become faults that name the servo.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeetechArmDriver, type FeetechArmOptions } from '../../../src/robot/drivers/feetech/arm-driver.js';
import { FeetechEmulator, type FeetechEmulatorOptions } from '../../../src/robot/drivers/feetech/emulator.js';
import { createMemoryLink, type MemoryTransport } from '../../../src/robot/drivers/feetech/transport.js';
import { calibrationToJSON, parseCalibration, positionToTicks, ticksToPosition } from '../../../src/robot/drivers/feetech/calibration.js';
import { nominalSo101Calibration } from '../../../src/robot/drivers/feetech/so101-calibration.js';
import { getRobot } from '../../../src/robot/embodiments/registry.js';
import { SafeDriver } from '../../../src/robot/safety.js';
import { DriverStateError, type DriverEvent } from '../../../src/robot/driver.js';

const robot = getRobot('so101');
const calibration = nominalSo101Calibration();
const joints = robot.jointNames.map((n) => calibration.joints.get(n)!);

interface Rig {
  driver: FeetechArmDriver;
  emulator: FeetechEmulator;
  events: DriverEvent[];
  links: MemoryTransport[];
}

/** A driver whose transport factory opens a fresh link with a fresh emulator on every connect after the first. */
async function withArm(body: (rig: Rig) => Promise<void>, opts: { emulator?: FeetechEmulatorOptions; driver?: Partial<FeetechArmOptions>; setup?: (e: FeetechEmulator) => void } = {}): Promise<void> {
  const emulators: FeetechEmulator[] = [];
  const links: MemoryTransport[] = [];
  let unused: MemoryTransport | undefined;
  const open = (): MemoryTransport => {
    const [host, device] = createMemoryLink();
    const emulator = new FeetechEmulator(device, { autoStep: false, ...opts.emulator });
    opts.setup?.(emulator);
    emulators.push(emulator);
    links.push(host);
    return host;
  };
  unused = open(); // the first link exists up front, so the test can reach its emulator before connect()
  const driver = new FeetechArmDriver({
    calibration,
    transport: () => {
      const t = unused ?? open();
      unused = undefined;
      return t;
    },
    bus: { timeoutMs: 20, retries: 1 },
    ...opts.driver,
  });
  const events: DriverEvent[] = [];
  driver.on((e) => events.push(e));
  const rig: Rig = { driver, events, links, emulator: emulators[0]! };
  try {
    await body(rig);
  } finally {
    await driver.stop();
    for (const e of emulators) await e.close();
  }
}

/** Positions inside the robot's limits. */
const action = fc.tuple(...robot.jointNames.map((_, i) => fc.double({ min: robot.lower[i]!, max: robot.upper[i]!, noNaN: true })));

describe('FeetechArmDriver on the emulated SO-101', () => {
  test('connect pings all six servos, sets each goal to its present position, then enables torque (no jump)', async () => {
    const start = [1500, 2100, 2600, 1800, 2048, 2500];
    await withArm(
      async ({ driver, emulator }) => {
        await driver.connect();
        assert.equal(driver.status, 'ready');
        for (const [i, id] of emulator.ids.entries()) {
          const s = emulator.servo(id);
          assert.equal(s.get('torqueEnable'), 1);
          assert.equal(s.get('goalPosition'), start[i]);
        }
        emulator.step(1);
        assert.deepEqual(emulator.ids.map((id) => emulator.servo(id).get('presentPosition')), start);
        assert.equal(driver.info.driver, 'feetech-sts3215');
        assert.equal(driver.info.robot, robot);
      },
      { emulator: { positions: start } },
    );
  });

  test('readState converts present ticks and velocities through the calibration; telemetry reports volts and °C', async () => {
    await withArm(
      async ({ driver, emulator }) => {
        await driver.connect();
        const s0 = await driver.readState();
        joints.forEach((j, i) => assert.equal(s0.positions[i], ticksToPosition(j, emulator.servo(j.id).get('presentPosition'))));
        emulator.servo(1).set('goalPosition', 3000);
        emulator.step(0.1);
        const s1 = await driver.readState();
        assert.ok(Math.abs(s1.velocities![0]! - (500 * 2 * Math.PI) / 4096) < 1e-12);
        assert.deepEqual(Array.from(driver.telemetry!.voltage), [12, 12, 12, 12, 12, 12]);
        assert.deepEqual(Array.from(driver.telemetry!.temperature), [30, 30, 30, 30, 30, 30]);
      },
      { emulator: { speed: 500 } },
    );
  });

  test('any action inside the limits is reached to within half a tick per joint (gripper width included)', async () => {
    await withArm(async ({ driver, emulator }) => {
      await driver.connect();
      await fc.assert(
        fc.asyncProperty(action, async (a) => {
          await driver.sendAction(a);
          joints.forEach((j, i) => assert.equal(emulator.servo(j.id).get('goalPosition'), positionToTicks(j, a[i]!)));
          emulator.step(10);
          const { positions } = await driver.readState();
          joints.forEach((j, i) => {
            const half = Math.abs(ticksToPosition(j, 1) - ticksToPosition(j, 0)) / 2;
            assert.ok(Math.abs(positions[i]! - a[i]!) <= half * (1 + 1e-9), `${robot.jointNames[i]}: ${positions[i]} vs ${a[i]}`);
          });
        }),
        { numRuns: 20 },
      );
    });
  });

  test('an action beyond the calibrated range is clamped to the tick limits', async () => {
    await withArm(async ({ driver, emulator }) => {
      await driver.connect();
      await driver.sendAction([10, -10, 0, 0, 0, 1]);
      assert.equal(emulator.servo(1).get('goalPosition'), joints[0]!.maxTicks);
      assert.equal(emulator.servo(2).get('goalPosition'), joints[1]!.minTicks);
      assert.equal(emulator.servo(6).get('goalPosition'), joints[5]!.maxTicks);
      await assert.rejects(driver.sendAction([0, 0, 0, 0, 0, NaN]), /sendAction: joint "gripper" \(index 5\) of "so101" is NaN/);
    });
  });

  test('wrapped in SafeDriver, a large step is velocity-clamped before it reaches the bus', async () => {
    await withArm(async ({ driver, emulator }) => {
      const safe = new SafeDriver(driver, { watchdogTimeout: Infinity });
      await safe.connect();
      const before = emulator.servo(1).get('goalPosition');
      await safe.sendAction([1.5, 0, 0, 0, 0, 0.04]);
      const moved = ticksToPosition(joints[0]!, emulator.servo(1).get('goalPosition')) - ticksToPosition(joints[0]!, before);
      assert.ok(moved > 0 && moved <= robot.maxStep[0]! + Math.PI / 4096, `moved ${moved}, max step ${robot.maxStep[0]}`);
      await safe.stop();
    });
  });

  test('hold sets goal := present and reports holding until the next action', async () => {
    await withArm(async ({ driver, emulator }) => {
      await driver.connect();
      await driver.sendAction([1, 0, 0, 0, 0, 0.04]);
      emulator.step(0.05);
      await driver.hold();
      assert.equal(driver.status, 'holding');
      assert.equal(emulator.servo(1).get('goalPosition'), emulator.servo(1).get('presentPosition'));
      await driver.sendAction([0, 0, 0, 0, 0, 0.04]);
      assert.equal(driver.status, 'ready');
    });
  });

  test('emergency stop turns every servo’s torque off and latches; reset holds the present pose and re-enables torque', async () => {
    await withArm(async ({ driver, emulator }) => {
      await driver.connect();
      await driver.emergencyStop();
      await driver.readState(); // the next request completes after the broadcast was handled
      assert.equal(driver.status, 'estopped');
      assert.deepEqual(emulator.ids.map((id) => emulator.servo(id).get('torqueEnable')), [0, 0, 0, 0, 0, 0]);
      await assert.rejects(driver.sendAction([0, 0, 0, 0, 0, 0]), (e: unknown) => e instanceof DriverStateError && e.status === 'estopped');
      emulator.servo(3).moveShaft(3000); // pushed by hand while limp
      await driver.resetEmergencyStop();
      assert.equal(driver.status, 'ready');
      assert.equal(emulator.servo(3).get('goalPosition'), 3000);
      assert.deepEqual(emulator.ids.map((id) => emulator.servo(id).get('torqueEnable')), [1, 1, 1, 1, 1, 1]);
    });
  });

  test('stop closes the transport; readState then throws; connect opens a new one', async () => {
    await withArm(async ({ driver, links }) => {
      await driver.connect();
      await driver.stop();
      assert.equal(driver.status, 'stopped');
      assert.equal(links[0]!.isOpen, false);
      await assert.rejects(driver.readState(), /readState: "so101" is stopped; connect\(\) first/);
      await driver.connect();
      assert.equal(links.length, 2);
      assert.equal(driver.status, 'ready');
    });
  });

  test('a servo that stops answering: readState rejects naming it, a fault event is emitted, actions throw until reconnect', async () => {
    await withArm(async ({ driver, emulator, events }) => {
      await driver.connect();
      emulator.servo(4).online = false;
      await assert.rejects(driver.readState(), /no reply from servo 4/);
      assert.equal(driver.status, 'fault');
      assert.ok(events.some((e) => e.type === 'fault' && /servo 4/.test(e.message)));
      await assert.rejects(driver.sendAction([0, 0, 0, 0, 0, 0]), /is in fault; reconnect first/);
      await driver.connect();
      assert.equal(driver.status, 'ready');
    });
  });

  test('connect names missing servos by joint and id and leaves the driver disconnected', async () => {
    await withArm(
      async ({ driver }) => {
        await assert.rejects(driver.connect(), /servos not answering: wrist_flex \(id 4: .*no reply from servo 4.*\); gripper \(id 6/);
        assert.equal(driver.status, 'disconnected');
      },
      { emulator: { ids: [1, 2, 3, 5] } },
    );
  });

  test('connect refuses a servo with another model number or a Homing_Offset the calibration was not made with', async () => {
    await withArm(
      async ({ driver }) => {
        await assert.rejects(driver.connect(), /servo 2 reports model 1234, not the STS3215 \(777\)/);
      },
      { setup: (e) => e.servo(2).set('modelNumber', 1234) },
    );
    const json = calibrationToJSON(calibration) as { joints: Record<string, Record<string, unknown>> };
    json.joints.elbow_flex!.homingOffsetRegister = -100;
    await withArm(
      async ({ driver }) => {
        await assert.rejects(driver.connect(), /servo 3 has Homing_Offset 0 but the calibration was made with -100/);
      },
      { driver: { calibration: parseCalibration(json) } },
    );
  });

  test('the constructor checks the calibration against the robot: every joint, matching units', () => {
    const json = calibrationToJSON(calibration) as { joints: Record<string, Record<string, unknown>> };
    const missing = structuredClone(json);
    delete missing.joints.wrist_roll;
    assert.throws(() => new FeetechArmDriver({ calibration: parseCalibration(missing), transport: () => createMemoryLink()[0] }), /calibration has no joint "wrist_roll" of robot "so101"/);
    const angleGripper = structuredClone(json);
    angleGripper.joints.gripper = { id: 6, zeroTicks: 2048, direction: 1, minTicks: 1900, maxTicks: 3200 };
    assert.throws(() => new FeetechArmDriver({ calibration: parseCalibration(angleGripper), transport: () => createMemoryLink()[0] }), /joint "gripper" is in m on robot "so101" but its calibration maps to rad \(give it a width map\)/);
  });
});
