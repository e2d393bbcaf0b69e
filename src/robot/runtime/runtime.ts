/**
 * The dual-thread deployment architecture of §6.3 in one object: a running control thread (the
 * consumer, see `ControlThread`) and an {@link InferenceLoop} (the producer) on the same execution
 * buffer, with their events and metrics merged. Eq. 22-24 are carried out by those two parts.
 * @module
 */
import type { ControlMetrics } from './control-metrics.js';
import { Listeners, type ControlThread, type ControlThreadEvent } from './control-thread.js';
import { InferenceLoop, type InferenceEvent, type InferenceLoopOptions, type InferenceMetrics } from './inference-loop.js';

/** Everything the runtime reports. */
export type RuntimeEvent = ControlThreadEvent | InferenceEvent;

/** Both threads' metrics. */
export interface RuntimeMetrics {
  /** The control thread's (jitter, underflows, stitches, overruns, largest jump, …). */
  readonly control: ControlMetrics;
  /** The inference loop's (latency, d chosen, errors, stalls, …). */
  readonly inference: InferenceMetrics;
}

/** Options of {@link RealtimeRuntime}: the inference loop's, plus the started control thread. */
export interface RealtimeRuntimeOptions<O> extends Omit<InferenceLoopOptions<O>, 'onEvent'> {
  /** A started control thread; its ring is the execution buffer. */
  control: ControlThread;
}

/**
 * The real-time runtime: start the control thread first (inline, Node worker or Web Worker), then
 * hand it here with the policy and the observation source.
 *
 * @example
 * const ring = SharedActionRing.create({ chunkLength: policy.chunkLength, actionDim: policy.actionDim });
 * const control = await startNodeControlThread(ring, { driver: simulatedDriverModule({ robot: 'so101' }), controlPeriod: 1 / 30 });
 * const runtime = new RealtimeRuntime({ control, policy, observe, controlPeriod: 1 / 30 });
 * runtime.on((e) => console.log(e));
 * runtime.start();
 * // …
 * const { control: c, inference: i } = await runtime.stop();
 */
export class RealtimeRuntime<O> {
  /** The control thread. */
  readonly control: ControlThread;
  /** The inference loop. */
  readonly inference: InferenceLoop<O>;
  readonly #listeners = new Listeners<RuntimeEvent>();
  #stopped: Promise<RuntimeMetrics> | null = null;

  /** A runtime over `options.control` and a new inference loop on its ring. */
  constructor(options: RealtimeRuntimeOptions<O>) {
    const { control, ...rest } = options ?? ({} as RealtimeRuntimeOptions<O>);
    if (typeof control?.metrics !== 'function' || control.ring === undefined) throw new TypeError('RealtimeRuntime: options.control must be a started ControlThread');
    this.control = control;
    this.inference = new InferenceLoop(control.ring, { ...rest, onEvent: (e) => this.#listeners.emit(e) });
    control.on((e) => this.#listeners.emit(e));
  }

  /** Subscribes to both threads' events; returns the function that unsubscribes. */
  on(listener: (event: RuntimeEvent) => void): () => void {
    return this.#listeners.on(listener);
  }

  /** Starts inference (the control thread is already running). */
  start(): void {
    this.inference.start();
  }

  /** Both threads' metrics now. */
  metrics(): RuntimeMetrics {
    return { control: this.control.metrics(), inference: this.inference.metrics() };
  }

  /** Stops inference, then the control thread; resolves with the final metrics. */
  stop(): Promise<RuntimeMetrics> {
    this.#stopped ??= (async () => {
      await this.inference.stop();
      await this.control.stop();
      return this.metrics();
    })();
    return this.#stopped;
  }
}
