/**
 * Interrupted and resumed training equals uninterrupted training bit for bit on the CPU: model, optimiser
 * and schedule state saved after k steps, loaded into freshly built (differently initialised) objects,
 * and training continued.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, randn, type Tensor } from '../../src/tensor/index.js';
import { Module } from '../../src/nn/module.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { mseLoss } from '../../src/nn/losses.js';
import { AdamW } from '../../src/nn/optim/adamw.js';
import { SGD } from '../../src/nn/optim/sgd.js';
import { clipGradNorm } from '../../src/nn/optim/clip.js';
import { LRScheduler, constantSchedule, warmupCosine, type Schedule } from '../../src/nn/optim/schedule.js';
import type { Optimizer, OptimizerStateDict } from '../../src/nn/optim/optimizer.js';
import { deserialize, serialize } from '../../src/nn/safetensors.js';

class Net extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(seed: number) {
    super();
    const generator = new Generator(seed);
    this.fc1 = this.module('fc1', new Linear(3, 16, { generator }));
    this.fc2 = this.module('fc2', new Linear(16, 2, { generator }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}

/** The batch of step `t`: the same for every run. */
function batch(t: number): [Tensor, Tensor] {
  const generator = new Generator(`batch-${t}`);
  const x = randn([8, 3], { generator });
  const [a, b, c] = x.split(1, 1) as [Tensor, Tensor, Tensor];
  return [x, a.sin().add(b.mul(c)).sub(c).reshape([8, 1]).expand([8, 2]).add(randn([8, 2], { generator }).mul(0.1))];
}

interface Run {
  net: Net;
  opt: Optimizer<object>;
  sched: LRScheduler;
}

function trainSteps(r: Run, from: number, to: number): void {
  for (let t = from; t < to; t++) {
    const [x, y] = batch(t);
    const loss = mseLoss(r.net.forward(x), y);
    r.opt.zeroGrad();
    loss.backward();
    clipGradNorm(r.net.parameters(), 0.5);
    r.opt.step();
    r.sched.step();
  }
}

function assertSameState(a: Run, b: Run): void {
  for (const [[name, p], [, q]] of a.net.namedParameters().map((e, i) => [e, b.net.namedParameters()[i]!] as const)) {
    assert.deepEqual(Array.from(q.dataSync()), Array.from(p.dataSync()), `parameter ${name}`);
  }
  const sa = a.opt.stateDict();
  const sb = b.opt.stateDict();
  assert.deepEqual(sb.meta, sa.meta);
  for (const k of Object.keys(sa.tensors)) assert.deepEqual(Array.from(sb.tensors[k]!.dataSync()), Array.from(sa.tensors[k]!.dataSync()), k);
  assert.deepEqual(b.sched.stateDict(), a.sched.stateDict());
  assert.deepEqual(b.sched.getLastLr(), a.sched.getLastLr());
}

function prefixed(prefix: string, sd: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, t]) => [prefix + k, t]));
}

function unprefixed(prefix: string, sd: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

const TOTAL = 12;
const K = 5;

test('AdamW (decay and no-decay groups) + warm-up/cosine + clipping: resumed from a safetensors checkpoint equals uninterrupted', () => {
  const schedule: Schedule = warmupCosine({ warmupSteps: 3, totalSteps: TOTAL, minLrRatio: 0.1 });
  const build = (seed: number): Run => {
    const net = new Net(seed);
    const named = net.namedParameters();
    const opt = new AdamW(
      [
        { params: named.filter(([n]) => n.endsWith('weight')).map(([, p]) => p), weightDecay: 0.1 },
        { params: named.filter(([n]) => n.endsWith('bias')).map(([, p]) => p), weightDecay: 0 },
      ],
      { lr: 0.02, amsgrad: true },
    );
    return { net, opt, sched: new LRScheduler(opt, schedule) };
  };

  const straight = build(7);
  trainSteps(straight, 0, TOTAL);

  const first = build(7);
  trainSteps(first, 0, K);
  const osd = first.opt.stateDict();
  const bytes = serialize({ ...prefixed('model.', first.net.stateDict()), ...prefixed('optim.', osd.tensors) }, {
    metadata: { optim: JSON.stringify(osd.meta), scheduler: JSON.stringify(first.sched.stateDict()) },
  });

  const resumed = build(99); // different initial weights: everything must come from the checkpoint
  const ckpt = deserialize(bytes);
  resumed.net.loadStateDict(unprefixed('model.', ckpt.tensors));
  resumed.opt.loadStateDict({ tensors: unprefixed('optim.', ckpt.tensors), meta: JSON.parse(ckpt.metadata.optim!) as OptimizerStateDict['meta'] });
  resumed.sched.loadStateDict(JSON.parse(ckpt.metadata.scheduler!) as ReturnType<LRScheduler['stateDict']>);
  trainSteps(resumed, K, TOTAL);

  assertSameState(straight, resumed);
  // The run did train: the resumed weights differ from those at the checkpoint.
  assert.notDeepEqual(Array.from(resumed.net.fc1.weight.dataSync()), Array.from(ckpt.tensors['model.fc1.weight']!.dataSync()));
});

test('SGD with Nesterov momentum + constant schedule: resumed from in-memory clones equals uninterrupted', () => {
  const build = (seed: number): Run => {
    const net = new Net(seed);
    const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
    return { net, opt, sched: new LRScheduler(opt, constantSchedule()) };
  };
  const straight = build(3);
  trainSteps(straight, 0, TOTAL);

  const first = build(3);
  trainSteps(first, 0, K);
  const model = Object.fromEntries(Object.entries(first.net.stateDict()).map(([k, t]) => [k, t.clone()]));
  const osd = first.opt.stateDict();
  const optim: OptimizerStateDict = {
    tensors: Object.fromEntries(Object.entries(osd.tensors).map(([k, t]) => [k, t.clone()])),
    meta: JSON.parse(JSON.stringify(osd.meta)) as OptimizerStateDict['meta'],
  };
  const sched = first.sched.stateDict();
  trainSteps(first, K, K + 2); // the saved copies must not follow later training

  const resumed = build(4);
  resumed.net.loadStateDict(model);
  resumed.opt.loadStateDict(optim);
  resumed.sched.loadStateDict(sched);
  trainSteps(resumed, K, TOTAL);
  assertSameState(straight, resumed);
});
