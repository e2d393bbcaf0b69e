// Shared helpers of the Mixture-of-Transformers tests (§5.1): seeded inputs, comparisons, streams packed
// from per-position tensors, and a look-up of each position's output in its stream.
import assert from 'node:assert/strict';
import { Generator, randn, tensor, where, type DType, type Tensor } from '../../../src/tensor/index.js';
import type { Module } from '../../../src/nn/index.js';
import type { MoTLayout } from '../../../src/model/policy/mot-layout.js';
import type { MoTStreams } from '../../../src/model/policy/mot-layer.js';
export { assertTensorsClose as assertClose } from '../../helpers/tensor-close.js';

/** Seeded N(0, 1) values. */
export function gauss(shape: readonly number[], seed: number, dtype: DType = 'float64'): Tensor {
  return randn([...shape], { dtype, generator: new Generator(seed) });
}

/** The values of a tensor as numbers. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}

/** Asserts equal shapes and `|a − b| ≤ tol·(1 + |b|)` elementwise. */

/** True when every parameter's gradient is null or exactly zero. */
export function noGradient(params: readonly Tensor[]): boolean {
  return params.every((p) => p.grad === null || values(p.grad).every((v) => v === 0));
}

/** True when some parameter got a non-zero gradient. */
export function someGradient(params: readonly Tensor[]): boolean {
  return params.some((p) => p.grad !== null && values(p.grad).some((v) => v !== 0));
}

/** The parameters of a module whose dotted names pass `pick`. */
export function paramsWhere(m: Module, pick: (name: string) => boolean): Tensor[] {
  return m.namedParameters().filter(([n]) => pick(n)).map(([, p]) => p);
}

/** The two streams packed from per-position tensors `[B, T, dU]` and `[B, T, dA]`. */
export function pack(layout: MoTLayout, fullU: Tensor, fullA: Tensor): Required<MoTStreams> {
  return { understanding: layout.select(fullU, 'understanding'), action: layout.select(fullA, 'action') };
}

/** `x` `[B, T, d]` with the positions where `hit(b, p)` replaced by `y`'s. */
export function replaceAt(x: Tensor, y: Tensor, hit: (b: number, p: number) => boolean): Tensor {
  const [B, T] = x.shape as [number, number, number];
  const m = Array.from({ length: B * T }, (_, k) => hit(Math.floor(k / T), k % T));
  return where(tensor(m, { shape: [B, T, 1], dtype: 'bool' }), y, x);
}

/** The output values of position p of row b, read from whichever stream holds it. */
export function outputAt(layout: MoTLayout, u: Tensor, a: Tensor): (b: number, p: number) => number[] {
  const [tu, ta] = [layout.understandingLength, layout.actionLength];
  const ui = values(layout.understandingIndex);
  const ai = values(layout.actionIndex);
  const [uv, av] = [values(u), values(a)];
  const [dU, dA] = [u.shape[2]!, a.shape[2]!];
  return (b, p) => {
    const r = layout.rows === 1 ? 0 : b;
    const ku = ui.slice(r * tu, (r + 1) * tu).indexOf(p);
    if (ku >= 0) return uv.slice((b * tu + ku) * dU, (b * tu + ku + 1) * dU);
    const ka = ai.slice(r * ta, (r + 1) * ta).indexOf(p);
    assert.ok(ka >= 0, `position ${p} of row ${b} is in neither stream`);
    return av.slice((b * ta + ka) * dA, (b * ta + ka + 1) * dA);
  };
}
