/**
 * Demonstrations from the scripted experts, turned into training samples, and balanced batches: each
 * sample of a batch first draws its embodiment uniformly, then a sample of that embodiment, so the
 * generalist sees every embodiment equally often whatever their episode lengths.
 * @module
 */
import type { Generator } from '../../src/tensor/index.js';
import type { ActionTaskSample } from '../../src/model/index.js';
import { demonstrationSamples, recordDemonstration, type Demonstration, type SimEmbodimentName } from '../../src/robot/index.js';
import { taskOf } from './plan.js';

/** Records one expert demonstration per seed (task kinds alternating); only successful ones are kept. */
export function demonstrations(embodiment: SimEmbodimentName, seeds: readonly number[]): { kept: Demonstration[]; failed: number } {
  const kept: Demonstration[] = [];
  let failed = 0;
  seeds.forEach((seed, i) => {
    const demo = recordDemonstration({ embodiment, seed, task: taskOf(i) });
    if (demo.success) kept.push(demo);
    else failed++;
  });
  return { kept, failed };
}

/** Training samples per embodiment. */
export type SamplePools = ReadonlyMap<SimEmbodimentName, readonly ActionTaskSample[]>;

/** The training samples of each embodiment's demonstrations. */
export function samplePools(demos: ReadonlyMap<SimEmbodimentName, readonly Demonstration[]>, chunkLength: number, stride: number): SamplePools {
  const pools = new Map<SimEmbodimentName, ActionTaskSample[]>();
  for (const [e, list] of demos) {
    const pool = list.flatMap((d) => demonstrationSamples(d, { chunkLength, stride }));
    if (pool.length === 0) throw new RangeError(`samplePools: no training samples for '${e}' (${list.length} demonstrations)`);
    pools.set(e, pool);
  }
  return pools;
}

/** A batch of `size` samples: embodiment uniformly, then a sample of it uniformly (with replacement). */
export function balancedBatch(pools: SamplePools, size: number, generator: Generator): ActionTaskSample[] {
  const names = [...pools.keys()];
  return Array.from({ length: size }, () => {
    const pool = pools.get(names[generator.integer(0, names.length)]!)!;
    return pool[generator.integer(0, pool.length)]!;
  });
}
