/**
 * The demo's pipeline and the paper's claims in miniature, as jobs on a worker pool:
 *
 * 1. pre-train a `tiny` generalist on the two arms and the human hand, specialists on each alone (same
 *    steps each), a generalist on the arms alone, and a generalist without masked motion tokens;
 * 2. adapt to the held-out arm from a few demonstrations (ESA: slot adapters and action expert), from the
 *    generalist, from the arms-only generalist, and from scratch;
 * 3. evaluate in closed loop, and score MWDS on held-out demonstrations:
 *    (a) generalist vs specialists per embodiment (§7.1);
 *    (b) few-shot adaptation with vs without the human data in pre-training (Table 6's point);
 *    (c) UAC prefix locking + MPG refinement vs neither, under inference latency and observation noise:
 *        success and the step-to-step jump of the commanded end-effector position in metres (Fig. 13's point);
 *    (d) with vs without masked motion tokens, by MWDS (Table 8).
 * @module
 */
import type { SimEmbodimentName } from '../../src/robot/index.js';
import type { CurvePoint, EvaluateJob, EvaluateResult, MwdsResult, TrainJob, TrainResult } from './jobs.js';
import type { JobPool } from './pool.js';
import {
  ARMS_ONLY,
  EXECUTE_STEPS,
  HELD_OUT,
  LATENCY_STEPS,
  OBSERVATION_NOISE,
  PRETRAIN,
  evalSeeds,
  heldOutSeeds,
  trainSeeds,
  type DemoBudget,
} from './plan.js';

/** One row of the results table. */
export interface ResultRow {
  /** `(a)` … `(d)`, or `deploy`. */
  readonly experiment: string;
  /** The model or setting. */
  readonly condition: string;
  /** The robot. */
  readonly embodiment: string;
  /** What was measured. */
  readonly metric: string;
  /** The value. */
  readonly value: number;
  /** Episodes or frames behind it. */
  readonly trials: number;
  /** The seeds (training seed; world seed range). */
  readonly seeds: string;
}

/** A loss curve of one training run. */
export interface NamedCurve {
  /** The run. */
  readonly name: string;
  /** Its points. */
  readonly curve: readonly CurvePoint[];
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/** An evaluation kept for pictures. */
export interface NamedRollout {
  /** The model and robot. */
  readonly name: string;
  /** The evaluation. */
  readonly result: EvaluateResult;
}

/** Everything the experiments produce. */
export interface ExperimentResults {
  /** The results table. */
  readonly rows: ResultRow[];
  /** Loss curves. */
  readonly curves: NamedCurve[];
  /** Evaluations with a trace. */
  readonly rollouts: NamedRollout[];
  /** The adapted generalist for the held-out arm (deployed next). */
  readonly adapted: Uint8Array;
  /** Training samples per embodiment (the generalist's data). */
  readonly samples: Readonly<Record<string, number>>;
}

const SEED = 1;
const PRETRAIN_LR = 1e-3;
const ADAPT_LR = 5e-4;

const range = (s: readonly number[]): string => (s.length === 0 ? '-' : `${s[0]}…${s[s.length - 1]}`);

/** Runs the pipeline on `pool`; `log` gets one line per finished stage. */
export async function runExperiments(pool: JobPool, budget: DemoBudget, log: (line: string) => void): Promise<ExperimentResults> {
  const rows: ResultRow[] = [];
  const curves: NamedCurve[] = [];
  const rollouts: NamedRollout[] = [];
  const data = (es: readonly SimEmbodimentName[], n = budget.demosPerEmbodiment) => es.map((e) => [e, trainSeeds(e, n)] as const);
  const pretrain = (label: string, es: readonly SimEmbodimentName[], overrides?: TrainJob['overrides']): TrainJob => ({
    kind: 'train', label, data: data(es), steps: budget.pretrainSteps, batchSize: budget.batchSize, stride: budget.sampleStride, seed: SEED, lr: PRETRAIN_LR, ...(overrides ? { overrides } : {}),
  });

  // 1. Pre-training: six runs, two at a time.
  log(`pre-training: generalist, ${PRETRAIN.length} specialists, arms-only, no masked motion tokens — ${budget.pretrainSteps} steps each, batch ${budget.batchSize}`);
  const [generalist, armsOnly, noMask, ...specialists] = await Promise.all([
    pool.run<TrainResult>(pretrain('generalist', PRETRAIN)),
    pool.run<TrainResult>(pretrain('arms-only generalist', ARMS_ONLY)),
    pool.run<TrainResult>(pretrain('generalist without masked motion', PRETRAIN, { maskedMotion: { enabled: false } })),
    ...PRETRAIN.map((e) => pool.run<TrainResult>(pretrain(`specialist ${e}`, [e]))),
  ]);
  curves.push({ name: 'generalist', curve: generalist!.curve, seconds: generalist!.seconds });
  curves.push({ name: 'arms-only generalist', curve: armsOnly!.curve, seconds: armsOnly!.seconds });
  curves.push({ name: 'no masked motion', curve: noMask!.curve, seconds: noMask!.seconds });
  PRETRAIN.forEach((e, i) => curves.push({ name: `specialist ${e}`, curve: specialists[i]!.curve, seconds: specialists[i]!.seconds }));

  // 2. Few-shot adaptation to the held-out arm.
  const few = [[HELD_OUT, trainSeeds(HELD_OUT, budget.fewShotDemos)]] as const;
  const adapt = (label: string, init?: Uint8Array): TrainJob => ({
    kind: 'train', label, data: few, steps: budget.adaptSteps, batchSize: budget.batchSize, stride: Math.max(1, Math.floor(budget.sampleStride / 2)), seed: SEED, lr: init ? ADAPT_LR : PRETRAIN_LR, ...(init ? { init } : {}),
  });
  log(`adapting to ${HELD_OUT} from ${budget.fewShotDemos} demonstrations, ${budget.adaptSteps} steps`);
  const [fromGeneralist, fromArms, fromScratch] = await Promise.all([
    pool.run<TrainResult>(adapt(`${HELD_OUT} from generalist`, generalist!.checkpoint)),
    pool.run<TrainResult>(adapt(`${HELD_OUT} from arms-only`, armsOnly!.checkpoint)),
    pool.run<TrainResult>(adapt(`${HELD_OUT} from scratch`)),
  ]);

  // 3. Evaluation.
  log(`evaluating: ${budget.evalEpisodes} closed-loop episodes per embodiment and condition`);
  const evaluate = (label: string, checkpoint: Uint8Array, e: SimEmbodimentName, opts: Partial<EvaluateJob> = {}): Promise<EvaluateResult> =>
    pool.run<EvaluateResult>({ kind: 'evaluate', label, checkpoint, embodiment: e, seeds: evalSeeds(e, budget.evalEpisodes), executeSteps: EXECUTE_STEPS, latencySteps: 0, observationNoise: 0, uacMpg: true, ...opts });
  const success = (experiment: string, condition: string, e: SimEmbodimentName, r: EvaluateResult): ResultRow => ({
    experiment, condition, embodiment: e, metric: 'success rate', value: r.successes / r.episodes, trials: r.episodes, seeds: `train ${SEED}; worlds ${range(evalSeeds(e, budget.evalEpisodes))}`,
  });
  const mwds = (label: string, checkpoint: Uint8Array, e: SimEmbodimentName): Promise<MwdsResult> =>
    pool.run<MwdsResult>({ kind: 'mwds', label, checkpoint, embodiment: e, seeds: heldOutSeeds(e, budget.heldOutDemos), stride: budget.mwdsStride });

  const aG = PRETRAIN.map((e) => evaluate(`(a) generalist on ${e}`, generalist!.checkpoint, e, { keepTrace: true }));
  const aS = PRETRAIN.map((e, i) => evaluate(`(a) specialist on ${e}`, specialists[i]!.checkpoint, e));
  const b = [fromGeneralist, fromArms, fromScratch].map((r, i) => evaluate(`(b) ${HELD_OUT} #${i}`, r!.checkpoint, HELD_OUT, { keepTrace: i === 0 }));
  const latent = { latencySteps: LATENCY_STEPS, observationNoise: OBSERVATION_NOISE };
  const cOn = PRETRAIN.map((e) => evaluate(`(c) UAC+MPG on ${e}`, generalist!.checkpoint, e, { ...latent, uacMpg: true }));
  const cOff = PRETRAIN.map((e) => evaluate(`(c) neither on ${e}`, generalist!.checkpoint, e, { ...latent, uacMpg: false }));
  const dOn = PRETRAIN.map((e) => mwds(`(d) with masked motion on ${e}`, generalist!.checkpoint, e));
  const dOff = PRETRAIN.map((e) => mwds(`(d) without masked motion on ${e}`, noMask!.checkpoint, e));
  const [aGr, aSr, br, cOnR, cOffR, dOnR, dOffR] = await Promise.all([aG, aS, b, cOn, cOff, dOn, dOff].map((list) => Promise.all(list)));

  PRETRAIN.forEach((e, i) => {
    rows.push(success('(a) generalist vs specialists', 'generalist', e, aGr![i] as EvaluateResult));
    rows.push(success('(a) generalist vs specialists', 'specialist', e, aSr![i] as EvaluateResult));
    rollouts.push({ name: `generalist-${e}`, result: aGr![i] as EvaluateResult });
  });
  const names = ['adapted from generalist (arms + hand)', 'adapted from arms-only', 'trained from scratch'];
  names.forEach((n, i) => rows.push(success('(b) few-shot held-out arm', n, HELD_OUT, br![i] as EvaluateResult)));
  rollouts.push({ name: `adapted-${HELD_OUT}`, result: br![0] as EvaluateResult });
  PRETRAIN.forEach((e, i) => {
    for (const [cond, r] of [['UAC + MPG', cOnR![i]], ['neither', cOffR![i]]] as const) {
      const ev = r as EvaluateResult;
      const seeds = `train ${SEED}; worlds ${range(evalSeeds(e, budget.evalEpisodes))}`;
      rows.push(success('(c) latency + noise', cond, e, ev));
      rows.push({ experiment: '(c) latency + noise', condition: cond, embodiment: e, metric: 'mean EEF jump (m)', value: ev.meanPositionJump, trials: ev.episodes, seeds });
      rows.push({ experiment: '(c) latency + noise', condition: cond, embodiment: e, metric: 'max EEF jump (m)', value: ev.maxPositionJump, trials: ev.episodes, seeds });
    }
  });
  PRETRAIN.forEach((e, i) => {
    for (const [cond, r] of [['with masked motion', dOnR![i]], ['without masked motion', dOffR![i]]] as const) {
      const m = r as MwdsResult;
      rows.push({ experiment: '(d) masked motion tokens', condition: cond, embodiment: e, metric: 'MWDS', value: m.mwds, trials: m.frames, seeds: `train ${SEED}; held-out demos ${range(heldOutSeeds(e, budget.heldOutDemos))}` });
    }
  });
  return { rows, curves, rollouts, adapted: fromGeneralist!.checkpoint, samples: generalist!.samples };
}
