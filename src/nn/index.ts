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
