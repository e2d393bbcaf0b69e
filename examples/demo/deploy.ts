/**
 * Deployment (§6): the adapted policy drives the held-out arm in real time. The world is the robot driver;
 * a control thread pops one action per control period from the execution buffer; the inference loop
 * samples chunks with the committed prefix locked (UAC, Eq. 23), choosing its delay from the measured
 * latency (Eq. 22) and stitching the new chunk in (Eq. 24). Inference latency is simulated by holding
 * each chunk back for {@link SIMULATED_LATENCY} seconds on top of the real computation. The policy predicts
 * delta end-effector actions (§5.1.1) and the world takes absolute targets: `DeltaActionPolicy` converts
 * between the two around the runner, against the state of each observation.
 * @module
 */
import { Generator } from '../../src/tensor/index.js';
import { policyFromCheckpoint } from '../../src/model/index.js';
import {
  BeingPolicyRunner,
  DeltaActionPolicy,
  RealtimeRuntime,
  SharedActionRing,
  SimWorldDriver,
  TabletopWorld,
  startInlineControlThread,
  type PolicyLike,
  type RunnerObservation,
} from '../../src/robot/index.js';
import type { ResultRow } from './experiments.js';
import { HELD_OUT, deploySeeds, taskOf } from './plan.js';

/** Extra inference latency, seconds (on top of the real sampling time). */
export const SIMULATED_LATENCY = 0.15;

const sleep = (s: number): Promise<void> => new Promise((r) => setTimeout(r, s * 1000));

/** Runs `episodes` real-time episodes of the held-out arm with the policy in `checkpoint`; returns table rows. */
export async function deploy(checkpoint: Uint8Array, episodes: number): Promise<ResultRow[]> {
  const policy = policyFromCheckpoint(checkpoint);
  const seeds = deploySeeds(HELD_OUT, episodes);
  let successes = 0;
  let maxJump = 0;
  let underflows = 0;
  let stitches = 0;
  const latencies: number[] = [];
  const delays: number[] = [];
  const jitters: number[] = [];
  for (const [i, seed] of seeds.entries()) {
    const world = new TabletopWorld({ embodiment: HELD_OUT, seed, task: taskOf(i), imageSize: policy.config.vision.imageSize as 32 | 64 });
    const driver = new SimWorldDriver(world);
    await driver.connect();
    const period = driver.info.controlPeriod;
    const embodiment = driver.info.robot.embodiment;
    // Absolute raw rows for the driver, from a runner whose rows are delta end-effector actions.
    const runner = new DeltaActionPolicy(new BeingPolicyRunner(policy, { embodiment, generator: new Generator(`deploy-${seed}`) }), embodiment);
    const slow: PolicyLike<RunnerObservation> = {
      chunkLength: runner.chunkLength,
      actionDim: runner.actionDim,
      trainedMaxDelay: runner.trainedMaxDelay,
      async sampleActions(observation, options) {
        const chunk = await runner.sampleActions(observation, options);
        await sleep(SIMULATED_LATENCY);
        return chunk;
      },
    };
    const ring = SharedActionRing.create({ chunkLength: runner.chunkLength, actionDim: runner.actionDim });
    const control = await startInlineControlThread(ring, driver, { controlPeriod: period });
    const runtime = new RealtimeRuntime({ control, policy: slow, observe: () => driver.observe(), controlPeriod: period });
    runtime.start();
    // Real time: the episode lasts until success or the world's step limit.
    while (!world.done()) await sleep(period);
    const m = await runtime.stop();
    await driver.stop();
    if (world.success()) successes++;
    maxJump = Math.max(maxJump, m.control.maxJump);
    underflows += m.control.underflows;
    stitches += m.control.stitches;
    latencies.push(m.inference.latency.p50);
    jitters.push(m.control.jitter.p99);
    m.inference.delays.forEach((n, d) => {
      for (let k = 0; k < n; k++) delays.push(d);
    });
    if (m.inference.failure !== null) throw new Error(`deploy: the inference loop gave up: ${m.inference.failure}`);
  }
  const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  const base = { experiment: 'deploy (real time)', condition: `UAC runtime, +${SIMULATED_LATENCY * 1000} ms latency`, embodiment: HELD_OUT, trials: episodes, seeds: `worlds ${seeds[0]}…${seeds[seeds.length - 1]}` };
  return [
    { ...base, metric: 'success rate', value: successes / episodes },
    { ...base, metric: 'inference latency p50 (s)', value: mean(latencies) },
    { ...base, metric: 'mean chosen delay d', value: mean(delays) },
    { ...base, metric: 'control jitter p99 (s)', value: mean(jitters) },
    { ...base, metric: 'underflow ticks', value: underflows },
    { ...base, metric: 'chunks stitched', value: stitches },
    { ...base, metric: 'max command jump (m or rad, largest raw entry)', value: maxJump },
  ];
}
