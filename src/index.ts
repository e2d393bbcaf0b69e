/**
 * being-ts: pure-TypeScript tensors with autograd, and on them the Being-H0.5 vision-language-action
 * model. Each layer is also importable on its own: `being-ts/tensor`, `being-ts/nn`, `being-ts/model`,
 * `being-ts/robot`.
 * @module being-ts
 */
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as model from './model/index.js';
export * as robot from './robot/index.js';
