/**
 * Golden tests against PyTorch: test/fixtures/torch-ops.json holds, for each case, the inputs, the op with
 * its PyTorch arguments, torch's forward output(s), and torch's gradient of sum(output · cotangent) with
 * respect to each differentiable input. Every case is replayed through being-ts in float64 and must
 * match. The fixture is written by scripts/fixtures/make_torch_fixtures.py (see scripts/fixtures/README.md);
 * Python is never needed to run this test.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import * as T from '../../src/tensor/index.js';
import type { DType, Tensor, TypedArray } from '../../src/tensor/index.js';

type Num = number | boolean | 'NaN' | 'Infinity' | '-Infinity';

interface Packed {
  shape: number[];
  dtype: 'float64' | 'float32' | 'int64' | 'int32' | 'bool';
  data: Num[];
}

interface FixtureCase {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: (Packed & { name: string; grad: boolean })[];
  outputs: Packed[];
  cotangent?: Packed;
  grads?: Record<string, Packed>;
}

interface Fixture {
  torch_version: string;
  cases: FixtureCase[];
}

// The compiled test lives in build/test/tensor/; the fixture stays in the source tree (repo root/test/fixtures).
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixture = JSON.parse(readFileSync(resolve(REPO_ROOT, 'test', 'fixtures', 'torch-ops.json'), 'utf8')) as Fixture;

/** being-ts has no int64: torch's int64 (indices, integer ranges) corresponds to being-ts int32. */
const DTYPE_MAP: Record<Packed['dtype'], DType> = { float64: 'float64', float32: 'float32', int64: 'int32', int32: 'int32', bool: 'bool' };

function decode(v: Num): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

function toTensor(p: Packed, requiresGrad = false): Tensor {
  const dtype = DTYPE_MAP[p.dtype];
  const values = p.data.map(decode);
  const host: TypedArray =
    dtype === 'float64' ? Float64Array.from(values) : dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
  return T.tensor(host, { shape: p.shape, dtype, requiresGrad });
}

type Inputs = Record<string, Tensor>;
type Args = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const axes = (dim: number[] | number | null): number | number[] | undefined => dim ?? undefined;

/**
 * PyTorch op names (as written in the fixture) → the being-ts call. Where names or signatures differ:
 * log_softmax → logSoftmax, index_select → indexSelect, scatter_add → scatterAdd,
 * var(x, dim, correction, keepdim) → variance(x, axes, {correction, keepdim}), linalg.vector_norm(x, ord,
 * dim, keepdim) → norm(x, p, axes, keepdim), amax/amin → max/min (being-ts' max/min reduce like amax/amin),
 * sort(x, dim, descending, stable=True) → sort(x, axis, descending) (always stable) → {values, indices},
 * topk(x, k, dim, largest) → topk(x, k, axis, largest), x.to(torch.int32) → cast(x, 'int32').
 *
 * The topk fixtures have no tied values: torch leaves the order of ties unspecified (its CPU kernel gives
 * indices [1, 4, 2] for equal maxima at 1, 2 and 4) whereas being-ts orders ties by index, as its stable
 * sort does; the sort fixtures (stable=True, with duplicates and NaN) pin that order down.
 */
const OPS: Record<string, (x: Inputs, a: Args) => Tensor | Tensor[]> = {
  gelu: (x, a) => T.gelu(x.x!, a.approximate),
  silu: (x) => T.silu(x.x!),
  softplus: (x) => T.softplus(x.x!),
  erf: (x) => T.erf(x.x!),
  sigmoid: (x) => T.sigmoid(x.x!),
  tanh: (x) => T.tanh(x.x!),
  abs: (x) => T.abs(x.x!),
  sign: (x) => T.sign(x.x!),
  relu: (x) => T.relu(x.x!),
  div: (x) => T.div(x.a!, x.b!),
  maximum: (x) => T.maximum(x.a!, x.b!),
  minimum: (x) => T.minimum(x.a!, x.b!),
  clamp: (x, a) => T.clamp(x.x!, a.min ?? undefined, a.max ?? undefined),
  pow: (x, a) => T.pow(x.a!, x.b ?? a.exponent),
  where: (x) => T.where(x.cond!, x.a!, x.b!),
  logsumexp: (x, a) => T.logsumexp(x.x!, axes(a.dim), a.keepdim),
  softmax: (x, a) => T.softmax(x.x!, a.dim),
  log_softmax: (x, a) => T.logSoftmax(x.x!, a.dim),
  var: (x, a) => T.variance(x.x!, axes(a.dim), { correction: a.correction, keepdim: a.keepdim }),
  std: (x, a) => T.std(x.x!, axes(a.dim), { correction: a.correction, keepdim: a.keepdim }),
  norm: (x, a) => T.norm(x.x!, a.ord, axes(a.dim), a.keepdim),
  amax: (x, a) => T.max(x.x!, axes(a.dim), a.keepdim),
  amin: (x, a) => T.min(x.x!, axes(a.dim), a.keepdim),
  cumsum: (x, a) => T.cumsum(x.x!, a.dim),
  prod: (x, a) => T.prod(x.x!, axes(a.dim), a.keepdim),
  matmul: (x) => T.matmul(x.a!, x.b!),
  gather: (x, a) => T.gather(x.x!, a.dim, x.index!),
  scatter_add: (x, a) => T.scatterAdd(x.base!, a.dim, x.index!, x.src!),
  index_select: (x, a) => T.indexSelect(x.x!, a.dim, x.index!),
  sort: (x, a) => {
    assert.equal(a.stable, true, 'being-ts sorts are always stable; fixtures must use stable=True');
    const r = T.sort(x.x!, a.dim, a.descending);
    return [r.values, r.indices];
  },
  topk: (x, a) => {
    const r = T.topk(x.x!, a.k, a.dim, a.largest);
    return [r.values, r.indices];
  },
  tril: (x, a) => T.tril(x.x!, a.diagonal),
  triu: (x, a) => T.triu(x.x!, a.diagonal),
  arange: (_x, a) => T.arange(a.start, a.end, a.step, a.dtype ? { dtype: a.dtype } : {}),
  linspace: (_x, a) => T.linspace(a.start, a.end, a.steps, a.dtype ? { dtype: a.dtype } : {}),
  to_int32: (x) => T.cast(x.x!, 'int32'),
};

/** Relative tolerance for float64 results; ops that being-ts computes only approximately would be listed here. */
const RTOL = 1e-9;
const APPROX_RTOL: Record<string, number> = {};

/**
 * Elementwise comparison: NaN must be NaN, infinities must be equal, integers and bools exact, and finite
 * floats within `rtol` of the expected value, or of the tensor's largest magnitude for entries that are
 * the (rounding-sized) result of cancellation near zero.
 */
function assertMatches(actual: Tensor, expected: Packed, rtol: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, DTYPE_MAP[expected.dtype], `${what}: dtype (torch ${expected.dtype})`);
  const got = actual.dataSync();
  const want = expected.data.map(decode);
  const exact = actual.dtype === 'int32' || actual.dtype === 'bool';
  const scale = want.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    const at = `${what}[${i}] (flat): got ${g}, torch ${w}`;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), at);
    else if (!Number.isFinite(w) || exact) assert.equal(g, w, at);
    else assert.ok(Math.abs(g - w) <= rtol * Math.abs(w) + 1e-3 * rtol * scale, at);
  }
}

describe(`being-ts matches PyTorch ${fixture.torch_version} (golden fixtures, float64 forward and gradients)`, () => {
  test('the fixture is present and non-trivial', () => {
    assert.ok(fixture.cases.length >= 100, `only ${fixture.cases.length} cases`);
    const unknown = [...new Set(fixture.cases.map((c) => c.op))].filter((op) => !(op in OPS));
    assert.deepEqual(unknown, [], 'fixture ops with no being-ts mapping');
  });

  for (const c of fixture.cases) {
    test(`${c.op}: ${c.name} matches PyTorch`, () => {
      const rtol = APPROX_RTOL[c.op] ?? RTOL;
      const inputs: Inputs = {};
      for (const p of c.inputs) inputs[p.name] = toTensor(p, p.grad);
      const out = OPS[c.op]!(inputs, c.args);
      const outs = Array.isArray(out) ? out : [out];
      assert.equal(outs.length, c.outputs.length, 'number of outputs');
      outs.forEach((o, i) => assertMatches(o, c.outputs[i]!, rtol, `output ${i}`));
      if (c.grads === undefined) return;
      assert.ok(outs[0]!.requiresGrad, 'the output should be differentiable');
      outs[0]!.backward(toTensor(c.cotangent!));
      for (const [name, g] of Object.entries(c.grads)) {
        const x = inputs[name]!;
        assertMatches(x.grad ?? T.zerosLike(x), g, rtol, `gradient w.r.t. ${name}`);
      }
    });
  }
});
