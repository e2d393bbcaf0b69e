/**
 * SimulatedRobot: dq/dt = clamp((g − q)/τ, −v_max, v_max) with g the command clamped to the limits,
 * integrated in closed form — it follows commands, respects position and speed limits, does not depend
 * on how often it is polled, and freezes on hold, emergency stop and faults.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../src/robot/clock.js';
import { DriverStateError, type DriverEvent } from '../../src/robot/driver.js';
import { getRobot, type Robot } from '../../src/robot/embodiments/index.js';
import { SimulatedRobot } from '../../src/robot/simulated.js';

const ROBOTS = ['so101', 'fr3-inspire', 'being-d1'].map(getRobot);
const scale = (r: Robot, u: readonly number[]) => Float64Array.from(u, (x, i) => r.lower[i]! + x * (r.upper[i]! - r.lower[i]!));
const fractions = (r: Robot, lo = -2, hi = 3) => fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: r.dof, maxLength: r.dof });
const clampTo = (r: Robot, a: ArrayLike<number>) => Float64Array.from(a, (x, i) => Math.min(r.upper[i]!, Math.max(r.lower[i]!, x)));

async function started(r: Robot, timeConstant?: number) {
  const clock = new ManualClock();
  const sim = new SimulatedRobot(r, { clock, ...(timeConstant === undefined ? {} : { timeConstant }) });
  await sim.connect();
  return { clock, sim };
}

describe('SimulatedRobot', () => {
  test('follows a command: converges to it (clamped to the limits) and comes to rest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROBOTS).chain((r) => fc.tuple(fc.constant(r), fractions(r))), async ([r, u]) => {
        const { clock, sim } = await started(r);
        const a = scale(r, u);
        await sim.sendAction(a);
        const g = clampTo(r, a);
        // Long enough to cross the whole range at v_max, then 40 time constants.
        const span = Math.max(...Array.from(r.upper, (hi, i) => (hi - r.lower[i]!) / r.maxVelocity[i]!));
        clock.advance(span + 40 * sim.timeConstant);
        const s = await sim.readState();
        for (let i = 0; i < r.dof; i++) {
          assert.ok(Math.abs(s.positions[i]! - g[i]!) <= 1e-9 * (r.upper[i]! - r.lower[i]!), `${r.jointNames[i]}`);
          assert.ok(Math.abs(s.velocities![i]!) <= 1e-6);
        }
        assert.equal(s.timestamp, clock.now());
        assert.equal(sim.commandsReceived, 1);
      }),
      { numRuns: 30 },
    );
  });

  test('respects limits: positions stay inside [min, max] and no joint moves faster than v_max', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROBOTS).chain((r) =>
          fc.tuple(fc.constant(r), fc.array(fc.tuple(fractions(r), fc.double({ min: 0.001, max: 0.5, noNaN: true })), { minLength: 1, maxLength: 15 }), fc.double({ min: 0, max: 0.2, noNaN: true })),
        ),
        async ([r, steps, tau]) => {
          const { clock, sim } = await started(r, tau);
          let prev = (await sim.readState()).positions;
          for (const [u, dt] of steps) {
            await sim.sendAction(scale(r, u));
            clock.advance(dt);
            const s = await sim.readState();
            for (let i = 0; i < r.dof; i++) {
              assert.ok(s.positions[i]! >= r.lower[i]! && s.positions[i]! <= r.upper[i]!);
              assert.ok(Math.abs(s.positions[i]! - prev[i]!) <= r.maxVelocity[i]! * dt * (1 + 1e-9) + 1e-12);
              assert.ok(Math.abs(s.velocities![i]!) <= r.maxVelocity[i]! + 1e-12);
            }
            prev = s.positions;
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('first-order lag: inside the speed band the error decays as exp(−t/τ)', async () => {
    const r = getRobot('fr3-inspire');
    const tau = 0.2;
    const { clock, sim } = await started(r, tau);
    const e0 = Float64Array.from(r.maxVelocity, (v) => 0.5 * v * tau); // below v_max·τ: no speed clamp
    await sim.sendAction(Float64Array.from(r.home, (h, i) => h + e0[i]!));
    clock.advance(tau);
    const q = (await sim.readState()).positions;
    for (let i = 0; i < r.dof; i++) assert.ok(Math.abs(r.home[i]! + e0[i]! - q[i]! - e0[i]! * Math.exp(-1)) < 1e-12);
  });

  test('deterministic: the state does not depend on how often it is read', async () => {
    const r = getRobot('so101');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fractions(r), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 8 }), async (steps) => {
        const a = await started(r);
        const b = await started(r);
        for (const [u, n] of steps) {
          await a.sim.sendAction(scale(r, u));
          await b.sim.sendAction(scale(r, u));
          for (let k = 0; k < n; k++) {
            a.clock.advance(0.01);
            await a.sim.readState();
          }
          b.clock.advance(0.01 * n);
        }
        const qa = (await a.sim.readState()).positions;
        const qb = (await b.sim.readState()).positions;
        for (let i = 0; i < r.dof; i++) assert.ok(Math.abs(qa[i]! - qb[i]!) <= 1e-9);
      }),
      { numRuns: 25 },
    );
  });

  test('hold and emergency stop freeze the joints; the emergency stop latches until reset', async () => {
    const r = getRobot('so101');
    const { clock, sim } = await started(r);
    const events: DriverEvent[] = [];
    sim.on((e) => events.push(e));
    await sim.sendAction(Float64Array.from(r.upper));
    clock.advance(0.1);
    await sim.hold();
    const held = (await sim.readState()).positions;
    clock.advance(1);
    assert.deepEqual((await sim.readState()).positions, held);
    assert.equal(sim.status, 'holding');
    await sim.sendAction(Float64Array.from(r.lower));
    assert.equal(sim.status, 'ready');
    clock.advance(0.1);
    await sim.emergencyStop();
    const frozen = (await sim.readState()).positions;
    clock.advance(1);
    assert.deepEqual((await sim.readState()).positions, frozen);
    await assert.rejects(sim.sendAction(r.home), (e: unknown) => e instanceof DriverStateError && e.status === 'estopped');
    await sim.stop();
    await sim.connect();
    assert.equal(sim.status, 'estopped');
    await sim.resetEmergencyStop();
    assert.equal(sim.status, 'ready');
    await sim.sendAction(r.home);
    assert.deepEqual(events.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.status), ['holding', 'ready', 'estopped', 'ready']);
  });

  test('faults: an injected fault freezes the joints, is reported, and refuses actions until reconnect', async () => {
    const r = getRobot('so101');
    const { clock, sim } = await started(r);
    const faults: string[] = [];
    sim.on((e) => e.type === 'fault' && faults.push(e.message));
    await sim.sendAction(Float64Array.from(r.upper));
    clock.advance(0.05);
    sim.injectFault('servo 2 overheated');
    assert.deepEqual(faults, ['SimulatedRobot "so101": servo 2 overheated']);
    const q = (await sim.readState()).positions;
    clock.advance(1);
    assert.deepEqual((await sim.readState()).positions, q);
    await assert.rejects(sim.sendAction(r.home), /in fault/);
    await sim.connect();
    await sim.sendAction(r.home);
    assert.equal(sim.status, 'ready');
  });

  test('bad use throws: reading before connect, NaN commands, out-of-limit initial positions', async () => {
    const r = getRobot('so101');
    const sim = new SimulatedRobot(r, { clock: new ManualClock() });
    await assert.rejects(sim.readState(), /"so101" is disconnected; connect\(\) first/);
    await assert.rejects(sim.sendAction(r.home), /connect\(\) first/);
    await sim.connect();
    const a = Array.from(r.home);
    a[4] = Number.NaN;
    await assert.rejects(sim.sendAction(a), /joint "wrist_roll" \(index 4\) of "so101" is NaN/);
    const init = Array.from(r.home);
    init[0] = 10;
    assert.throws(() => new SimulatedRobot(r, { initial: init }), /initial joint "shoulder_pan" \(index 0\) is 10, outside/);
    assert.throws(() => new SimulatedRobot(r, { timeConstant: -1 }), /timeConstant must be/);
  });
});
