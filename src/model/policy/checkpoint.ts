/**
 * Policy checkpoints in safetensors, runtime-neutral (bytes in, bytes out; for files in Node see
 * `savePolicyCheckpoint` / `loadPolicyCheckpoint` in `being-ts/node`).
 *
 * Layout: the policy's parameters under `model.<name>` (so a PyTorch port can read them by name), and for
 * a trainer AdamW's moments under `optim.state.<i>.<name>`; `__metadata__` holds the format tag, the
 * config (JSON), and for a trainer the optimiser's groups and step counts, the schedule's position, the
 * step and the run's seed — everything an exact resume needs (see `trainer.ts`).
 * @module
 */
import type { Tensor } from '../../tensor/index.js';
import { deserialize, serialize, type Deserialized, type OptimizerMeta, type StateDict } from '../../nn/index.js';
import { validateConfig, type PolicyConfig } from './config.js';
import { BeingPolicy, type BeingPolicyOptions } from './policy.js';
import { PolicyTrainer, type PolicyTrainerState } from './trainer.js';

/** The format tag in a checkpoint's metadata (`being.format`). */
export const POLICY_CHECKPOINT_FORMAT = 'being-policy/1';

/** Named tensors and string metadata: what a safetensors file holds. */
export interface PolicyCheckpoint {
  /** `model.*` and (for a trainer) `optim.*` tensors. */
  tensors: Record<string, Tensor>;
  /** The format, config and (for a trainer) optimiser, schedule, step and seed, as strings. */
  metadata: Record<string, string>;
}

/** A checkpoint read back: the config, the weights and, when saved from a trainer, its state. */
export interface ReadPolicyCheckpoint {
  /** The policy's configuration. */
  config: PolicyConfig;
  /** The policy's parameters by name. */
  model: StateDict;
  /** The trainer's state without the model, or null for a policy-only checkpoint. */
  trainer: Omit<PolicyTrainerState, 'model'> | null;
}

/** The tensors and metadata of a checkpoint of `source` (live tensors: serialise them at once). */
export function policyCheckpoint(source: PolicyTrainer | BeingPolicy): PolicyCheckpoint {
  const policy = source instanceof PolicyTrainer ? source.policy : source;
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(policy.stateDict())) tensors[`model.${k}`] = t;
  const metadata: Record<string, string> = { 'being.format': POLICY_CHECKPOINT_FORMAT, 'being.config': JSON.stringify(policy.config) };
  if (source instanceof PolicyTrainer) {
    const s = source.stateDict();
    for (const [k, t] of Object.entries(s.optimizer.tensors)) tensors[`optim.${k}`] = t;
    Object.assign(metadata, {
      'being.optimizer': JSON.stringify(s.optimizer.meta),
      'being.scheduler': JSON.stringify(s.scheduler),
      'being.step': String(s.step),
      'being.seed': s.seed,
    });
  }
  return { tensors, metadata };
}

/**
 * The checkpoint of a policy or a trainer as safetensors bytes.
 *
 * @example
 * const bytes = serializePolicyCheckpoint(trainer);   // save anywhere (IndexedDB, a file, the network)
 * restorePolicyCheckpoint(freshTrainer, bytes);        // resume exactly
 */
export function serializePolicyCheckpoint(source: PolicyTrainer | BeingPolicy): Uint8Array {
  const { tensors, metadata } = policyCheckpoint(source);
  return serialize(tensors, { metadata });
}

function parseJSON<T>(metadata: Record<string, string>, key: string): T {
  const text = metadata[key];
  if (text === undefined) throw new Error(`readPolicyCheckpoint: the metadata lacks '${key}'`);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`readPolicyCheckpoint: '${key}' is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Reads a checkpoint (bytes, a `deserialize` result, or a {@link PolicyCheckpoint}); throws on a foreign or incomplete file. */
export function readPolicyCheckpoint(checkpoint: Uint8Array | Deserialized | PolicyCheckpoint): ReadPolicyCheckpoint {
  const { tensors, metadata } = checkpoint instanceof Uint8Array ? deserialize(checkpoint) : checkpoint;
  if (metadata['being.format'] !== POLICY_CHECKPOINT_FORMAT) {
    throw new Error(`readPolicyCheckpoint: not a ${POLICY_CHECKPOINT_FORMAT} checkpoint (being.format = ${JSON.stringify(metadata['being.format'])})`);
  }
  const config = validateConfig(parseJSON<PolicyConfig>(metadata, 'being.config'));
  const model: StateDict = {};
  const optim: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith('model.')) model[k.slice(6)] = t;
    else if (k.startsWith('optim.')) optim[k.slice(6)] = t;
    else throw new Error(`readPolicyCheckpoint: unexpected tensor '${k}' (expected model.* or optim.*)`);
  }
  if (metadata['being.step'] === undefined) return { config, model, trainer: null };
  const step = Number(metadata['being.step']);
  if (!Number.isInteger(step) || step < 0) throw new Error(`readPolicyCheckpoint: invalid being.step ${JSON.stringify(metadata['being.step'])}`);
  return {
    config,
    model,
    trainer: {
      optimizer: { tensors: optim, meta: parseJSON<OptimizerMeta>(metadata, 'being.optimizer') },
      scheduler: parseJSON(metadata, 'being.scheduler'),
      step,
      seed: metadata['being.seed'] ?? '0',
    },
  };
}

/**
 * Loads a checkpoint into a policy (weights only) or a trainer (weights, optimiser, schedule, step and
 * seed: an exact resume). The target's config must equal the saved one.
 */
export function restorePolicyCheckpoint(target: PolicyTrainer | BeingPolicy, checkpoint: Uint8Array | Deserialized | PolicyCheckpoint): void {
  const read = readPolicyCheckpoint(checkpoint);
  const policy = target instanceof PolicyTrainer ? target.policy : target;
  const [want, got] = [JSON.stringify(policy.config), JSON.stringify(read.config)];
  if (want !== got) throw new Error(`restorePolicyCheckpoint: the checkpoint's config differs from the policy's:\n  saved  ${got}\n  policy ${want}`);
  if (target instanceof PolicyTrainer) {
    if (read.trainer === null) throw new Error('restorePolicyCheckpoint: the checkpoint holds no trainer state (it was saved from a policy)');
    target.loadStateDict({ model: read.model, ...read.trainer });
  } else {
    policy.loadStateDict(read.model);
  }
}

/** A policy built from a checkpoint's config, with its weights. */
export function policyFromCheckpoint(checkpoint: Uint8Array | Deserialized | PolicyCheckpoint, opts: Omit<BeingPolicyOptions, 'seed'> = {}): BeingPolicy {
  const read = readPolicyCheckpoint(checkpoint);
  const policy = new BeingPolicy(read.config, opts);
  policy.loadStateDict(read.model);
  return policy;
}
