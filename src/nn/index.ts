/**
 * Neural-network building blocks on the tensor layer, as people who know `torch.nn` expect them:
 * `Module`, layers, attention, mixture of experts, losses, optimisers, initialisers and safetensors
 * checkpoints.
 * @module
 */
export { Module, ModuleList, type ParamFilter, type StateDict, type LoadOptions, type LoadResult } from './module.js';
export * as init from './init.js';
export { Linear, Embedding, type LinearOptions, type EmbeddingOptions } from './layers/linear.js';
export { LayerNorm, RMSNorm, type LayerNormOptions, type RMSNormOptions } from './layers/norm.js';
export { Dropout } from './layers/dropout.js';
export { MLP, SwiGLU, type MLPOptions } from './layers/mlp.js';
export { RotaryEmbedding, rotateHalf, applyRotary, type RotaryOptions, type RotaryTables } from './layers/rope.js';
export {
  MultiHeadAttention,
  scaledDotProductAttention,
  causalMask,
  type MultiHeadAttentionOptions,
  type AttentionCallOptions,
  type AttentionMaskOptions,
  type ScaledDotProductOptions,
  type AttentionResult,
} from './layers/attention.js';
export { KVCache, LayerKVCache, type CachedKV } from './layers/kv-cache.js';
export { TransformerBlock, type TransformerBlockOptions } from './layers/transformer-block.js';
export {
  MixtureOfExperts,
  topKGating,
  loadBalancingLoss,
  routerZLoss,
  type Expert,
  type GatingMode,
  type Gating,
  type MoEDispatch,
  type MixtureOfExpertsOptions,
  type MoEForwardOptions,
  type MoEOutput,
  type MoERouting,
} from './layers/moe.js';
export {
  serialize,
  deserialize,
  type SafetensorsDType,
  type SafetensorsWriteDType,
  type SerializeOptions,
  type Deserialized,
} from './safetensors.js';
export { mseLoss, crossEntropy, type Reduction, type MSELossOptions, type CrossEntropyOptions } from './losses.js';
export {
  Optimizer,
  type HyperValue,
  type ParamGroupSpec,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
  type OptimizerStateDict,
  type OptimizerMeta,
  type SavedParamGroup,
} from './optim/optimizer.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export { clipGradNorm } from './optim/clip.js';
export { LRScheduler, constantSchedule, warmupCosine, type Schedule, type WarmupCosineOptions, type HasParamGroups, type LRSchedulerState } from './optim/schedule.js';
