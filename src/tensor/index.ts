/**
 * The tensor layer: `Tensor`, its creation functions and ops, autograd, seeded random generators,
 * backends, and ndarray interop.
 * @module
 */
export { Tensor, type BackwardOptions, type NestedValues } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export { type Shape, checkShape, fmt as formatShape, broadcastShapes, normAxis } from './shape.js';
export type { Backend, DeviceBuffer, Operand, UnaryOp, BinaryOp, ReduceOp, ArgReduceOp, SortedBuffers } from './backend.js';
export type { FusedKernels, NormKind, NormGrads, AdamWStep, AdamWMoments } from './backend.js';
export { CpuBackend, CpuBuffer } from './cpu/cpu-backend.js';
export { WasmBackend, type WasmBackendOptions, type WasmKernelSet } from './wasm/wasm-backend.js';
export { MATMUL_TILE, type MatmulTile } from './wasm/matmul.js';
export { WasmBuffer, WasmHeap, type WasmHeapOptions, type WasmHeapStats } from './wasm/memory.js';
export { wasmFeatures, type WasmFeatures } from './wasm/features.js';
export {
  WasmThreads,
  setWasmThreads,
  wasmThreadDefaults,
  webWorkerSpawner,
  planThreads,
  PARALLEL_MIN_FLOPS,
  PARALLEL_MIN_ELEMENTS,
  THREAD_SPIN_MS,
  type WasmThreadOptions,
  type WasmThreadSpawner,
  type WasmWorkerHandle,
  type WasmWorkerEvents,
  type WasmThreadStatus,
  type ThreadPlan,
  type ThreadModule,
  type ThreadCall,
  type ThreadTask,
} from './wasm/threads.js';
export { runWasmThread } from './wasm/worker-loop.js';
export { setBackend, getBackend, registerBackend } from './backend-registry.js';
export { scope, keep } from './memory.js';
export { WebGPUBackend, type WebGPUBackendOptions, type WebGPUStats } from './webgpu/webgpu-backend.js';
export { WebGPUBuffer, type BufferPoolStats } from './webgpu/buffer-pool.js';
export { GpuContext, type GpuCacheStats, type Kernel, type KernelHost } from './webgpu/context.js';
export { initWebGPU, createWebGPUBackend, requestWebGPUDevice, type WebGPUOptions, type WebGPUAdapterOptions } from './webgpu/device.js';
export { WebGLBackend, type WebGLBackendOptions, type WebGLStats } from './webgl/webgl-backend.js';
export { WebGLBuffer } from './webgl/buffer.js';
export { initWebGL, createWebGLBackend, type WebGLOptions } from './webgl/init.js';
export { GLRunner, WEBGL_MAX_ELEMENTS, type GLKernelHost, type GLRunnerStats } from './webgl/runner.js';
export { GLParams } from './webgl/source.js';
export type { GpuJs, GpuJsConstructor, GpuJsKernel, GpuJsKernelSettings, GpuJsNativeFunction, GpuJsTexture, GpuJsArgument } from './webgl/gpujs.js';
export { setDebug } from './debug.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export { noGrad, enableGrad, isGradEnabled, record, backprop, GradNode, type BackwardFn, type BackpropOptions } from './autograd.js';
export { grad, valueAndGrad, vjp, stopGradient, type GradOptions, type TensorFn } from './functional.js';
export { fromNdarray, toNdarray } from './ndarray-interop.js';
export { hostValues } from './host-values.js';
export type { TensorLike } from './ops/core.js';
export {
  tensor,
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  zerosLike,
  onesLike,
  type NestedArray,
  type CreateOptions,
  type TensorOptions,
  type RandomOptions,
} from './ops/creation.js';
export {
  reshape,
  view,
  transpose,
  permute,
  expand,
  squeeze,
  unsqueeze,
  flatten,
  slice,
  narrow,
  contiguous,
  clone,
  type SliceRange,
} from './ops/views.js';
export {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  neg,
  exp,
  log,
  log1p,
  sqrt,
  rsqrt,
  abs,
  sign,
  sin,
  cos,
  tanh,
  sigmoid,
  relu,
  erf,
  softplus,
  gelu,
  silu,
  where,
  clamp,
  cast,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logicalAnd,
  logicalOr,
  logicalNot,
} from './ops/arithmetic.js';
export {
  sum,
  mean,
  prod,
  max,
  min,
  argmax,
  argmin,
  variance,
  std,
  logsumexp,
  norm,
  softmax,
  logSoftmax,
  cumsum,
  type Axes,
  type VarOptions,
} from './ops/reduce.js';
export { matmul } from './ops/matmul.js';
export { layerNorm, rmsNorm } from './ops/norm.js';
export { adamwUpdate, type AdamWUpdateResult } from './ops/optim.js';
export {
  gather,
  scatterAdd,
  indexSelect,
  maskedFill,
  concat,
  stack,
  split,
  chunk,
  tril,
  triu,
  oneHot,
  sort,
  argsort,
  topk,
  type SortResult,
} from './ops/indexing.js';
