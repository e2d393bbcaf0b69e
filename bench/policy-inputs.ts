/**
 * The policy benchmarks' inputs (`policy.bench.ts`, `webgpu-policy.ts`): 2 motion-generation samples,
 * 1 hybrid (flow matching + motion tokens), 1 VQA, each with one camera image and a short instruction, and
 * one observation — the SO-101 embodiment, random values from `seed`.
 * @module
 */
import { Generator, rand, randn, type Tensor } from '../src/tensor/index.js';
import { Embodiment } from '../src/model/action-space.js';
import { SO101_ARM } from '../src/model/example-embodiments.js';
import type { BeingPolicy } from '../src/model/policy/policy.js';
import type { Observation, PolicySample } from '../src/model/policy/samples.js';

const so101 = new Embodiment(SO101_ARM);

/** A training batch's samples and an observation sized for `policy`'s config. */
export function policyBenchInputs(policy: BeingPolicy, seed: number): { samples: PolicySample[]; observation: Observation } {
  const g = new Generator(seed);
  const { channels: C, imageSize: S } = policy.config.vision;
  const T = policy.config.flow.chunkLength;
  const image = (): Tensor => rand([C, S, S], { generator: g });
  const obs = (instruction: string): Observation => ({ embodiment: so101, images: [image()], instruction, state: so101.toUnified(randn([so101.rawDim], { generator: g })) });
  const chunk = (): Tensor => so101.toUnified(randn([T, so101.rawDim], { generator: g }));
  const codes = Array.from({ length: policy.config.maskedMotion.numTokens }, (_, i) => i % policy.config.maskedMotion.numCodes);
  return {
    samples: [
      { ...obs('pick up the red cup'), task: 'motion-generation', actions: chunk() },
      { ...obs('open the drawer'), task: 'motion-generation', actions: chunk() },
      { ...obs('wave'), task: 'hybrid', actions: chunk(), motionTokens: codes },
      { task: 'vqa', images: [image()], prompt: 'what colour is the cup?', answer: 'red' },
    ],
    observation: obs('pick up the red cup'),
  };
}
