/**
 * A driver module for control workers (see `DriverModule`): the simulated robot, wrapped in the
 * safety layer, built inside the worker from plain options. Point a worker at it with
 * {@link simulatedDriverModule}.
 * @module
 */
import type { RobotDriver } from '../driver.js';
import { getRobot } from '../embodiments/index.js';
import { SafeDriver } from '../safety.js';
import { SimulatedRobot } from '../simulated.js';
import type { DriverModule } from './control-worker.js';

/** Options of {@link createDriver}: plain data, posted to the worker. */
export interface SimulatedDriverOptions {
  /** The registry name of the robot (e.g. `so101`). */
  readonly robot: string;
  /** τ of the simulated joints in seconds (default one control period). */
  readonly timeConstant?: number;
  /** Starting joint positions (default the robot's home). */
  readonly initial?: readonly number[];
  /** Wrap it in `SafeDriver` (default true). */
  readonly safe?: boolean;
  /** The safety layer's watchdog timeout in seconds (default its own). */
  readonly watchdogTimeout?: number;
}

/** The factory a control worker calls: a `SimulatedRobot` of `options.robot` on the system clock, in a `SafeDriver` unless `safe` is false. */
export function createDriver(options: SimulatedDriverOptions): RobotDriver {
  const robot = getRobot(options?.robot);
  const sim = new SimulatedRobot(robot, {
    ...(options.timeConstant !== undefined ? { timeConstant: options.timeConstant } : {}),
    ...(options.initial !== undefined ? { initial: options.initial } : {}),
  });
  if (options.safe === false) return sim;
  return new SafeDriver(sim, options.watchdogTimeout !== undefined ? { watchdogTimeout: options.watchdogTimeout } : {});
}

/**
 * The {@link DriverModule} that makes a control worker build {@link createDriver}`(options)`.
 *
 * @example
 * await startNodeControlThread(ring, { driver: simulatedDriverModule({ robot: 'so101' }), controlPeriod: 1 / 30 });
 */
export function simulatedDriverModule(options: SimulatedDriverOptions): DriverModule {
  return { module: new URL('./simulated-driver-module.js', import.meta.url).href, export: 'createDriver', options };
}
