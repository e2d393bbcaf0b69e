/**
 * The assembled Being-H0.5 policy on the CPU backend: one training step (the joint objective — flow
 * matching with UAC, masked motion tokens, text — forward, backward, clipping and AdamW) and the latency
 * of one action chunk (K = 4 Euler steps, chunk 16) with the vision-language prefix in a KV cache and
 * without it (every step recomputes the whole sequence), for the `tiny` and `small` presets.
 *
 *     npm run build:all && node build/bench/policy.bench.js           # about 2 minutes
 *     npm run build:all && node build/bench/policy.bench.js --quick   # fewer samples
 *
 * The presets as they are (MoF, ESA, MPG, UAC and masked tokens on). A training batch holds 4 samples:
 * 2 motion generation, 1 hybrid (flow matching + motion tokens) and 1 VQA, each with one camera image
 * (32² for `tiny`, 64² for `small`) and a short instruction; the SO-101 embodiment. An action chunk is
 * `sampleActions` on one observation (one image, an instruction, the state) without MPG refinement
 * (N_ref = 0) and, in a last column, with the presets' one refinement round (2 × K steps, cached).
 * Figures are medians over benchmark.js samples. (The wasm backend frees buffers only between tasks, so
 * benchmark.js's synchronous loop would exhaust its memory; it is not measured here.)
 * @module
 */
import { Generator } from '../src/tensor/index.js';
import { PRESETS } from '../src/model/policy/presets.js';
import { BeingPolicy } from '../src/model/policy/policy.js';
import { PolicyTrainer } from '../src/model/policy/trainer.js';
import { sampleActions } from '../src/model/policy/sample.js';
import { policyBenchInputs } from './policy-inputs.js';
import { formatNumber, formatRatio, formatTable, runSuite, type BenchCase, type CaseOptions } from './harness.js';

const quick = process.argv.includes('--quick');
for (const a of process.argv.slice(2)) if (a !== '--quick') throw new Error(`unknown argument '${a}' (expected --quick)`);

async function main(): Promise<void> {
  console.log(`Being-H0.5 policy on the CPU backend, Node ${process.version}${quick ? '; --quick' : ''}`);
  const opts: CaseOptions = quick ? { minSamples: 3, maxTime: 1 } : { minSamples: 8, maxTime: 4 };
  const rows: string[][] = [];
  for (const name of ['tiny', 'small'] as const) {
    const policy = new BeingPolicy(PRESETS[name], { seed: 1 });
    const { samples, observation } = policyBenchInputs(policy, 2);
    const batch = policy.batch(samples);
    const trainer = new PolicyTrainer(policy, { lr: 1e-4 });
    const steps = policy.config.flow.steps;
    const sample = (cache: boolean, refine: number) => () => {
      sampleActions(policy, observation, { cache, refine, generator: new Generator(3) });
    };
    const cases: BenchCase[] = [
      { name: `${name} train step`, options: opts, fn: () => void trainer.trainStep(batch) },
      { name: `${name} chunk cached`, options: opts, fn: sample(true, 0) },
      { name: `${name} chunk uncached`, options: opts, fn: sample(false, 0) },
      { name: `${name} chunk cached + MPG round`, options: opts, fn: sample(true, 1) },
    ];
    const r = await runSuite(cases);
    const ms = (c: string): number => 1000 / r.get(`${name} ${c}`)!.medianHz;
    rows.push([
      name,
      formatNumber(policy.numParameters() / 1e6, 3),
      `${batch.size} × ${batch.length}`,
      formatNumber(ms('train step')),
      formatNumber(ms('chunk cached')),
      formatNumber(ms('chunk uncached')),
      formatRatio(ms('chunk uncached'), ms('chunk cached')),
      formatNumber(ms('chunk cached + MPG round')),
    ]);
    console.log(`  ${name}: K = ${steps}, chunk ${policy.config.flow.chunkLength}, ${policy.imageTokens} image tokens, suffix from position ${policy.observations([observation]).suffixStart[0]} of ${policy.observations([observation]).length}`);
  }
  console.log();
  console.log(formatTable(['preset', 'params (M)', 'batch (B × T)', 'train step (ms)', 'chunk, cache (ms)', 'chunk, no cache (ms)', 'cache speed-up', 'chunk + 1 MPG round (ms)'], rows));
}

await main();
