/**
 * Robots (built on model, nn and tensor): the embodiment registry of the paper's robots, the
 * `RobotDriver` interface with safety in the common path, a simulated robot and the Feetech STS3215 bus
 * driver, the real-time UAC runtime of §6 (Eq. 22-24), and the openpi-compatible policy client. Node-only
 * pieces (the serial-port transport, the policy server) load lazily or live in `being-ts/node`.
 * @module
 */
export { systemClock, ManualClock, type Clock, type TimerHandle } from './clock.js';
export { DriverEvents, DriverStateError, type RobotDriver, type RobotState, type DriverStatus, type DriverInfo, type DriverEvent, type StatusEvent, type FaultEvent, type ClampedEvent, type WatchdogEvent, type DriverListener, type ClampRecord } from './driver.js';
export { SafeDriver, clampAction, validateAction, type SafeDriverOptions, type ClampResult } from './safety.js';
export { SimulatedRobot, type SimulatedRobotOptions } from './simulated.js';
export { SimulatedLifecycle } from './simulated-lifecycle.js';
export * from './embodiments/index.js';
export * from './server/index.js';
export * as feetech from './drivers/feetech/index.js';
export * from './runtime/index.js';
export * from './sim/index.js';
