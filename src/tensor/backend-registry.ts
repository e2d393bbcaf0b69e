/**
 * Which backend new tensors are created on. Each tensor remembers its own backend; ops refuse to mix two.
 * @module
 */
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/cpu-backend.js';
import { WasmBackend } from './wasm/wasm-backend.js';

const factories = new Map<string, () => Backend>([
  ['cpu', () => new CpuBackend()],
  ['wasm', () => new WasmBackend()],
]);
const instances = new Map<string, Backend>();
let current = 'cpu';

/** Makes a backend available to {@link setBackend} under `name` (it is created on first use). */
export function registerBackend(name: string, factory: () => Backend): void {
  factories.set(name, factory);
  instances.delete(name);
}

/** The backend called `name`, created on first use. */
export function findBackend(name: string): Backend {
  let b = instances.get(name);
  if (b === undefined) {
    const f = factories.get(name);
    if (f === undefined) {
      throw new Error(`setBackend: unknown backend '${name}'; registered: ${[...factories.keys()].join(', ')}`);
    }
    b = f();
    instances.set(name, b);
  }
  return b;
}

/** Selects the backend that new tensors are created on: `'cpu'` (the default) or `'wasm'`, or a registered one. */
export function setBackend(name: string): void {
  findBackend(name);
  current = name;
}

/** The backend that new tensors are created on. */
export function getBackend(): Backend {
  return findBackend(current);
}
