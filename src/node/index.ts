/**
 * Node-only helpers (`being-ts/node`): reading and writing checkpoint files with `node:fs`, and the
 * openpi-protocol policy server (`node:http` and `ws`) with a client that sends API keys as headers, and
 * worker threads for the wasm backend (`enableWasmThreads`, on `node:worker_threads`). Everything
 * else in being-ts runs unchanged in browsers and Deno; this entry point is the one that needs Node (or a
 * runtime with Node's `fs` module), which is why it is separate from `being-ts/nn`.
 * @module
 */
export { writeFileAtomic, type AtomicWriteData } from './atomic-write.js';
export { saveSafetensors, loadSafetensors } from './checkpoint.js';
export { savePolicyCheckpoint, loadPolicyCheckpoint } from './policy-checkpoint.js';
export { PolicyServer, type PolicyServerOptions, type PolicyServerCloseOptions } from './policy-server.js';
export { connectPolicyClient, nodeWebSocket, type NodePolicyClientOptions } from './policy-client.js';
export { nodeGPU, initNodeWebGPU, type NodeWebGPUOptions } from './webgpu.js';
export { enableWasmThreads, nodeWasmThreadSpawner } from './wasm-threads.js';
