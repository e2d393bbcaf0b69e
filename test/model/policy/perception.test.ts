// The tiny preset's perception end to end: images, text, state and noisy actions at per-token times
// (Eq. 7, 18) go through the modules built from the config, a loss on all outputs is backpropagated, and
// every parameter gets a finite gradient (no timing is asserted; the test only has to stay quick).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Embedding } from '../../../src/nn/index.js';
import { Generator, rand, randn, tensor, type Tensor } from '../../../src/tensor/index.js';
import { PRESETS } from '../../../src/model/policy/presets.js';
import { ByteTokenizer } from '../../../src/model/policy/tokenizer.js';
import { VisionEncoder } from '../../../src/model/policy/vision.js';
import { StateEncoder } from '../../../src/model/policy/state-encoder.js';
import { ActionDecoder, ActionEncoder } from '../../../src/model/policy/action-encoder.js';
import { sampleTime } from '../../../src/model/flow.js';

describe('tiny perception', () => {
  test('forward and backward through every perception module reach every parameter with a finite gradient', () => {
    const cfg = PRESETS.tiny;
    const g = new Generator(0);
    const [B, T, D] = [2, cfg.flow.chunkLength, cfg.unifiedDim];
    const tok = new ByteTokenizer();
    const vision = new VisionEncoder(cfg.vision, cfg.understanding.hidden, { generator: g });
    const text = new Embedding(cfg.text.vocabSize, cfg.understanding.hidden, { generator: g });
    const state = new StateEncoder(D, cfg.state.mlpHidden, cfg.action.hidden, { generator: g });
    const actions = new ActionEncoder(D, cfg.action.hidden, { generator: g, ...cfg.timeEmbedding });
    const decoder = new ActionDecoder(cfg.action.hidden, D, { generator: g });

    const images = rand([B, cfg.vision.channels, cfg.vision.imageSize, cfg.vision.imageSize], { generator: g });
    const ids = tok.encode('<img_begin><img_end>pick up the cube', { specials: true });
    const idTensor = tensor([...ids, ...ids], { shape: [B, ids.length], dtype: 'int32' });
    const xt = randn([B, T, D], { generator: g });
    const t = sampleTime([B, T], { generator: g, sampling: cfg.flow.timeSampling });

    const outputs: Tensor[] = [
      vision.forward(images),
      text.forward(idTensor),
      state.forward(randn([B, D], { generator: g })),
      decoder.forward(actions.forward(xt, t)),
    ];
    assert.deepEqual(outputs.map((o) => o.shape), [
      [B, vision.numTokens, cfg.understanding.hidden],
      [B, ids.length, cfg.understanding.hidden],
      [B, cfg.action.hidden],
      [B, T, D],
    ]);
    outputs.map((o) => o.mul(o).mean()).reduce((a, b) => a.add(b)).backward();
    for (const [name, m] of Object.entries({ vision, text, state, actions, decoder })) {
      for (const [p, param] of m.namedParameters()) {
        assert.ok(param.grad !== null, `${name}.${p} got no gradient`);
        assert.ok(Array.from(param.grad.dataSync(), Number).every(Number.isFinite), `${name}.${p} has a non-finite gradient`);
      }
    }
  });
});
