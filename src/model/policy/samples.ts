/**
 * What the policy learns from and acts on (§5.2.2): training samples of each task kind — motion
 * generation, motion continuation, the hybrid FM + motion-token sample, motion description, VQA — and the
 * observation a robot gives at inference. States and actions are in the unified space (Eq. 1: s = Φ_e(s^(e)),
 * a = Φ_e(a^(e))); `Embodiment.toUnified` maps raw values there.
 * @module
 */
import type { Tensor } from '../../tensor/index.js';
import type { Embodiment } from '../action-space.js';

/** A unified vector `[D]`: a tensor or numbers. */
export type UnifiedVector = Tensor | ArrayLike<number>;
/** A chunk of unified vectors `[L, D]`: a tensor, rows, or `L·D` numbers row after row. */
export type UnifiedChunk = Tensor | readonly ArrayLike<number>[] | ArrayLike<number>;

/** What a robot sees: the context of an action prediction. */
export interface Observation {
  /** The robot whose state this is (and whose actions to predict). */
  readonly embodiment: Embodiment;
  /** Camera images, each `[C, S, S]` (or `[1, C, S, S]`) in [0, 1]. */
  readonly images?: readonly Tensor[];
  /** The instruction. */
  readonly instruction?: string;
  /** The unified state s = Φ_e(s^(e)) (Eq. 1), `[D]`. */
  readonly state: UnifiedVector;
  /** A past action chunk `[L, D]` (motion continuation), placed before the state. */
  readonly history?: UnifiedChunk;
}

/** A sample whose answer is an action chunk (flow matching, Eq. 7; with motion tokens, Eq. 8-9). */
export interface ActionTaskSample extends Observation {
  /** Motion generation, motion continuation (needs `history`), or the hybrid FM + MASK sequence. */
  readonly task: 'motion-generation' | 'motion-continuation' | 'hybrid';
  /** The target chunk `[T, D]` in the unified space, T = `flow.chunkLength`. */
  readonly actions: UnifiedChunk;
  /** Hybrid: the chunk's motion tokens `[T_z]`; else the batch's motion tokenizer makes them. */
  readonly motionTokens?: Tensor | ArrayLike<number>;
  /** The embodiment's timing, for its UAC delay range d_max^(e) (Eq. 17); else `uac.maxDelay`. */
  readonly timing?: ControlTiming;
}

/** A sample whose answer is text (Eq. 5): VQA, or the description of a motion trace. */
export interface TextTaskSample {
  /** VQA, or motion description. */
  readonly task: 'vqa' | 'motion-description';
  /** Camera images, each `[C, S, S]` (or `[1, C, S, S]`). */
  readonly images?: readonly Tensor[];
  /** The question or prompt. */
  readonly prompt?: string;
  /** The answer text (Ω_text). */
  readonly answer: string;
  /** Motion description: the embodiment of the trace. */
  readonly embodiment?: Embodiment;
  /** Motion description: the state `[D]`. */
  readonly state?: UnifiedVector;
  /** Motion description: the action trace `[L, D]`, given clean in the context. */
  readonly actions?: UnifiedChunk;
}

/** A training sample of any task kind. */
export type PolicySample = ActionTaskSample | TextTaskSample;

/** The task kinds. */
export type PolicyTask = PolicySample['task'];

/** An embodiment's control period and latency budget (UAC's d_max^(e) = ⌈L/Δt⌉, §5.3.3). */
export interface ControlTiming {
  /** Δt^(e), seconds per control step. */
  readonly controlPeriod: number;
  /** L^(e), the expected inference latency in seconds. */
  readonly latencyBudget: number;
}
