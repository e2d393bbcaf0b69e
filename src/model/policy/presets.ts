/**
 * Policy presets. Every preset turns on all of the paper's techniques (MoF, masked motion tokens, UAC,
 * ESA, MPG); switch any of them off with `policyConfig(PRESETS.tiny, { mpg: { enabled: false } })`.
 *
 * - `tiny`: a training step in tens of milliseconds on one CPU core — for tests and examples.
 * - `small`: a few million parameters — for finetuning experiments on a laptop.
 * - `paper2b`: the paper's shapes ("a 2B backbone", §7; initialised from InternVL-3.5, §5.1), for
 *   parameter counting and shape checks; instantiate it only on purpose (it is billions of floats). The
 *   understanding expert has the shapes of the published Qwen3-1.7B config (hidden 2048, 28 layers, 16
 *   query heads, 8 key/value heads, head dim 128, intermediate 6144, vocabulary 151,936, RoPE base 10⁶,
 *   RMSNorm ε 10⁻⁶, tied embeddings), the LLM of InternVL3.5-2B. The action expert has those of the
 *   published Qwen3-0.6B config (hidden 1024, intermediate 3072) at the same depth and with the same head
 *   geometry, as the issue asks. The vision encoder has the shapes of the published InternViT-300M config
 *   (patch 14, width 1024, 24 blocks, 16 heads, MLP 4096) at the paper's 224 × 224 input (§7), with
 *   InternVL's pixel shuffle (s = 2, 64 tokens per image). Chunk 16, K = 4 and the 200-dimensional unified
 *   space follow DESIGN.md, as do MPG's λ = 0.1, τ = 1 and 32 directions.
 *   The paper gives no numbers for MoF or the motion codebook; ours: the upper 14 of the 28 action-expert
 *   layers are specialised, each with 4 experts of hidden 1536 and top-2 routing, so a routed layer
 *   costs the same per token as a dense one; 1024 codes, 4 tokens per chunk, mask ratio 0.5.
 * @module
 */
import { DEFAULT_TIME_SAMPLING } from '../flow.js';
import { UNIFIED_LAYOUT } from '../action-space.js';
import { policyConfig, type PolicyConfig } from './config.js';
import { BYTE_TOKENIZER_VOCAB_SIZE } from './tokenizer.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './vision.js';

/** The names of the presets. */
export type PresetName = 'tiny' | 'small' | 'paper2b';

/** Settings every preset shares: the switches on, the paper's defaults. */
const COMMON = {
  text: { vocabSize: BYTE_TOKENIZER_VOCAB_SIZE, tieEmbeddings: true },
  timeEmbedding: { minPeriod: 4e-3, maxPeriod: 4 },
  unifiedDim: UNIFIED_LAYOUT.dim,
  flow: { chunkLength: 16, steps: 4, timeSampling: DEFAULT_TIME_SAMPLING },
  uac: { enabled: true, maxDelay: 4, delayWeighting: 'exponential' },
  esa: { enabled: true, bias: false },
  loss: { text: 1, action: 1, flowMatching: 1, maskedMotion: 1 },
} as const;

const rgb = { channels: 3, pixelMean: IMAGENET_MEAN, pixelStd: IMAGENET_STD } as const;
const mofDefaults = { enabled: true, routingUnit: 'sample', contextDim: 0, auxLossWeight: 0.01, zLossWeight: 0.001 } as const;
const mpgDefaults = { enabled: true, lambda: 0.1, tau: 1, numDirections: 32, refineRounds: 1 } as const;

const tiny: PolicyConfig = {
  name: 'tiny',
  backbone: { layers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, ropeBase: 10_000, qkNorm: true, normEps: 1e-6 },
  understanding: { hidden: 64, mlpHidden: 128 },
  action: { hidden: 32, mlpHidden: 64 },
  mof: { ...mofDefaults, specializedLayers: 1, numExperts: 2, topK: 1, expertHidden: 64 },
  vision: { ...rgb, imageSize: 32, patchSize: 8, width: 32, depth: 1, numHeads: 2, mlpHidden: 64, normEps: 1e-6, tokenMerge: 1 },
  state: { mlpHidden: 64 },
  mpg: { ...mpgDefaults, embedDim: 32 },
  maskedMotion: { enabled: true, numCodes: 32, numTokens: 4, codeDim: 16, tokenizerHidden: 64, maskRatio: 0.5 },
  ...COMMON,
};

const small: PolicyConfig = {
  name: 'small',
  backbone: { layers: 6, numHeads: 6, numKvHeads: 2, headDim: 32, ropeBase: 10_000, qkNorm: true, normEps: 1e-6 },
  understanding: { hidden: 192, mlpHidden: 512 },
  action: { hidden: 96, mlpHidden: 256 },
  mof: { ...mofDefaults, specializedLayers: 2, numExperts: 4, topK: 2, expertHidden: 128 },
  vision: { ...rgb, imageSize: 64, patchSize: 8, width: 96, depth: 3, numHeads: 4, mlpHidden: 384, normEps: 1e-6, tokenMerge: 2 },
  state: { mlpHidden: 128 },
  mpg: { ...mpgDefaults, embedDim: 64 },
  maskedMotion: { enabled: true, numCodes: 256, numTokens: 4, codeDim: 32, tokenizerHidden: 128, maskRatio: 0.5 },
  ...COMMON,
};

const paper2b: PolicyConfig = {
  name: 'paper2b',
  backbone: { layers: 28, numHeads: 16, numKvHeads: 8, headDim: 128, ropeBase: 1_000_000, qkNorm: true, normEps: 1e-6 },
  understanding: { hidden: 2048, mlpHidden: 6144 },
  action: { hidden: 1024, mlpHidden: 3072 },
  mof: { ...mofDefaults, specializedLayers: 14, numExperts: 4, topK: 2, expertHidden: 1536 },
  vision: { ...rgb, imageSize: 224, patchSize: 14, width: 1024, depth: 24, numHeads: 16, mlpHidden: 4096, normEps: 1e-6, tokenMerge: 2 },
  state: { mlpHidden: 1024 },
  mpg: { ...mpgDefaults, embedDim: 1024 },
  maskedMotion: { enabled: true, numCodes: 1024, numTokens: 4, codeDim: 128, tokenizerHidden: 512, maskRatio: 0.5 },
  ...COMMON,
  text: { vocabSize: 151_936, tieEmbeddings: true },
};

/** The presets, validated and frozen (see the module notes). */
export const PRESETS: Readonly<Record<PresetName, PolicyConfig>> = Object.freeze({
  tiny: policyConfig(tiny),
  small: policyConfig(small),
  paper2b: policyConfig(paper2b),
});
