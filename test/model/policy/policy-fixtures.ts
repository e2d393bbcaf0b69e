// Shared helpers of the assembled-policy tests (§5-6): a tinier override of the `tiny` preset (chunks
// of 8 steps instead of 16, so that the whole suite stays fast on two cores), seeded observations and
// samples of every task kind for two embodiments with disjoint slots (SO-101: arm joints and gripper;
// MANO hands: wrists and fingers), and comparisons.
import assert from 'node:assert/strict';
import { Generator, rand, randn, type Tensor } from '../../../src/tensor/index.js';
import { Embodiment } from '../../../src/model/action-space.js';
import { MANO_HANDS, SO101_ARM } from '../../../src/model/example-embodiments.js';
import { policyConfig, type PolicyConfig, type PolicyConfigOverrides } from '../../../src/model/policy/config.js';
import { PRESETS } from '../../../src/model/policy/presets.js';
import type { ActionTaskSample, Observation, PolicySample } from '../../../src/model/policy/samples.js';

/** SO-101 (right arm joints and gripper). */
export const so101 = new Embodiment(SO101_ARM);
/** MANO hands (wrist poses and fingers): no slot in common with SO-101. */
export const mano = new Embodiment(MANO_HANDS);

/** `tiny` with 8-step chunks and d_max = 3, plus `overrides`. */
export function tinier(overrides: PolicyConfigOverrides = {}): PolicyConfig {
  const base = policyConfig(PRESETS.tiny, { flow: { chunkLength: 8 }, uac: { maxDelay: 3 } });
  return policyConfig(base, overrides);
}

/** A seeded source of observations and samples for a config. */
export class Samples {
  readonly #g: Generator;
  constructor(
    readonly config: PolicyConfig,
    seed = 1,
  ) {
    this.#g = new Generator(seed);
  }

  image(): Tensor {
    const { channels: C, imageSize: S } = this.config.vision;
    return rand([C, S, S], { generator: this.#g });
  }

  state(e: Embodiment): Tensor {
    return e.toUnified(randn([e.rawDim], { generator: this.#g }));
  }

  chunk(e: Embodiment, rows = this.config.flow.chunkLength): Tensor {
    return e.toUnified(randn([rows, e.rawDim], { generator: this.#g }).mul(0.5));
  }

  observation(e: Embodiment, instruction = 'pick up the cup', history = false): Observation {
    return { embodiment: e, images: [this.image()], instruction, state: this.state(e), ...(history ? { history: this.chunk(e, 3) } : {}) };
  }

  action(e: Embodiment, task: ActionTaskSample['task'] = 'motion-generation', instruction = 'pick'): ActionTaskSample {
    const codes = this.config.maskedMotion.numCodes;
    return {
      ...this.observation(e, instruction, task === 'motion-continuation'),
      task,
      actions: this.chunk(e),
      ...(task === 'hybrid' ? { motionTokens: Array.from({ length: this.config.maskedMotion.numTokens }, () => this.#g.integer(0, codes)) } : {}),
    };
  }

  vqa(prompt = 'what is on the table?', answer = 'a red cup'): PolicySample {
    return { task: 'vqa', images: [this.image()], prompt, answer };
  }

  description(e: Embodiment, answer = 'lift'): PolicySample {
    return { task: 'motion-description', embodiment: e, images: [this.image()], state: this.state(e), actions: this.chunk(e, 4), answer };
  }

  /** One sample of every task kind. */
  mixed(): PolicySample[] {
    return [this.action(so101), this.action(mano, 'hybrid'), this.vqa(), this.action(so101, 'motion-continuation'), this.description(mano)];
  }
}

/** The values of a tensor as numbers. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}

/** Asserts equal shapes and |a − b| ≤ tol elementwise. */
export function assertClose(a: Tensor, b: Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes differ`);
  const [x, y] = [values(a), values(b)];
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  assert.ok(worst <= tol, `${what}: max |a − b| = ${worst} > ${tol}`);
}

/** Copies of every parameter's values, by name. */
export function snapshot(named: readonly [string, Tensor][]): Map<string, Float32Array | Float64Array> {
  return new Map(named.map(([n, p]) => [n, p.dataSync().slice() as Float32Array | Float64Array]));
}

/** True when two value arrays are equal bit for bit. */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
