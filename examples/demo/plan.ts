/**
 * The demo's plan: how much data, training and evaluation each run gets (full and `--quick`), and the
 * seeds, kept disjoint between training demonstrations, held-out demonstrations and evaluation episodes.
 * @module
 */
import type { SimEmbodimentName, SimTaskKind } from '../../src/robot/index.js';

/** How much of everything a run does. */
export interface DemoBudget {
  /** Expert demonstrations per pre-training embodiment (task kinds alternate). */
  readonly demosPerEmbodiment: number;
  /** Held-out demonstrations per embodiment, for MWDS (Table 8). */
  readonly heldOutDemos: number;
  /** Demonstrations of the held-out arm for few-shot adaptation. */
  readonly fewShotDemos: number;
  /** Optimiser steps of each pre-training run (generalist and specialists alike). */
  readonly pretrainSteps: number;
  /** Optimiser steps of each few-shot adaptation. */
  readonly adaptSteps: number;
  /** Samples per optimiser step. */
  readonly batchSize: number;
  /** Closed-loop episodes per embodiment and condition. */
  readonly evalEpisodes: number;
  /** Episodes driven through the real-time runtime at the end. */
  readonly deployEpisodes: number;
  /** Every `sampleStride`-th frame of a demonstration starts a training sample. */
  readonly sampleStride: number;
  /** Every `mwdsStride`-th frame of a held-out demonstration is scored for MWDS. */
  readonly mwdsStride: number;
}

/** The full run: about ten minutes on two cores. */
export const FULL_BUDGET: DemoBudget = {
  demosPerEmbodiment: 60,
  heldOutDemos: 12,
  fewShotDemos: 10,
  pretrainSteps: 700,
  adaptSteps: 200,
  batchSize: 16,
  evalEpisodes: 24,
  deployEpisodes: 2,
  sampleStride: 2,
  mwdsStride: 4,
};

/** `--quick`: the same pipeline, small enough for CI (checks the table's shape, not its numbers). */
export const QUICK_BUDGET: DemoBudget = {
  demosPerEmbodiment: 4,
  heldOutDemos: 2,
  fewShotDemos: 2,
  pretrainSteps: 6,
  adaptSteps: 3,
  batchSize: 4,
  evalEpisodes: 2,
  deployEpisodes: 1,
  sampleStride: 8,
  mwdsStride: 16,
};

/** The task kinds the demo trains and evaluates on. */
export const DEMO_TASKS: readonly SimTaskKind[] = ['reach', 'push'];

/** The pre-training embodiments: two arms and the human hand. */
export const PRETRAIN: readonly SimEmbodimentName[] = ['arm2', 'arm3', 'hand'];
/** The arms alone (experiment b's control: no human data). */
export const ARMS_ONLY: readonly SimEmbodimentName[] = ['arm2', 'arm3'];
/** The held-out arm. */
export const HELD_OUT: SimEmbodimentName = 'arm4';

/** Control steps executed from each chunk before the next inference (closed-loop evaluation). */
export const EXECUTE_STEPS = 8;
/** Inference latency in control steps for experiment (c) and the deployment (0.3 s at 10 Hz). */
export const LATENCY_STEPS = 3;
/** Observation noise (std of the unified state, metres/radians) for experiment (c). */
export const OBSERVATION_NOISE = 0.01;

const EMBODIMENT_INDEX: Readonly<Record<SimEmbodimentName, number>> = { arm2: 0, arm3: 1, hand: 2, arm4: 3 };

/** The seeds of one purpose: `count` consecutive integers in a range no other purpose uses. */
function seeds(base: number, embodiment: SimEmbodimentName, count: number): number[] {
  return Array.from({ length: count }, (_, i) => base + EMBODIMENT_INDEX[embodiment] * 10_000 + i);
}

/** World seeds of the training demonstrations. */
export const trainSeeds = (e: SimEmbodimentName, n: number): number[] => seeds(100_000, e, n);
/** World seeds of the held-out demonstrations (MWDS). */
export const heldOutSeeds = (e: SimEmbodimentName, n: number): number[] => seeds(200_000, e, n);
/** World seeds of the evaluation episodes. */
export const evalSeeds = (e: SimEmbodimentName, n: number): number[] => seeds(300_000, e, n);
/** World seeds of the deployment episodes. */
export const deploySeeds = (e: SimEmbodimentName, n: number): number[] => seeds(400_000, e, n);

/** The task kind of the i-th episode or demonstration of a list: the kinds alternate. */
export function taskOf(i: number): SimTaskKind {
  return DEMO_TASKS[i % DEMO_TASKS.length]!;
}
