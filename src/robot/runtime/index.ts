/**
 * The real-time runtime of §6 (Eq. 22-24): the shared execution buffer, the control thread (inline,
 * Node worker or Web Worker), the inference loop, and a deterministic stand-in policy.
 * @module
 */
export { SharedActionRing, type SharedRingHandle, type SharedRingOptions, type RingSnapshot, type AppliedStitch, type PublishedState } from './ring-buffer.js';
export { stitchChunk, prefixEdits } from './stitch.js';
export { latencyCommitment, chooseDelay, LatencyEstimator, type DelayChoice, type DelayInputs } from './latency-commitment.js';
export { SharedControlMetrics, JITTER_WINDOW, CONTROL_COUNTERS, percentiles, type ControlMetrics, type ControlCounter, type Percentiles, type SharedMetricsHandle } from './control-metrics.js';
export {
  ControlCore,
  checkFallback,
  type Fallback,
  type HoldFallback,
  type RampFallback,
  type ControlEvent,
  type ControlStamp,
  type UnderflowEvent,
  type PrefixOverrunEvent,
  type DriverErrorEvent,
  type MissedTicksEvent,
  type ControlledDriver,
  type ControlCoreOptions,
} from './control-loop.js';
export { runClockSchedule, runPreciseSchedule, type ScheduleHandle, type TickFn, type MissedFn, type PreciseTiming, type PreciseScheduleOptions } from './schedule.js';
export { startInlineControlThread, Listeners, type ControlThread, type ControlThreadEvent, type ControlExitEvent, type InlineControlOptions } from './control-thread.js';
export {
  runControlWorker,
  hostControlWorker,
  workerInit,
  type DriverModule,
  type ExitAction,
  type ControlWorkerOptions,
  type ControlWorkerInit,
  type ControlWorkerMessage,
  type WorkerEndpoint,
  type WorkerTimeouts,
} from './control-worker.js';
export { startNodeControlThread } from './node-control-thread.js';
export { startWebControlThread } from './web-control-thread.js';
export { createDriver as createSimulatedDriver, simulatedDriverModule, type SimulatedDriverOptions } from './simulated-driver-module.js';
export type { PolicyLike, SampleActionsOptions } from './policy.js';
export { StandInPolicy, type StandInPolicyOptions, type StandInObservation } from './stand-in-policy.js';
export {
  InferenceLoop,
  type InferenceLoopOptions,
  type InferenceMetrics,
  type InferenceEvent,
  type InferenceStamp,
  type InferenceErrorEvent,
  type InferenceStalledEvent,
  type InferenceStoppedEvent,
  type DelayClampedEvent,
  type PrefixEditedEvent,
  type ControlUnresponsiveEvent,
} from './inference-loop.js';
export { RealtimeRuntime, type RealtimeRuntimeOptions, type RuntimeMetrics, type RuntimeEvent } from './runtime.js';
export { BeingPolicyRunner, type BeingPolicyRunnerOptions, type RunnerObservation } from './being-policy.js';
export { DeltaActionPolicy, type StatefulObservation } from './delta-action-policy.js';
