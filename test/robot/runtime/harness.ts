/**
 * Shared pieces of the runtime tests: a driver that records what it is sent, a deterministic way to
 * run a `ManualClock` with the promises in between, and a virtual-time runtime builder.
 */
import { ManualClock } from '../../../src/robot/clock.js';
import type { RobotState } from '../../../src/robot/driver.js';
import { startInlineControlThread, type InlineControlOptions } from '../../../src/robot/runtime/control-thread.js';
import type { ControlledDriver } from '../../../src/robot/runtime/control-loop.js';
import type { PolicyLike } from '../../../src/robot/runtime/policy.js';
import { SharedActionRing } from '../../../src/robot/runtime/ring-buffer.js';
import { RealtimeRuntime, type RealtimeRuntimeOptions, type RuntimeEvent } from '../../../src/robot/runtime/runtime.js';

/** A driver that keeps every command it is sent (copies) and reports a fixed state. */
export class RecordingDriver implements ControlledDriver {
  readonly sent: Float32Array[] = [];
  readonly positions: Float64Array;
  /** When set, sendAction throws for commands from this index on. */
  failFrom = Infinity;
  constructor(initial: ArrayLike<number>, readonly clock?: ManualClock) {
    this.positions = Float64Array.from(initial);
  }
  async sendAction(action: ArrayLike<number>): Promise<void> {
    if (this.sent.length >= this.failFrom) throw new Error('RecordingDriver: refused');
    this.sent.push(Float32Array.from(action));
  }
  async readState(): Promise<RobotState> {
    return { positions: this.positions.slice(), timestamp: this.clock?.now() ?? 0 };
  }
}

/** Largest step (max over entries) between consecutive rows of `stream`. */
export function largestJump(stream: readonly Float32Array[]): number {
  let m = 0;
  for (let k = 1; k < stream.length; k++) {
    for (let j = 0; j < stream[k]!.length; j++) m = Math.max(m, Math.abs(stream[k]![j]! - stream[k - 1]![j]!));
  }
  return m;
}

/** Lets every pending promise chain settle (a macrotask turn). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances `clock` by `seconds` in steps of `quantum`, settling promises after each step. */
export async function advance(clock: ManualClock, seconds: number, quantum: number): Promise<void> {
  const end = clock.now() + seconds;
  while (clock.now() < end - 1e-12) {
    clock.advance(Math.min(quantum, end - clock.now()));
    await settle();
  }
}

/** A runtime on a ManualClock: inline control thread over a RecordingDriver, inference on `policy`. */
export async function virtualRuntime<O>(
  policy: PolicyLike<O>,
  options: { controlPeriod: number; initial?: ArrayLike<number>; control?: Partial<InlineControlOptions>; observe?: () => O } & Omit<RealtimeRuntimeOptions<O>, 'control' | 'policy' | 'controlPeriod' | 'clock' | 'observe'>,
  clock = new ManualClock(),
) {
  const { controlPeriod, initial, control: controlOptions, observe = () => undefined as O, ...rest } = options;
  const ring = SharedActionRing.create({ chunkLength: policy.chunkLength, actionDim: policy.actionDim });
  const driver = new RecordingDriver(initial ?? new Float64Array(policy.actionDim), clock);
  const control = await startInlineControlThread(ring, driver, { controlPeriod, clock, ...controlOptions });
  const runtime = new RealtimeRuntime<O>({ ...rest, observe, control, policy, controlPeriod, clock });
  const events: RuntimeEvent[] = [];
  runtime.on((e) => events.push(e));
  return { clock, ring, driver, control, runtime, events };
}
