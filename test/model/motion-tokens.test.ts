/**
 * The chunk tokenizer of §5.2.3 (its tokens are the targets of Eq. 8): shapes and ids, consistency of
 * tokenize/detokenize with forward, gradients through the straight-through estimator, and a toy training
 * run that must reconstruct held-out chunks far better than the mean chunk does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, tensor, randn, type Tensor } from '../../src/tensor/index.js';
import { AdamW, mseLoss } from '../../src/nn/index.js';
import { MotionTokenizer, type MotionTokenizerOptions } from '../../src/model/motion-tokens.js';

const T = 16;
const D_ACT = 4;

/** `n` smooth chunks [n, T, d]: per dimension an offset plus a sinusoid of random amplitude, frequency and phase. */
function smoothChunks(n: number, seed: number): Tensor {
  const g = new Generator(seed);
  const host = new Float32Array(n * T * D_ACT);
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < D_ACT; k++) {
      const amp = 0.5 + g.uniform();
      const freq = 0.5 + 2 * g.uniform();
      const phase = 2 * Math.PI * g.uniform();
      const offset = 0.5 * g.normal();
      for (let t = 0; t < T; t++) host[(s * T + t) * D_ACT + k] = offset + amp * Math.sin((freq * Math.PI * t) / T + phase);
    }
  }
  return tensor(host, { shape: [n, T, D_ACT] });
}

const small = (opts: Partial<MotionTokenizerOptions> = {}): MotionTokenizer =>
  new MotionTokenizer({ chunkLength: T, actionDim: D_ACT, numTokens: 4, numCodes: 32, codeDim: 8, hidden: 64, generator: new Generator(1), ...opts });

for (const mode of ['ema', 'gradient'] as const) {
  test(`Eq. 8 tokens: a tokenizer trained on smooth chunks (${mode} codebook) reconstructs held-out chunks with under half the mean chunk's MSE`, () => {
    const train = smoothChunks(192, 7);
    const heldOut = smoothChunks(64, 8);
    const tok = small({ codebookUpdate: mode, deadCodeThreshold: 0.5 });
    const opt = new AdamW(tok.parameters(), { lr: 3e-3, weightDecay: 0 });
    for (let i = 0; i < 200; i++) {
      const { loss } = tok.forward(train);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    tok.eval();
    const [recon, baseline] = noGrad(() => [
      mseLoss(tok.detokenize(tok.tokenize(heldOut)), heldOut).item(),
      // The best constant predictor learnt from the training set: its mean chunk.
      mseLoss(train.mean(0, true).expand(heldOut.shape), heldOut).item(),
    ]);
    assert.ok(recon < 0.5 * baseline, `reconstruction MSE ${recon} vs mean-chunk MSE ${baseline}`);
  });
}

test('Eq. 8 tokens: tokenize gives int32 [B, T_z] ids in [0, |C|), and detokenize(tokenize(A)) is the eval-mode reconstruction', () => {
  const tok = small().eval();
  const x = smoothChunks(5, 3);
  const ids = tok.tokenize(x);
  assert.equal(ids.dtype, 'int32');
  assert.deepEqual(ids.shape, [5, 4]);
  assert.ok(Array.from(ids.dataSync()).every((i) => Number.isInteger(i) && i >= 0 && i < 32));
  const out = tok.forward(x);
  assert.deepEqual(Array.from(out.ids.dataSync()), Array.from(ids.dataSync()));
  assert.deepEqual(out.reconstruction.shape, [5, T, D_ACT]);
  const viaIds = Array.from(tok.detokenize(ids).dataSync());
  Array.from(out.reconstruction.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - viaIds[i]!) <= 1e-5 * (1 + Math.abs(v))));
});

test('Eq. 8 tokens: tokenize leaves the tokenizer state untouched, and the same seed gives the same tokens', () => {
  const x = smoothChunks(6, 4);
  const tok = small();
  const before = Object.entries(tok.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]);
  const ids = Array.from(tok.tokenize(x).dataSync());
  assert.deepEqual(Object.entries(tok.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]), before);
  assert.deepEqual(Array.from(small().tokenize(x).dataSync()), ids);
});

test('Eq. 8 tokens: the reconstruction loss reaches the encoder through the straight-through estimator', () => {
  for (const mode of ['ema', 'gradient'] as const) {
    const tok = small({ codebookUpdate: mode }).eval();
    tok.forward(smoothChunks(4, 5)).reconstructionLoss.backward();
    for (const [name, p] of tok.encoder.namedParameters()) {
      assert.ok(p.grad !== null && Array.from(p.grad.dataSync()).some((g) => g !== 0), `${mode}: encoder.${name} got no gradient`);
    }
    // The codebook learns from the codebook loss (gradient mode) or from EMA, never from the reconstruction.
    if (mode === 'gradient') assert.equal(tok.quantizer.codebook.grad, null);
  }
});

test('MotionTokenizer: bad sizes and inputs throw at once, naming the function and shapes', () => {
  assert.throws(() => small({ numTokens: 0 }), /MotionTokenizer: numTokens must be a positive integer, got 0/);
  assert.throws(() => small({ hidden: 1.5 }), /MotionTokenizer: hidden/);
  const tok = small();
  assert.throws(() => tok.forward(randn([2, T, D_ACT + 1])), /MotionTokenizer.encode: actions must be \[B, 16, 4\].*got \[2,16,5\]/);
  assert.throws(() => tok.tokenize(randn([T, D_ACT])), /MotionTokenizer.encode/);
  assert.throws(() => tok.forward(randn([2, T, D_ACT], { dtype: 'float64' })), /MotionTokenizer.encode: actions must be float32/);
  assert.throws(() => tok.detokenize(tensor([[0, 1, 2]], { dtype: 'int32' })), /MotionTokenizer.detokenize: ids must be int32 \[B, 4\]/);
  assert.throws(() => tok.decode(randn([2, 4, 7])), /MotionTokenizer.decode: latents must be \[B, 4, 8\]/);
});
