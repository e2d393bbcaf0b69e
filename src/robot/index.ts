/**
 * Embodiments, robot drivers and the real-time runtime (built on model, nn and tensor).
 *
 * This layer's public API is exported here as it lands; it has no exports yet.
 * @module
 */
export {};
export { systemClock, ManualClock, type Clock, type TimerHandle } from './clock.js';
export { DriverEvents, DriverStateError, type RobotDriver, type RobotState, type DriverStatus, type DriverInfo, type DriverEvent, type StatusEvent, type FaultEvent, type ClampedEvent, type WatchdogEvent, type DriverListener, type ClampRecord } from './driver.js';
export { SafeDriver, clampAction, validateAction, type SafeDriverOptions, type ClampResult } from './safety.js';
export { SimulatedRobot, type SimulatedRobotOptions } from './simulated.js';
export * from './embodiments/index.js';
export * from './server/index.js';
export * as feetech from './drivers/feetech/index.js';
export * from './runtime/index.js';
