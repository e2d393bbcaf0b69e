/**
 * End to end: a small MLP built from `Linear` learns XOR with each optimiser, from a fixed seed, in a few
 * hundred steps (all four outputs end on the right side of 0.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, tensor, type Tensor } from '../../src/tensor/index.js';
import { Module } from '../../src/nn/module.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { crossEntropy, mseLoss } from '../../src/nn/losses.js';
import { AdamW } from '../../src/nn/optim/adamw.js';
import { SGD } from '../../src/nn/optim/sgd.js';
import type { Optimizer } from '../../src/nn/optim/optimizer.js';

/** 2 → 8 → `outputs`, tanh between. */
class XorNet extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(seed: number, outputs: number) {
    super();
    const generator = new Generator(seed);
    this.fc1 = this.module('fc1', new Linear(2, 8, { generator }));
    this.fc2 = this.module('fc2', new Linear(8, outputs, { generator }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}

const X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const Y = tensor([0, 1, 1, 0]);
const LABELS = tensor([0, 1, 1, 0], { dtype: 'int32' });

/**
 * Trains from seed 1234 and returns P(XOR = 1) for the four inputs: one sigmoid output under MSE, or two
 * logits under cross-entropy.
 */
function train(makeOpt: (net: XorNet) => Optimizer<object>, steps: number, loss: 'mse' | 'ce' = 'mse'): number[] {
  const net = new XorNet(1234, loss === 'mse' ? 1 : 2);
  const prob = (): Tensor => (loss === 'mse' ? net.forward(X).sigmoid().reshape([-1]) : net.forward(X).softmax(-1).slice(null, [1, 2]).reshape([-1]));
  const opt = makeOpt(net);
  for (let i = 0; i < steps; i++) {
    const l = loss === 'mse' ? mseLoss(prob(), Y) : crossEntropy(net.forward(X), LABELS);
    opt.zeroGrad();
    l.backward();
    opt.step();
  }
  return Array.from(prob().dataSync());
}

function assertXor(out: number[]): void {
  assert.ok(out[0]! < 0.5 && out[1]! > 0.5 && out[2]! > 0.5 && out[3]! < 0.5, `outputs ${out.map((v) => v.toFixed(3)).join(', ')}`);
}

test('an MLP learns XOR with AdamW in 300 steps (MSE)', () => {
  assertXor(train((net) => new AdamW(net.parameters(), { lr: 0.05, weightDecay: 0 }), 300));
});

test('an MLP learns XOR with SGD + Nesterov momentum in 300 steps (MSE)', () => {
  assertXor(train((net) => new SGD(net.parameters(), { lr: 0.5, momentum: 0.9, nesterov: true }), 300));
});

test('an MLP learns XOR with AdamW and cross-entropy over two logits in 300 steps', () => {
  assertXor(train((net) => new AdamW(net.parameters(), { lr: 0.05 }), 300, 'ce'));
});

test('training is deterministic: the same seed gives the same outputs bit for bit', () => {
  const run = (): number[] => train((net) => new AdamW(net.parameters(), { lr: 0.05 }), 40);
  assert.deepEqual(run(), run());
});
