/**
 * The policy part of `webgpu.bench.ts`: one training step (`trainStepAsync`: the joint objective of Eq.
 * 4-8 with UAC, ESA, MPG, MoF and masked motion tokens, backward, clipping, AdamW) and one action chunk
 * (`sampleActionsAsync`: K = 4 Euler steps on a KV-cached prefix, Eq. 20, without and with the preset's
 * MPG refinement round, Eq. 21) of a preset policy, on each backend given, with the same seeds.
 *
 * Every backend runs the asynchronous entry points, which record a step or a chunk without reading
 * anything back and read once at the end (on cpu and wasm that read is immediate). An operation is timed
 * from its call to its awaited result; after one untimed warm-up (which also compiles WebGPU pipelines)
 * the median of `runs` operations is reported. The warm-up step's loss is compared across backends: the
 * same seeds must give the same loss within float32 rounding.
 * @module
 */
import { Generator, scope, setBackend } from '../src/tensor/index.js';
import { PRESETS, type PresetName } from '../src/model/policy/presets.js';
import { BeingPolicy } from '../src/model/policy/policy.js';
import { PolicyTrainer } from '../src/model/policy/trainer.js';
import { sampleActionsAsync } from '../src/model/policy/sample.js';
import { policyBenchInputs } from './policy-inputs.js';

/** Median milliseconds per operation of one preset on one backend. */
export interface PolicyTimes {
  /** One `trainStepAsync` on a batch of 4 samples. */
  trainStep: number;
  /** One `sampleActionsAsync` without refinement. */
  chunk: number;
  /** One `sampleActionsAsync` with the preset's MPG refinement round. */
  chunkRefined: number;
  /** The warm-up step's loss (the first step from the seed). */
  firstLoss: number;
  /** Parameters of the policy. */
  parameters: number;
  /** Samples × positions of the training batch. */
  batchShape: string;
}

async function medianMs(runs: number, op: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await op();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m]! : (times[m - 1]! + times[m]!) / 2;
}

/** Times `preset` on `backend` (which must be registered), `runs` operations per figure. */
export async function timePolicy(preset: PresetName, backend: string, runs: number): Promise<PolicyTimes> {
  setBackend(backend);
  try {
    const policy = new BeingPolicy(PRESETS[preset], { seed: 1 });
    // The batch's set-up temporaries are freed at once on backends with explicit memory.
    const { batch, observation } = scope(() => {
      const { samples, observation: o } = policyBenchInputs(policy, 2);
      return { batch: policy.batch(samples), observation: o };
    });
    const trainer = new PolicyTrainer(policy, { lr: 1e-4, seed: 'bench' });
    const sample = async (refine: number): Promise<void> => {
      const out = await sampleActionsAsync(policy, observation, { refine, generator: new Generator(3) });
      await out.raw.data();
      for (const t of [out.unified, out.raw, ...out.rounds]) t.dispose();
    };
    const firstLoss = (await trainer.trainStepAsync(batch)).loss;
    await sample(0);
    await sample(1);
    const trainStep = await medianMs(runs, async () => void (await trainer.trainStepAsync(batch)));
    const chunk = await medianMs(runs, () => sample(0));
    const chunkRefined = await medianMs(runs, () => sample(1));
    return { trainStep, chunk, chunkRefined, firstLoss, parameters: policy.numParameters(), batchShape: `${batch.size} × ${batch.length}` };
  } finally {
    setBackend('cpu');
  }
}
