/**
 * Policy checkpoints as files in Node: `savePolicyCheckpoint` writes a policy's or a trainer's checkpoint
 * (`being-ts/model`'s `policyCheckpoint`: weights, and for a trainer the optimiser, schedule, step and
 * seed) atomically with {@link saveSafetensors}; `loadPolicyCheckpoint` reads one back into a policy or a
 * trainer (an exact resume), or builds a new policy from the saved config.
 * @module
 */
import { policyCheckpoint, policyFromCheckpoint, restorePolicyCheckpoint } from '../model/policy/checkpoint.js';
import type { BeingPolicy } from '../model/policy/policy.js';
import { PolicyTrainer } from '../model/policy/trainer.js';
import { loadSafetensors, saveSafetensors } from './checkpoint.js';

/**
 * Writes the checkpoint of a policy or a trainer to `path` (atomically: a crash leaves the old file or the
 * new one, never a torn one).
 *
 * @example
 * trainer.fit(10_000, data, { onStep: (r) => { if (r.step % 500 === 0) void savePolicyCheckpoint('run.safetensors', trainer); } });
 */
export async function savePolicyCheckpoint(path: string, source: PolicyTrainer | BeingPolicy): Promise<void> {
  const { tensors, metadata } = policyCheckpoint(source);
  await saveSafetensors(path, tensors, { metadata });
}

/**
 * Reads a checkpoint file: into `target` when given (a trainer resumes exactly; a policy takes the
 * weights), else into a new policy built from the saved config. Returns the policy.
 *
 * @example
 * const policy = await loadPolicyCheckpoint('run.safetensors');           // for inference
 * await loadPolicyCheckpoint('run.safetensors', trainer);                 // to resume training
 */
export async function loadPolicyCheckpoint(path: string, target?: PolicyTrainer | BeingPolicy): Promise<BeingPolicy> {
  const file = await loadSafetensors(path);
  if (target === undefined) return policyFromCheckpoint(file);
  restorePolicyCheckpoint(target, file);
  return target instanceof PolicyTrainer ? target.policy : target;
}
