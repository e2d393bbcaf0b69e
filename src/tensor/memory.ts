/**
 * Explicit memory management for backends whose buffers the garbage collector cannot see (GPU memory;
 * see `Backend.explicitMemory`): a count of the tensors viewing each buffer, `Tensor.dispose()` (also
 * `using` where the runtime has `Symbol.dispose`), {@link scope} (tfjs's `tidy`), {@link keep}, and a
 * `FinalizationRegistry` that releases what was never disposed once it is collected.
 *
 * On other backends (cpu) none of this tracks anything: dispose marks the tensor but its memory stays
 * with the garbage collector, so existing code behaves exactly as before.
 * @module
 */
import type { Backend, DeviceBuffer } from './backend.js';
import type { Tensor } from './tensor.js';

/** How many live tensors view each buffer of an explicit-memory backend. */
const views = new WeakMap<DeviceBuffer, number>();

interface Held {
  readonly backend: Backend;
  readonly buffer: DeviceBuffer;
}

// The safety net: a tensor collected without dispose releases its view (the held value must not refer
// to the tensor, or it would never be collected).
const registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Held>((h) => release(h.backend, h.buffer)) : null;

/** The tensors created inside each open {@link scope}, innermost last. */
const scopes: Tensor[][] = [];
/** Tensors that {@link keep} exempts from scopes. */
const kept = new WeakSet<Tensor>();

function release(backend: Backend, buffer: DeviceBuffer): void {
  const n = (views.get(buffer) ?? 1) - 1;
  if (n > 0) {
    views.set(buffer, n);
    return;
  }
  views.delete(buffer);
  backend.free(buffer);
}

/** Starts tracking a new tensor (called by the `Tensor` constructor). */
export function adoptTensor(t: Tensor): void {
  if (t.backend.explicitMemory !== true) return;
  views.set(t.buffer, (views.get(t.buffer) ?? 0) + 1);
  registry?.register(t, { backend: t.backend, buffer: t.buffer }, t);
  scopes[scopes.length - 1]?.push(t);
}

/** Releases a tensor's view of its buffer, freeing the buffer after its last view (called once per tensor). */
export function releaseTensor(t: Tensor): void {
  if (t.backend.explicitMemory !== true) return;
  registry?.unregister(t);
  release(t.backend, t.buffer);
}

function collect(x: unknown, into: Set<Tensor>, seen: Set<unknown>): void {
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  if ('buffer' in x && 'backend' in x && 'shape' in x && typeof (x as Tensor).dispose === 'function') {
    into.add(x as Tensor);
    return;
  }
  if (Array.isArray(x)) for (const v of x) collect(v, into, seen);
  else if (x instanceof Map) for (const v of x.values()) collect(v, into, seen);
  else if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collect(v, into, seen);
}

function disposeAll(ts: readonly Tensor[]): void {
  for (let i = ts.length - 1; i >= 0; i--) if (!kept.has(ts[i]!)) ts[i]!.dispose();
}

/**
 * Runs `fn` and disposes every tensor created during it, except the tensors it returns (found in
 * arrays, Maps and plain objects, at any depth) and those passed to {@link keep}; returned tensors move
 * to the enclosing scope. If `fn` throws, everything it created is disposed. `fn` must be synchronous.
 * Only explicit-memory backends (webgpu) are tracked; on the cpu backend this just calls `fn`.
 *
 * @example
 * const loss = scope(() => {
 *   const l = model.forward(x).sub(y).pow(2).mean();
 *   l.backward();
 *   return l;
 * });
 */
export function scope<T>(fn: () => T): T {
  const mine: Tensor[] = [];
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    disposeAll(mine);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    disposeAll(mine);
    throw new TypeError('scope: fn returned a Promise; scope tracks synchronous work only (await outside it)');
  }
  const returned = new Set<Tensor>();
  collect(result, returned, new Set());
  const parent = scopes[scopes.length - 1];
  // Newest first, as destructors run: buffer pools then hand the same buffers back in the same order.
  for (let i = mine.length - 1; i >= 0; i--) {
    const t = mine[i]!;
    if (!returned.has(t) && !kept.has(t)) t.dispose();
  }
  for (const t of mine) if (returned.has(t)) parent?.push(t);
  return result;
}

/** Exempts `t` from disposal by the scopes it was created in (as tfjs's `keep`), and returns it. */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  return t;
}
