/**
 * The starter demo: fit y = sin(x) on [−π, π] with a small two-layer tanh network, by plain gradient
 * descent on being-ts tensors and autograd, and print the loss as it falls.
 *
 * Run: `npm run demo`
 */
import { Generator, linspace, noGrad, randn, sin, type Tensor, zeros } from '../src/tensor/index.js';

const gen = new Generator(42);
const hidden = 32;
const x = linspace(-Math.PI, Math.PI, 256).reshape([-1, 1]);
const y = sin(x);

// Parameters, scaled as PyTorch's default Linear initialisation would roughly be.
let w1 = randn([1, hidden], { generator: gen }).mul(1.0).requiresGrad_();
let b1 = zeros([hidden], { requiresGrad: true });
let w2 = randn([hidden, 1], { generator: gen }).mul(1 / Math.sqrt(hidden)).requiresGrad_();
let b2 = zeros([1], { requiresGrad: true });

function forward(input: Tensor): Tensor {
  return input.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
}

/** One plain gradient-descent step: p ← p − lr·∂L/∂p, returning fresh leaves. */
function step(params: Tensor[], lr: number): Tensor[] {
  return noGrad(() => params.map((p) => p.sub(p.grad!.mul(lr)).requiresGrad_()));
}

const steps = 3000;
const lr = 0.05;
const t0 = performance.now();
let first = NaN;
let loss = NaN;
for (let i = 0; i <= steps; i++) {
  const l = forward(x).sub(y).pow(2).mean();
  l.backward();
  loss = l.item();
  if (i === 0) first = loss;
  if (i % 300 === 0) console.log(`step ${String(i).padStart(4)}  loss ${loss.toExponential(3)}`);
  [w1, b1, w2, b2] = step([w1, b1, w2, b2], lr);
}
const secs = (performance.now() - t0) / 1000;
console.log(`loss fell from ${first.toExponential(3)} to ${loss.toExponential(3)} in ${steps} steps (${secs.toFixed(1)} s)`);
if (!(loss < first / 10)) {
  console.error('demo: the loss did not fall tenfold; something is wrong');
  process.exit(1);
}
