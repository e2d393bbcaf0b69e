// The `tiny` policy on the WebGPU backend (§5-6 end to end): the same seeds give the CPU's training run —
// the joint loss of Eq. 4-8 with UAC, ESA, MPG, MoF and masked motion tokens, its gradient norm, AdamW —
// and the CPU's sampled chunk (Eq. 20, K Euler steps on a cached prefix, one MPG round of Eq. 21) within
// float32 tolerance. WebGPU cannot read synchronously (`dataSync` throws there), so finishing at all shows
// that training and sampling never read back midway; `trainStepAsync` and `sampleActionsAsync` read once,
// at the end. Steps and chunks leave the live-buffer count unchanged. Skipped, with the reason, where no
// WebGPU adapter can be had (Dawn on Mesa's llvmpipe in CI; see test/helpers/webgpu.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, scope, setBackend, type Tensor } from '../../../src/tensor/index.js';
import { BeingPolicy } from '../../../src/model/policy/policy.js';
import { PRESETS } from '../../../src/model/policy/presets.js';
import { sampleActionsAsync } from '../../../src/model/policy/sample.js';
import { PolicyTrainer, type TrainStepResult } from '../../../src/model/policy/trainer.js';
import { webgpuForTests } from '../../helpers/webgpu.js';
import { Samples, so101 } from './policy-fixtures.js';

const gpu = await webgpuForTests();
const skip = typeof gpu === 'string' ? gpu : false;
const STEPS = 3;

interface Run {
  steps: TrainStepResult[];
  chunk: Float32Array;
  rounds: Float32Array[];
  gates: number[][];
  /** Live buffers after each step, then after each of two chunks. */
  live: number[];
}

/** Trains the tiny policy {@link STEPS} steps on one batch, then samples two chunks with the same noise, on `backend`. */
async function run(backend: string, live: () => number): Promise<Run> {
  setBackend(backend);
  try {
    // Set-up inside scope (temporaries left to the garbage collector could be finalized mid-count); the
    // policy's parameters and buffers are returned, so that the scope keeps them.
    const { policy, batch, observation } = scope(() => {
      const cfg = PRESETS.tiny;
      const p = new BeingPolicy(cfg, { seed: 11 });
      const data = new Samples(cfg, 12);
      const codes = Array.from({ length: cfg.maskedMotion.numTokens }, (_, i) => (5 * i + 3) % cfg.maskedMotion.numCodes);
      const samples = [data.action(so101, 'motion-generation', 'pick'), { ...data.action(so101, 'hybrid', 'wave'), motionTokens: codes }, data.vqa()];
      const held = [...p.parameters(), ...p.namedBuffers().map(([, b]) => b)];
      return { policy: p, held, batch: p.batch(samples), observation: data.observation(so101, 'push the cup') };
    });
    const trainer = new PolicyTrainer(policy, { lr: 1e-3, seed: 'webgpu' });
    const steps: TrainStepResult[] = [];
    const counts: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      steps.push(await trainer.trainStepAsync(batch));
      counts.push(live());
    }
    let first: Omit<Run, 'steps' | 'live'> | null = null;
    for (let k = 0; k < 2; k++) {
      const out = await sampleActionsAsync(policy, observation, { generator: new Generator(13) });
      first ??= { chunk: Float32Array.from(await out.raw.data()), rounds: await Promise.all(out.rounds.map(async (r) => Float32Array.from(await r.data()))), gates: out.gates };
      for (const t of [out.unified, out.raw, ...out.rounds] as Tensor[]) t.dispose();
      counts.push(live());
    }
    return { steps, ...first!, live: counts };
  } finally {
    setBackend('cpu');
  }
}

/** |a − b| ≤ tol·(1 + |b|), naming what differs. */
function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: ${a} (webgpu) vs ${b} (cpu)`);
}

describe('the tiny policy on the webgpu backend', { skip }, () => {
  let onGpu: Run;
  let onCpu: Run;
  before(async () => {
    assert.ok(typeof gpu !== 'string');
    onGpu = await run('webgpu', () => gpu.liveBuffers);
    onCpu = await run('cpu', () => 0);
  });
  after(() => {
    if (typeof gpu !== 'string') gpu.destroy();
  });

  test('Eq. 4-8: AdamW steps on the same batch and seed give the CPU loss, loss terms and gradient norm within float32 tolerance', () => {
    for (let i = 0; i < STEPS; i++) {
      const [g, c] = [onGpu.steps[i]!, onCpu.steps[i]!];
      close(g.loss, c.loss, 1e-4, `step ${i + 1} loss`);
      close(g.gradNorm, c.gradNorm, 1e-3, `step ${i + 1} gradient norm`);
      for (const k of ['text', 'flowMatching', 'maskedMotion', 'aux', 'z'] as const) {
        assert.equal(g.terms[k] === null, c.terms[k] === null, `step ${i + 1}: term ${k} present on one backend only`);
        if (c.terms[k] !== null) close(g.terms[k]!, c.terms[k]!, 1e-4, `step ${i + 1} ${k}`);
      }
    }
    assert.notEqual(onCpu.steps[0]!.loss, onCpu.steps[STEPS - 1]!.loss, 'the steps changed the parameters');
  });

  test('Eq. 20-21: the chunk sampled with the same noise (K Euler steps on a cached prefix, one MPG round) and its gates match the CPU', () => {
    assert.equal(onGpu.chunk.length, onCpu.chunk.length);
    onGpu.chunk.forEach((v, i) => close(v, onCpu.chunk[i]!, 1e-3, `chunk[${i}]`));
    assert.equal(onGpu.rounds.length, onCpu.rounds.length);
    onGpu.rounds.forEach((r, n) => r.forEach((v, i) => close(v, onCpu.rounds[n]![i]!, 1e-3, `round ${n} [${i}]`)));
    assert.deepEqual(
      onGpu.gates.map((g) => g.length),
      onCpu.gates.map((g) => g.length),
    );
    // g = exp(−D/τ) (Eq. 15): compare D = −τ·log g, which float32 rounding moves by a relative amount.
    onGpu.gates.forEach((g, n) => g.forEach((v, k) => close(-Math.log(v), -Math.log(onCpu.gates[n]![k]!), 1e-3, `gate D, round ${n} step ${k}`)));
  });

  test('memory: training steps and sampled chunks leave the live-buffer count unchanged', () => {
    const [afterFirst, ...rest] = onGpu.live;
    assert.ok(afterFirst! > 0);
    rest.forEach((n, i) => assert.equal(n, afterFirst, `live buffers: ${afterFirst} after step 1, ${n} after ${i < STEPS - 1 ? `step ${i + 2}` : `chunk ${i - STEPS + 2}`}`));
  });
});
