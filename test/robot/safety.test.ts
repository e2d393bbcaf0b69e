/**
 * Safety in the driver's common path: validation (NaN, ±∞, length), joint-limit and per-period velocity
 * clamping a_safe = clamp(clamp(a, r − δ, r + δ), min, max), the watchdog (holds after the timeout and
 * not before, on a fake clock), and the latching emergency stop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../src/robot/clock.js';
import { DriverEvents, DriverStateError, type DriverEvent, type DriverInfo, type DriverStatus, type RobotDriver, type RobotState } from '../../src/robot/driver.js';
import { getRobot, type Robot } from '../../src/robot/embodiments/index.js';
import { SafeDriver, clampAction, validateAction } from '../../src/robot/safety.js';
import { SimulatedRobot } from '../../src/robot/simulated.js';

const EPS = 1e-12;

/** A driver that records what it is told and reports a settable position. */
class RecordingDriver implements RobotDriver {
  readonly info: DriverInfo;
  status: DriverStatus = 'disconnected';
  readonly sent: Float64Array[] = [];
  holds = 0;
  estops = 0;
  resets = 0;
  failEstop = false;
  positions: Float64Array;
  readonly events = new DriverEvents();

  constructor(robot: Robot, positions: Float64Array = robot.home.slice()) {
    this.info = { driver: 'recording', robot, controlPeriod: robot.controlPeriod };
    this.positions = positions;
  }
  async connect(): Promise<void> {
    this.status = 'ready';
  }
  async readState(): Promise<RobotState> {
    return { positions: this.positions.slice(), timestamp: 0 };
  }
  async sendAction(action: ArrayLike<number>): Promise<void> {
    this.sent.push(Float64Array.from(action));
  }
  async hold(): Promise<void> {
    this.holds++;
  }
  async stop(): Promise<void> {
    this.status = 'stopped';
  }
  async emergencyStop(): Promise<void> {
    this.estops++;
    if (this.failEstop) throw new Error('bus unplugged');
  }
  async resetEmergencyStop(): Promise<void> {
    this.resets++;
  }
  on(listener: (e: DriverEvent) => void): () => void {
    return this.events.on(listener);
  }
}

const ROBOTS = ['so101', 'fr3-inspire', 'g1-o6'].map(getRobot);
const robotArb = fc.constantFrom(...ROBOTS);
/** Values per joint as fractions of the range, reaching 3 ranges beyond either limit. */
const fractions = (r: Robot, lo = -3, hi = 4) => fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: r.dof, maxLength: r.dof });
const scale = (r: Robot, u: readonly number[]) => Float64Array.from(u, (x, i) => r.lower[i]! + x * (r.upper[i]! - r.lower[i]!));

async function connected(robot: Robot, opts: ConstructorParameters<typeof SafeDriver>[1] = {}) {
  const clock = new ManualClock();
  const inner = new RecordingDriver(robot);
  const safe = new SafeDriver(inner, { clock, watchdogTimeout: 0.1, ...opts });
  const events: DriverEvent[] = [];
  safe.on((e) => events.push(e));
  await safe.connect();
  return { clock, inner, safe, events };
}

describe('clampAction', () => {
  test('joint limits: any command, however far outside, ends inside [min, max]; inside commands pass unchanged', () => {
    fc.assert(
      fc.property(robotArb.chain((r) => fc.tuple(fc.constant(r), fractions(r))), ([r, u]) => {
        const a = scale(r, u);
        const { action, clamps } = clampAction(r, a);
        for (let i = 0; i < r.dof; i++) {
          assert.ok(action[i]! >= r.lower[i]! && action[i]! <= r.upper[i]!);
          const wasInside = a[i]! >= r.lower[i]! && a[i]! <= r.upper[i]!;
          assert.equal(action[i], wasInside ? a[i] : a[i]! > r.upper[i]! ? r.upper[i] : r.lower[i]);
        }
        assert.deepEqual(clamps.map((c) => c.index), [...a.keys()].filter((i) => action[i] !== a[i]));
        assert.ok(clamps.every((c) => c.reason === 'position' && c.joint === r.jointNames[c.index]));
      }),
    );
  });

  test('velocity: from a reference inside the limits, each joint changes by at most δ = maxVelocity·Δt and stays inside', () => {
    fc.assert(
      fc.property(robotArb.chain((r) => fc.tuple(fc.constant(r), fractions(r, 0, 1), fractions(r), fc.double({ min: 0.25, max: 4, noNaN: true }))), ([r, ru, u, k]) => {
        const ref = scale(r, ru);
        const a = scale(r, u);
        const { action } = clampAction(r, a, ref, k);
        for (let i = 0; i < r.dof; i++) {
          assert.ok(Math.abs(action[i]! - ref[i]!) <= k * r.maxStep[i]! * (1 + EPS) + EPS, `${r.jointNames[i]}`);
          assert.ok(action[i]! >= r.lower[i]! && action[i]! <= r.upper[i]!);
          const target = Math.min(r.upper[i]!, Math.max(r.lower[i]!, a[i]!));
          if (Math.abs(target - ref[i]!) <= k * r.maxStep[i]!) assert.equal(action[i], target);
          else assert.ok(Math.sign(action[i]! - ref[i]!) === Math.sign(target - ref[i]!), 'moves toward the target');
        }
      }),
    );
  });

  test('bad input: NaN, ±∞ and wrong lengths are rejected with the joint name and value', () => {
    const r = getRobot('so101');
    const ok = Array.from(r.home);
    for (const [k, bad] of [[0, Number.NaN], [3, Infinity], [5, -Infinity]] as const) {
      const a = ok.slice();
      a[k] = bad;
      assert.throws(() => validateAction(r, a, 'f'), new RegExp(`f: joint "${r.jointNames[k]}" \\(index ${k}\\) of "so101" is ${String(bad)}`));
    }
    assert.throws(() => validateAction(r, ok.slice(1), 'f'), /f: action for "so101" needs 6 values \(one per joint\), got 5/);
    assert.throws(() => validateAction(r, [...ok, 0], 'f'), /needs 6 values.*got 7/);
    assert.throws(() => validateAction(r, null as never, 'f'), /must be an array of 6 numbers, got null/);
    assert.throws(() => clampAction(r, ok, [0]), /reference for "so101" needs 6 values, got 1/);
  });
});

describe('SafeDriver', () => {
  test('every command reaching the driver is inside the limits and within δ of the previous one', async () => {
    await fc.assert(
      fc.asyncProperty(
        robotArb.chain((r) => fc.tuple(fc.constant(r), fc.array(fractions(r), { minLength: 1, maxLength: 12 }))),
        async ([r, cmds]) => {
          const { inner, safe } = await connected(r, { watchdogTimeout: Infinity });
          for (const u of cmds) await safe.sendAction(scale(r, u));
          assert.equal(inner.sent.length, cmds.length);
          let prev = r.home;
          for (const s of inner.sent) {
            for (let i = 0; i < r.dof; i++) {
              assert.ok(s[i]! >= r.lower[i]! && s[i]! <= r.upper[i]!);
              assert.ok(Math.abs(s[i]! - prev[i]!) <= r.maxStep[i]! * (1 + EPS) + EPS);
            }
            prev = s;
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a clamped command is reported as a clamped event naming the joints', async () => {
    const r = getRobot('so101');
    const { safe, events } = await connected(r);
    const a = Array.from(r.home);
    a[1] = 100;
    await safe.sendAction(a);
    const c = events.find((e) => e.type === 'clamped');
    assert.ok(c !== undefined && c.type === 'clamped');
    assert.deepEqual(c.clamps.map((x) => [x.joint, x.reason]), [['shoulder_lift', 'velocity']]);
  });

  test('NaN commands are rejected whole: nothing reaches the driver, the reference is unchanged', async () => {
    const r = getRobot('so101');
    const { inner, safe } = await connected(r);
    const a = Array.from(r.home);
    a[2] = Number.NaN;
    await assert.rejects(safe.sendAction(a), /SafeDriver.sendAction: joint "elbow_flex" \(index 2\) of "so101" is NaN/);
    await assert.rejects(safe.sendAction(a.slice(0, 3)), /needs 6 values.*got 3/);
    assert.equal(inner.sent.length, 0);
    assert.equal(safe.lastCommand, null);
  });

  test('watchdog: holds position once after the timeout of silence, and not before', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), async (timeout, frac) => {
        const r = getRobot('so101');
        const { clock, inner, safe, events } = await connected(r, { watchdogTimeout: timeout });
        await safe.sendAction(r.home);
        clock.advance(timeout * frac);
        assert.equal(inner.holds, 0, 'held before the timeout');
        assert.equal(safe.status, 'ready');
        // A command before the timeout re-arms it: silence is measured from the last command.
        await safe.sendAction(r.home);
        clock.advance(timeout * frac);
        assert.equal(inner.holds, 0);
        clock.advance(timeout * (1 - frac) * 1.001 + 1e-9);
        assert.equal(inner.holds, 1, 'no hold after the timeout');
        assert.equal(safe.status, 'holding');
        assert.equal(safe.watchdogTrips, 1);
        clock.advance(10 * timeout);
        assert.equal(inner.holds, 1, 'the hold repeats without new commands');
        const w = events.filter((e) => e.type === 'watchdog');
        assert.equal(w.length, 1);
        assert.ok(w[0]!.type === 'watchdog' && w[0]!.silence >= timeout * (1 - 1e-9));
        await safe.sendAction(r.home);
        assert.equal(safe.status, 'ready', 'a new command resumes');
      }),
      { numRuns: 30 },
    );
  });

  test("watchdog: commands arriving every control period never trip it; holdMode 'resend' re-sends the last safe command", async () => {
    const r = getRobot('so101');
    const { clock, inner, safe } = await connected(r, { watchdogTimeout: 3 * r.controlPeriod, holdMode: 'resend' });
    const target = Array.from(r.home, (h, i) => Math.min(r.upper[i]!, h + 0.5));
    for (let k = 0; k < 50; k++) {
      await safe.sendAction(target);
      clock.advance(r.controlPeriod);
    }
    assert.equal(safe.watchdogTrips, 0);
    assert.equal(inner.holds, 0);
    const last = safe.lastCommand!;
    clock.advance(3 * r.controlPeriod);
    assert.equal(safe.watchdogTrips, 1);
    assert.equal(inner.holds, 0);
    assert.deepEqual(inner.sent.at(-1), last);
    assert.equal(inner.sent.length, 51);
  });

  test('emergency stop latches through stop() and connect() until reset; the latch holds even if the driver fails to stop', async () => {
    const r = getRobot('fr3-inspire');
    const { clock, inner, safe, events } = await connected(r);
    await safe.sendAction(r.home);
    inner.failEstop = true;
    await assert.rejects(safe.emergencyStop(), /bus unplugged/);
    assert.equal(safe.status, 'estopped');
    assert.ok(safe.latched);
    assert.ok(events.some((e) => e.type === 'status' && e.status === 'estopped'));
    const refused = (p: Promise<unknown>) => assert.rejects(p, (e: unknown) => e instanceof DriverStateError && e.status === 'estopped' && /emergency stop is latched on "fr3-inspire"/.test(e.message));
    await refused(safe.sendAction(r.home));
    await refused(safe.hold());
    clock.advance(5);
    assert.equal(inner.holds, 0, 'the watchdog was disarmed');
    await safe.stop();
    await safe.connect();
    assert.equal(safe.status, 'estopped');
    await refused(safe.sendAction(r.home));
    const sent = inner.sent.length;
    await safe.resetEmergencyStop();
    assert.equal(inner.resets, 1);
    assert.equal(safe.status, 'ready');
    await safe.sendAction(r.home);
    assert.equal(inner.sent.length, sent + 1);
    await safe.resetEmergencyStop();
    assert.equal(inner.resets, 1, 'reset without a latch is a no-op');
  });

  test('after a reset the velocity reference is the measured position, not the last command', async () => {
    const r = getRobot('so101');
    const { inner, safe } = await connected(r);
    await safe.emergencyStop();
    inner.positions = Float64Array.from(r.home, (h, i) => h + 0.4 * (r.upper[i]! - h));
    await safe.resetEmergencyStop();
    await safe.sendAction(inner.positions);
    assert.deepEqual(inner.sent.at(-1), inner.positions);
  });

  test('a fault of the wrapped driver is forwarded and refuses commands', async () => {
    const r = getRobot('so101');
    const { inner, safe, events } = await connected(r);
    inner.events.emit({ type: 'fault', message: 'overload on servo 3', time: 0 });
    assert.equal(safe.status, 'fault');
    assert.ok(events.some((e) => e.type === 'fault' && e.message === 'overload on servo 3'));
    await assert.rejects(safe.sendAction(r.home), /"so101" is in fault/);
  });

  test('commands before connect() are refused; bad options throw', async () => {
    const r = getRobot('so101');
    const safe = new SafeDriver(new RecordingDriver(r), { clock: new ManualClock() });
    await assert.rejects(safe.sendAction(r.home), /"so101" is disconnected; connect\(\) first/);
    assert.throws(() => new SafeDriver(new RecordingDriver(r), { watchdogTimeout: 0 }), /watchdogTimeout must be > 0/);
    assert.throws(() => new SafeDriver(new RecordingDriver(r), { stepScale: Number.NaN }), /stepScale must be finite/);
    assert.equal(new SafeDriver(new RecordingDriver(r)).watchdogTimeout, 5 * r.controlPeriod);
  });

  test('over a simulated robot: the measured joints stay inside the limits and move at most δ per period', async () => {
    const r = getRobot('so101');
    await fc.assert(
      fc.asyncProperty(fc.array(fractions(r), { minLength: 1, maxLength: 30 }), async (cmds) => {
        const clock = new ManualClock();
        const sim = new SimulatedRobot(r, { clock });
        const safe = new SafeDriver(sim, { clock });
        await safe.connect();
        let prev = (await safe.readState()).positions;
        for (const u of cmds) {
          await safe.sendAction(scale(r, u));
          clock.advance(r.controlPeriod);
          const q = (await safe.readState()).positions;
          for (let i = 0; i < r.dof; i++) {
            assert.ok(q[i]! >= r.lower[i]! && q[i]! <= r.upper[i]!);
            assert.ok(Math.abs(q[i]! - prev[i]!) <= r.maxStep[i]! * (1 + 1e-9) + EPS);
          }
          prev = q;
        }
      }),
      { numRuns: 30 },
    );
  });
});
