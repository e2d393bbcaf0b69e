// Run by test/runtime/deno.test.ts: imports the built package in Deno (no Node APIs involved) and
// computes a gradient. Prints one JSON line.
import { grad, matmul, tensor, type Tensor } from '../../dist/index.js';

const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
matmul(w, w).sum().backward();
const x = tensor([0, 1, 2], { dtype: 'float64' });
const dsin = grad((t: Tensor) => t.sin().sum())(x) as Tensor;
console.log(JSON.stringify({ runtime: 'deno', wGrad: w.grad!.toArray(), dsin: Array.from(dsin.dataSync()) }));
