/**
 * The main demo: a `tiny` Being-H0.5 policy learns the small 2-D cross-embodiment world on this machine.
 * It records expert demonstrations, pre-trains a generalist on two arms and a human hand, evaluates it in
 * closed loop, adapts it to a held-out 4-link arm from a few demonstrations, deploys the adapted policy
 * through the real-time UAC runtime under simulated inference latency, and tests the paper's claims in
 * miniature (see `experiments.ts`). It prints a results table and writes it, with plots, to the output
 * folder.
 *
 *     npm run demo                     # the full run, about ten minutes on two cores
 *     npm run demo -- --quick          # a reduced run for CI (checks the pipeline, not the numbers)
 *     npm run demo -- --out my-run --threads 1 --backend cpu
 * @module
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { setBackend } from '../../src/tensor/index.js';
import { deploy } from './deploy.js';
import { runExperiments } from './experiments.js';
import { FULL_BUDGET, QUICK_BUDGET, DEMO_TASKS, PRETRAIN, HELD_OUT, type DemoBudget } from './plan.js';
import { JobPool } from './pool.js';
import { resultsTable, writeReport } from './report.js';
import type { Job } from './jobs.js';

/** The demo's command-line options. */
export interface DemoArgs {
  /** The reduced run. */
  readonly quick: boolean;
  /** The output folder. */
  readonly out: string;
  /** Worker threads for the jobs. */
  readonly threads: number;
  /** The tensor backend. */
  readonly backend: 'cpu' | 'wasm';
}

const USAGE = 'usage: npm run demo -- [--quick] [--out DIR] [--threads N] [--backend cpu|wasm]';

/** Parses the command line; throws with the usage on anything unknown. */
export function parseArgs(argv: readonly string[]): DemoArgs {
  let quick = false;
  let out = 'demo-output';
  let threads = Math.max(1, Math.min(2, availableParallelism()));
  let backend: DemoArgs['backend'] = 'wasm';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`demo: ${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') quick = true;
    else if (a === '--out') out = next();
    else if (a === '--threads') {
      threads = Number(next());
      if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`demo: --threads must be a positive integer, got ${argv[i]}\n${USAGE}`);
    } else if (a === '--backend') {
      const b = next();
      if (b !== 'cpu' && b !== 'wasm') throw new RangeError(`demo: --backend must be cpu or wasm, got ${b}\n${USAGE}`);
      backend = b;
    } else throw new RangeError(`demo: unknown argument '${a}'\n${USAGE}`);
  }
  return { quick, out, threads, backend };
}

function progressPrinter(started: number): (job: Job, done: number, total: number, loss?: number) => void {
  const shown = new Map<string, number>();
  return (job, done, total, loss) => {
    const tenth = Math.floor((10 * done) / total);
    if ((shown.get(job.label) ?? -1) >= tenth) return;
    shown.set(job.label, tenth);
    if (job.kind !== 'train' && done < total) return;
    const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
    console.log(`  [${t} s] ${job.label}: ${done}/${total}${loss === undefined ? '' : `, loss ${loss.toFixed(4)}`}`);
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const budget: DemoBudget = args.quick ? QUICK_BUDGET : FULL_BUDGET;
  const started = performance.now();
  const header = [
    `# being-ts demo: a tiny Being-H0.5 policy in a 2-D cross-embodiment world${args.quick ? ' (--quick)' : ''}`,
    '',
    `Pre-training on ${PRETRAIN.join(', ')} (tasks: ${DEMO_TASKS.join(', ')}); held-out arm: ${HELD_OUT}. ` +
      `${budget.demosPerEmbodiment} demonstrations per embodiment, ${budget.pretrainSteps} steps of batch ${budget.batchSize}; ` +
      `${budget.fewShotDemos} demonstrations and ${budget.adaptSteps} steps to adapt; ${budget.evalEpisodes} episodes per evaluation. ` +
      `Backend ${args.backend}, ${args.threads} worker thread(s), Node ${process.version}.`,
  ].join('\n');
  console.log(header);
  console.log();
  setBackend(args.backend);
  const pool = new JobPool(args.threads, args.backend, progressPrinter(started));
  let results;
  try {
    results = await runExperiments(pool, budget, (line) => console.log(`${line}`));
  } finally {
    await pool.close();
  }
  console.log(`deploying the adapted ${HELD_OUT} policy through the real-time runtime (${budget.deployEpisodes} episode(s))`);
  const deployRows = await deploy(results.adapted, budget.deployEpisodes);
  const rows = [...results.rows, ...deployRows];
  console.log();
  console.log(resultsTable(rows));
  const out = resolve(args.out);
  const files = await writeReport(out, results, { header, deployRows });
  console.log();
  console.log(`wrote ${files.length} files to ${out}: ${files.map((f) => f.slice(out.length + 1)).join(', ')}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
