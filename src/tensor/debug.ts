/**
 * `BEING_DEBUG=1` logs every kernel with its operand shapes and wall time (read from `process.env` in
 * Node, `Deno.env` in Deno, or `globalThis.BEING_DEBUG` in browsers).
 * @module
 */
import type { Operand } from './backend.js';
import { fmt } from './shape.js';

function readFlag(): boolean {
  const g = globalThis as {
    BEING_DEBUG?: unknown;
    process?: { env?: Record<string, string | undefined> };
    Deno?: { env?: { get(k: string): string | undefined } };
  };
  let v: unknown = g.BEING_DEBUG;
  // Deno throws without --allow-env, even through its `process` shim: no permission means "off".
  try {
    if (v === undefined) v = g.process?.env?.['BEING_DEBUG'];
    if (v === undefined) v = g.Deno?.env?.get('BEING_DEBUG');
  } catch {
    v = undefined;
  }
  return v !== undefined && v !== '' && v !== '0' && v !== false;
}

let enabled = readFlag();

/** Turns kernel logging on or off at run time (the initial state comes from `BEING_DEBUG`). */
export function setDebug(on: boolean): void {
  enabled = on;
}

/** Runs one kernel; when debugging, logs `name`, the operands' shapes and dtypes, and the time taken. */
export function runKernel<T>(backend: string, name: string, operands: readonly Operand[], fn: () => T): T {
  if (!enabled) return fn();
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  const args = operands.map((o) => `${o.buffer.dtype}${fmt(o.shape)}`).join(' ');
  console.log(`[being] ${backend}.${name} ${args} ${ms.toFixed(3)} ms`);
  return r;
}
