/**
 * Losses: PyTorch's numbers (test/fixtures/torch-nn.json, written by scripts/fixtures/make_nn_fixtures.py),
 * values worked out by hand, masks and weights, stability at large logits, and error messages.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { tensor, type DType, type Tensor } from '../../src/tensor/index.js';
import { crossEntropy, mseLoss, type Reduction } from '../../src/nn/losses.js';

interface Packed {
  shape: number[];
  dtype: 'float64' | 'float32' | 'int32' | 'bool';
  data: number[];
}

interface LossCase {
  name: string;
  fn: 'mseLoss' | 'crossEntropy';
  args: { reduction: Reduction; labelSmoothing?: number; weighted?: boolean; ignoreIndex?: number };
  inputs: Record<string, Packed>;
  output: Packed;
  grad: Packed;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixture = JSON.parse(readFileSync(resolve(REPO_ROOT, 'test', 'fixtures', 'torch-nn.json'), 'utf8')) as { losses: LossCase[] };

function unpack(p: Packed, requiresGrad = false): Tensor {
  return tensor(p.data, { shape: p.shape, dtype: p.dtype as DType, requiresGrad });
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= rtol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

describe('losses match PyTorch (float64, torch fixtures)', () => {
  for (const c of fixture.losses) {
    test(c.name, () => {
      const x = unpack(c.fn === 'mseLoss' ? c.inputs.pred! : c.inputs.logits!, true);
      const out =
        c.fn === 'mseLoss'
          ? mseLoss(x, unpack(c.inputs.target!), { reduction: c.args.reduction })
          : crossEntropy(x, unpack(c.inputs.target!), {
              reduction: c.args.reduction,
              labelSmoothing: c.args.labelSmoothing ?? 0,
              ...(c.args.ignoreIndex !== undefined ? { ignoreIndex: c.args.ignoreIndex } : {}),
              ...(c.args.weighted ? { weight: unpack(c.inputs.weight!) } : {}),
            });
      assert.deepEqual(out.shape, c.output.shape);
      assertClose(out.dataSync(), c.output.data, 1e-12, 'value');
      out.sum().backward();
      assertClose(x.grad!.dataSync(), c.grad.data, 1e-12, 'gradient');
    });
  }
});

describe('mseLoss', () => {
  test('by hand: mean, sum and none of (p − t)²', () => {
    const p = tensor([1, 2, 4], { dtype: 'float64' });
    const t = tensor([0, 2, 1], { dtype: 'float64' });
    assert.deepEqual(mseLoss(p, t, { reduction: 'none' }).toArray(), [1, 0, 9]);
    assert.equal(mseLoss(p, t, { reduction: 'sum' }).item(), 10);
    assert.equal(mseLoss(p, t).item(), 10 / 3);
  });

  test('weight broadcasts per element and scales each squared error', () => {
    const p = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const t = tensor([[0, 0], [0, 0]], { dtype: 'float64' });
    const w = tensor([2, 0.5], { dtype: 'float64' });
    assert.deepEqual(mseLoss(p, t, { weight: w, reduction: 'none' }).toArray(), [[2, 2], [18, 8]]);
    assert.equal(mseLoss(p, t, { weight: w }).item(), 30 / 4);
  });

  test('a mask takes the mean over the selected elements only, and masked elements get no gradient', () => {
    const p = tensor([1, 2, 4, 100], { dtype: 'float64', requiresGrad: true });
    const t = tensor([0, 2, 1, 0], { dtype: 'float64' });
    const mask = tensor([true, true, true, false]);
    const l = mseLoss(p, t, { mask });
    assert.equal(l.item(), 10 / 3);
    l.backward();
    assert.deepEqual(p.grad!.toArray(), [2 / 3, 0, 2, 0]);
    assert.equal(mseLoss(p, t, { mask, reduction: 'sum' }).item(), 10);
    assert.deepEqual(mseLoss(p, t, { mask, reduction: 'none' }).toArray(), [1, 0, 9, 0]);
  });

  test('a mask broadcasts (one flag per row), and an all-false mask gives 0, not NaN', () => {
    const p = tensor([[1, 1], [3, 3]], { dtype: 'float64', requiresGrad: true });
    const t = tensor([[0, 0], [0, 0]], { dtype: 'float64' });
    assert.equal(mseLoss(p, t, { mask: tensor([[false], [true]]) }).item(), 9);
    const none = mseLoss(p, t, { mask: tensor([[false], [false]]) });
    assert.equal(none.item(), 0);
    none.backward();
    assert.deepEqual(p.grad!.toArray(), [[0, 0], [0, 0]]);
  });

  test('float32 in, float32 out', () => {
    const l = mseLoss(tensor([1, 2]), tensor([0, 0]));
    assert.equal(l.dtype, 'float32');
    assert.equal(l.item(), 2.5);
  });

  test('errors name the function and the shapes', () => {
    assert.throws(() => mseLoss(tensor([1, 2, 3]), tensor([1, 2])), /mseLoss: pred \[3\] and target \[2\] differ in shape/);
    assert.throws(() => mseLoss(tensor([1, 2]), tensor([1, 2], { dtype: 'float64' })), /mseLoss: target dtype float64 differs from pred dtype float32/);
    assert.throws(() => mseLoss(tensor([1, 2], { dtype: 'int32' }), tensor([1, 2], { dtype: 'int32' })), /mseLoss: pred must be float32 or float64, got int32 \[2\]/);
    assert.throws(() => mseLoss(tensor([1, 2]), tensor([1, 2]), { mask: tensor([1, 0]) }), /mseLoss: mask must be bool, got float32 \[2\]/);
    assert.throws(() => mseLoss(tensor([1, 2]), tensor([1, 2]), { mask: tensor([true, false, true]) }), /mseLoss/);
    assert.throws(() => mseLoss(tensor([1, 2]), tensor([1, 2]), { weight: tensor([[1], [2]]) }), /mseLoss: weight \[2,1\] does not broadcast to pred \[2\]/);
    assert.throws(() => mseLoss(tensor([1]), tensor([1]), { reduction: 'avg' as Reduction }), /mseLoss: reduction must be/);
  });
});

describe('crossEntropy', () => {
  // logits [0, ln 3]: p = [1/4, 3/4].
  const ln3 = Math.log(3);

  test('by hand: −log p of the target, mean over targets', () => {
    const logits = tensor([[0, ln3], [0, ln3]], { dtype: 'float64' });
    const target = tensor([1, 0], { dtype: 'int32' });
    const none = crossEntropy(logits, target, { reduction: 'none' }).dataSync();
    assertClose(none, [-Math.log(3 / 4), -Math.log(1 / 4)], 1e-15, 'none');
    assertClose([crossEntropy(logits, target).item()], [(-Math.log(3 / 4) - Math.log(1 / 4)) / 2], 1e-15, 'mean');
  });

  test('by hand: label smoothing is (1 − ε)·NLL + ε·mean over classes of −log p', () => {
    const logits = tensor([[0, ln3]], { dtype: 'float64' });
    const target = tensor([1], { dtype: 'int32' });
    const eps = 0.2;
    const expected = (1 - eps) * -Math.log(3 / 4) + (eps * (-Math.log(1 / 4) - Math.log(3 / 4))) / 2;
    assertClose([crossEntropy(logits, target, { labelSmoothing: eps }).item()], [expected], 1e-15, 'smoothed');
  });

  test('by hand: class weights scale each term and the mean divides by their sum', () => {
    const logits = tensor([[0, ln3], [0, ln3]], { dtype: 'float64' });
    const target = tensor([1, 0], { dtype: 'int32' });
    const weight = tensor([2, 0.5], { dtype: 'float64' });
    const expected = (0.5 * -Math.log(3 / 4) + 2 * -Math.log(1 / 4)) / 2.5;
    assertClose([crossEntropy(logits, target, { weight }).item()], [expected], 1e-15, 'weighted');
  });

  test('the gradient of the mean is (softmax − onehot)/N', () => {
    const logits = tensor([[0, ln3], [0, ln3]], { dtype: 'float64', requiresGrad: true });
    crossEntropy(logits, tensor([1, 0], { dtype: 'int32' })).backward();
    assertClose(logits.grad!.dataSync(), [0.25 / 2, -0.25 / 2, -0.75 / 2, 0.75 / 2], 1e-15, 'grad');
  });

  test('ignored targets and masked-out targets count for nothing, in the sum and in the mean', () => {
    const logits = tensor([[1, 2, 3], [3, 1, 0], [0, 0, 5]], { dtype: 'float64', requiresGrad: true });
    const kept = crossEntropy(logits.slice([0, 1]), tensor([2], { dtype: 'int32' })).item();
    const custom = crossEntropy(logits, tensor([2, 7, 7], { dtype: 'int32' }), { ignoreIndex: 7 });
    assertClose([custom.item()], [kept], 1e-15, 'ignoreIndex 7');
    const masked = crossEntropy(logits, tensor([2, 0, 1], { dtype: 'int32' }), { mask: tensor([true, false, false]) });
    const viaIgnore = crossEntropy(logits, tensor([2, -100, -100], { dtype: 'int32' }));
    assertClose([masked.item()], [kept], 1e-15, 'masked');
    assertClose([viaIgnore.item()], [kept], 1e-15, 'ignored');
    masked.backward();
    assert.deepEqual((logits.grad!.toArray() as number[][]).slice(1), [[0, 0, 0], [0, 0, 0]]);
    assert.deepEqual(crossEntropy(logits, tensor([2, -100, 1], { dtype: 'int32' }), { reduction: 'none' }).dataSync()[1], 0);
  });

  test('every target ignored: the mean is 0 and the gradient 0 (PyTorch gives NaN)', () => {
    const logits = tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true });
    const l = crossEntropy(logits, tensor([-100, -100], { dtype: 'int32' }), { labelSmoothing: 0.1, weight: tensor([1, 2], { dtype: 'float64' }) });
    assert.equal(l.item(), 0);
    l.backward();
    assert.deepEqual(logits.grad!.toArray(), [[0, 0], [0, 0]]);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    test(`logits of ±1e4 give a finite loss and finite gradients (${dtype})`, () => {
      const logits = tensor([[1e4, -1e4, 0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], { dtype, requiresGrad: true });
      const target = tensor([1, 2, 0], { dtype: 'int32' });
      const l = crossEntropy(logits, target, { labelSmoothing: 0.1 });
      assert.ok(Number.isFinite(l.item()), `loss ${l.item()}`);
      // Row 0 misses by 2e4; row 1 splits evenly between classes 1 and 2; row 2 is uniform.
      const expected = ((0.9 * 2e4 + (0.1 / 3) * (0 + 2e4 + 1e4)) + (0.9 * Math.LN2 + (0.1 / 3) * (2e4 + 3 * Math.LN2)) + Math.log(3)) / 3;
      assertClose([l.item()], [expected], dtype === 'float32' ? 1e-5 : 1e-12, 'loss');
      l.backward();
      assert.ok(Array.from(logits.grad!.dataSync()).every(Number.isFinite));
    });
  }

  test('classes on the last axis of any number of leading axes; a single vector with a 0-d target', () => {
    const logits = tensor([[[0, ln3]], [[ln3, 0]]], { dtype: 'float64' });
    const l = crossEntropy(logits, tensor([[1], [0]], { dtype: 'int32' }), { reduction: 'none' });
    assert.deepEqual(l.shape, [2, 1]);
    assertClose(l.dataSync(), [-Math.log(3 / 4), -Math.log(3 / 4)], 1e-15, '3-d');
    const v = crossEntropy(tensor([0, ln3], { dtype: 'float64' }), tensor(1, { dtype: 'int32' }));
    assertClose([v.item()], [-Math.log(3 / 4)], 1e-15, '1-d');
  });

  test('errors name the function and the shapes', () => {
    const logits = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.throws(() => crossEntropy(logits, tensor([1, 2, 0], { dtype: 'int32' })), /crossEntropy: logits \[2,3\] need target \[2\] \(classes last\), got \[3\]/);
    assert.throws(() => crossEntropy(logits, tensor([1, 2])), /crossEntropy: target must be int32 class indices, got float32 \[2\]/);
    assert.throws(() => crossEntropy(tensor([[1, 2]], { dtype: 'int32' }), tensor([1], { dtype: 'int32' })), /crossEntropy: logits must be float32 or float64, got int32/);
    assert.throws(() => crossEntropy(logits, tensor([1, 2], { dtype: 'int32' }), { weight: tensor([1, 2]) }), /crossEntropy: weight must be \[3\] \(one per class\), got \[2\]/);
    assert.throws(() => crossEntropy(logits, tensor([1, 2], { dtype: 'int32' }), { labelSmoothing: 1.5 }), /crossEntropy: labelSmoothing must be in \[0, 1\]/);
    assert.throws(() => crossEntropy(logits, tensor([1, 2], { dtype: 'int32' }), { mask: tensor([true, false, true]) }), /crossEntropy/);
    assert.throws(() => crossEntropy(logits, tensor([1, 3], { dtype: 'int32' })), /crossEntropy: a target is not a class of logits \[2,3\] nor ignoreIndex -100/);
  });
});
