/**
 * Node-only helpers (`being-ts/node`): reading and writing checkpoint files with `node:fs`. Everything
 * else in being-ts runs unchanged in browsers and Deno; this entry point is the one that needs Node (or a
 * runtime with Node's `fs` module), which is why it is separate from `being-ts/nn`.
 * @module
 */
export { saveSafetensors, loadSafetensors } from './checkpoint.js';
