/**
 * SimWorldDriver: the world as a RobotDriver. Under a ManualClock it steps exactly the whole control
 * periods that passed, whatever the polling rate; it follows the RobotDriver lifecycle (status events,
 * refusals with DriverStateError, frozen time while stopped or emergency-stopped).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DriverStateError, ManualClock, SimWorldDriver, TabletopWorld, expertAction, type DriverEvent } from '../../../src/robot/index.js';

async function started(seed = 1) {
  const clock = new ManualClock(10);
  const world = new TabletopWorld({ embodiment: 'arm2', seed, task: 'reach' });
  const driver = new SimWorldDriver(world, { clock });
  await driver.connect();
  return { clock, world, driver };
}

describe('SimWorldDriver', () => {
  test('steps ⌊elapsed / Δt⌋ control periods, however often it is polled, and matches stepping the world directly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: 0, max: 0.35, noNaN: true }), { minLength: 1, maxLength: 12 }), async (gaps) => {
        const { clock, world, driver } = await started(4);
        const direct = new TabletopWorld({ embodiment: 'arm2', seed: 4, task: 'reach' });
        const command = [0.3, 0.7, 0.1];
        await driver.sendAction(command);
        let elapsed = 0;
        for (const g of gaps) {
          clock.advance(g);
          elapsed += g;
          await driver.readState();
          assert.equal(world.stepCount, Math.floor(elapsed / world.dt + 1e-9));
        }
        while (direct.stepCount < world.stepCount) direct.step(command);
        assert.deepEqual(Array.from((await driver.readState()).positions), Array.from(direct.state()));
      }),
      { numRuns: 30 },
    );
  });

  test('readState: positions, velocities over the last step, and the time of the last whole step', async () => {
    const { clock, world, driver } = await started();
    await driver.sendAction([0.5, 0.7, 0.1]);
    clock.advance(0.25);
    const s = await driver.readState();
    assert.equal(world.stepCount, 2);
    assert.ok(Math.abs(s.timestamp - 10.2) < 1e-12);
    const prev = (() => {
      const w = new TabletopWorld({ embodiment: 'arm2', seed: 1, task: 'reach' });
      w.step([0.5, 0.7, 0.1]);
      return w.state();
    })();
    s.positions.forEach((p, i) => assert.ok(Math.abs(s.velocities![i]! - (p - prev[i]!) / world.dt) < 1e-12));
    const obs = driver.observe();
    assert.deepEqual(Array.from(obs.state), Array.from(world.unifiedState()));
    assert.equal(obs.instruction, world.task.instruction);
    assert.deepEqual(obs.images[0]!.shape, [3, 32, 32]);
  });

  test('drives an episode to success with the expert at the control rate', async () => {
    const { clock, world, driver } = await started(7);
    for (let i = 0; i < 200 && !world.done(); i++) {
      await driver.sendAction(expertAction(world));
      clock.advance(world.dt);
      await driver.readState();
    }
    assert.equal(world.success(), true);
  });

  test('lifecycle: refusals name the state; hold, stop and emergency stop freeze the world; events report transitions', async () => {
    const clock = new ManualClock();
    const world = new TabletopWorld({ embodiment: 'hand', seed: 2 });
    const driver = new SimWorldDriver(world, { clock });
    const events: DriverEvent[] = [];
    driver.on((e) => events.push(e));
    assert.equal(driver.status, 'disconnected');
    await assert.rejects(driver.sendAction(world.state()), (e: unknown) => e instanceof DriverStateError && /SimWorldDriver\.sendAction: "sim-hand" refuses actions: it is disconnected; connect\(\) first/.test(e.message));
    await assert.rejects(driver.readState(), /SimWorldDriver\.readState: "sim-hand" is disconnected; connect\(\) first/);
    clock.advance(1);
    await driver.connect();
    assert.equal(world.stepCount, 0, 'no time passes before connect');
    const far = Float64Array.from(world.state());
    far[0] = 0.9;
    await driver.sendAction(far);
    clock.advance(0.2);
    await driver.hold();
    assert.equal(driver.status, 'holding');
    const held = (await driver.readState()).positions;
    clock.advance(0.5);
    assert.deepEqual(Array.from((await driver.readState()).positions), Array.from(held), 'holding keeps the state');
    await driver.sendAction(far);
    assert.equal(driver.status, 'ready');
    await driver.emergencyStop();
    assert.equal(driver.status, 'estopped');
    const steps = world.stepCount;
    clock.advance(1);
    await assert.rejects(driver.sendAction(far), /emergency stop is latched; call resetEmergencyStop\(\)/);
    await driver.readState();
    assert.equal(world.stepCount, steps, 'no world time while emergency-stopped');
    await driver.resetEmergencyStop();
    assert.equal(driver.status, 'ready');
    clock.advance(0.3);
    await driver.readState();
    assert.equal(world.stepCount, steps + 3, 'time restarts at the reset');
    driver.injectFault('bus lost');
    await assert.rejects(driver.sendAction(far), /it is in fault; reconnect/);
    await driver.stop();
    assert.equal(driver.status, 'stopped');
    assert.throws(() => driver.observe(), /SimWorldDriver\.observe: "sim-hand" is stopped; connect\(\) first/);
    await driver.connect();
    await assert.rejects(driver.sendAction([1, 2]), /SimWorldDriver\.sendAction: "hand" takes 8 raw values/);
    const statuses = events.filter((e) => e.type === 'status').map((e) => (e as { status: string }).status);
    assert.deepEqual(statuses, ['ready', 'holding', 'ready', 'estopped', 'ready', 'fault', 'stopped', 'ready']);
    assert.equal(events.filter((e) => e.type === 'fault').length, 1);
    assert.equal(driver.info.driver, 'sim-tabletop');
    assert.equal(driver.info.controlPeriod, 0.1);
  });
});
