/**
 * The vision side of the understanding expert (§5.1, "Multimodal Understanding Expert is tasked with
 * interpreting high-dimensional perceptual inputs"): a ViT image encoder and the projector into the
 * understanding expert's width, the two parts (besides the expert itself) that Table 6 freezes
 * separately ("Und + Proj + ViT", "Proj + ViT", …).
 *
 * ViT: patchify (reshape and permute; see `patches.ts`) → linear patch embedding → plus a learned
 * position embedding → pre-norm transformer blocks (LayerNorm, GELU MLP) → final LayerNorm. No class
 * token: every output is a patch feature, as InternVL uses them. Projector, as InternVL's `mlp1`:
 * merge s × s neighbouring patch features (pixel shuffle) → LayerNorm → Linear → GELU → Linear, so a
 * 224 × 224 image in 14 × 14 patches with s = 2 gives 64 tokens.
 *
 * Pixels: images are `[B, C, H, W]` floats in [0, 1]; the ViT subtracts `pixelMean` and divides by
 * `pixelStd` per channel (ImageNet's statistics by default, as InternVL). With `pixelMean: null` it
 * takes the images as already normalised.
 * @module
 */
import { formatShape, tensor, zeros, type DType, type Tensor } from '../../tensor/index.js';
import { LayerNorm, Linear, Module, ModuleList, TransformerBlock, init } from '../../nn/index.js';
import type { VisionConfig } from './config.js';
import { mergeTokens, patchify } from './patches.js';

/** ImageNet's per-channel RGB mean, the default `pixelMean`. */
export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
/** ImageNet's per-channel RGB standard deviation, the default `pixelStd`. */
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);

/** Options of the vision modules. */
export interface VisionModuleOptions extends init.InitOptions {
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
}

function checkVision(where: string, v: VisionConfig): void {
  const bad = (field: string, msg: string, value: unknown): never => {
    throw new RangeError(`${where}: vision.${field} ${msg}, got ${String(value)}`);
  };
  for (const k of ['imageSize', 'patchSize', 'channels', 'width', 'depth', 'numHeads', 'mlpHidden', 'tokenMerge'] as const) {
    if (!Number.isInteger(v[k]) || v[k] < 1) bad(k, 'must be a positive integer', v[k]);
  }
  if (v.imageSize % v.patchSize !== 0) bad('patchSize', `must divide vision.imageSize = ${v.imageSize}`, v.patchSize);
  if (v.width % v.numHeads !== 0) bad('numHeads', `must divide vision.width = ${v.width}`, v.numHeads);
  if ((v.imageSize / v.patchSize) % v.tokenMerge !== 0) bad('tokenMerge', `must divide the patch grid ${v.imageSize / v.patchSize}`, v.tokenMerge);
  if (!(v.normEps > 0)) bad('normEps', 'must be > 0', v.normEps);
}

/**
 * The ViT: `[B, C, S, S]` images → `[B, (S/p)², width]` patch features (see the module notes).
 *
 * @example
 * const vit = new VisionTransformer(PRESETS.tiny.vision);
 * vit.forward(images); // [B, 3, 32, 32] → [B, 16, 32]
 */
export class VisionTransformer extends Module {
  /** `C·p·p → width`: the patch embedding (a conv kernel `[width, C, p, p]` reshaped). */
  readonly patchEmbed: Linear;
  /** `[numPatches, width]`, learned, initialised N(0, 0.02²) truncated to ±2σ. */
  readonly positionEmbedding: Tensor;
  /** The pre-norm transformer blocks. */
  readonly blocks: ModuleList<TransformerBlock>;
  /** Final LayerNorm. */
  readonly norm: LayerNorm;
  /** The configuration. */
  readonly config: VisionConfig;
  /** Patches per side, S/p. */
  readonly gridSize: number;
  readonly #mean: Tensor | null;
  readonly #std: Tensor | null;

  /** A ViT of the given shape. */
  constructor(config: VisionConfig, opts: VisionModuleOptions = {}) {
    super();
    checkVision('VisionTransformer', config);
    const dtype = opts.dtype ?? 'float32';
    const { patchSize: p, channels: C, width } = config;
    this.config = config;
    this.gridSize = config.imageSize / p;
    const lin = { dtype, generator: opts.generator };
    this.patchEmbed = this.module('patchEmbed', new Linear(C * p * p, width, lin));
    const pos = zeros([this.gridSize ** 2, width], { dtype });
    this.positionEmbedding = this.param('positionEmbedding', init.truncNormal_(pos, 0, 0.02, -0.04, 0.04, { generator: opts.generator }));
    const block = { numHeads: config.numHeads, mlpHidden: config.mlpHidden, blockNormEps: config.normEps, dtype, generator: opts.generator };
    this.blocks = this.module('blocks', new ModuleList(Array.from({ length: config.depth }, () => new TransformerBlock(width, block))));
    this.norm = this.module('norm', new LayerNorm(width, { eps: config.normEps, dtype }));
    const stats = (what: 'pixelMean' | 'pixelStd', v: readonly number[] | null): Tensor | null => {
      if (v === null) return null;
      if (v.length !== C || !v.every((x) => Number.isFinite(x) && (what === 'pixelMean' || x > 0))) {
        throw new RangeError(`VisionTransformer: vision.${what} must hold ${C} finite numbers${what === 'pixelStd' ? ' > 0' : ''}, got [${v.join(', ')}]`);
      }
      return tensor(Float64Array.from(v), { shape: [1, C, 1, 1], dtype });
    };
    if ((config.pixelMean === null) !== (config.pixelStd === null)) {
      throw new RangeError('VisionTransformer: vision.pixelMean and vision.pixelStd must both be null or both be arrays');
    }
    // Non-persistent buffers (not in the state dict), so that every tensor the module holds is registered.
    const mean = stats('pixelMean', config.pixelMean);
    const std = stats('pixelStd', config.pixelStd);
    this.#mean = mean && this.buffer('pixelMean', mean, false);
    this.#std = std && this.buffer('pixelStd', std, false);
  }

  /** Number of patches per image, (S/p)². */
  get numPatches(): number {
    return this.gridSize ** 2;
  }

  /** `[B, C, S, S]` images (in [0, 1], or normalised when `pixelMean` is null) → `[B, numPatches, width]`. */
  forward(images: Tensor): Tensor {
    const { channels: C, imageSize: S } = this.config;
    if (images.ndim !== 4 || images.shape[1] !== C || images.shape[2] !== S || images.shape[3] !== S) {
      throw new RangeError(`VisionTransformer: expected images [B, ${C}, ${S}, ${S}], got ${formatShape(images.shape)}`);
    }
    if (images.dtype === 'bool' || images.dtype === 'int32') throw new TypeError(`VisionTransformer: images must be float, got ${images.dtype}`);
    let x = images.cast(this.positionEmbedding.dtype);
    if (this.#mean && this.#std) x = x.sub(this.#mean).div(this.#std);
    let h = this.patchEmbed.forward(patchify(x, this.config.patchSize)).add(this.positionEmbedding);
    for (const block of this.blocks) h = block.forward(h);
    return this.norm.forward(h);
  }
}

/**
 * The projector: ViT patch features `[B, g², width]` → understanding-expert tokens `[B, (g/s)², outDim]`
 * by merging s × s neighbours, then LayerNorm → Linear → GELU → Linear (InternVL's `mlp1`).
 */
export class VisionProjector extends Module {
  /** LayerNorm over the merged features (`s²·width`). */
  readonly norm: LayerNorm;
  /** `s²·width → outDim`. */
  readonly fc1: Linear;
  /** `outDim → outDim`. */
  readonly fc2: Linear;

  /** A projector for a `gridSize × gridSize` grid of `width`-wide features, merging `merge × merge` blocks. */
  constructor(
    /** Width of the ViT features. */
    readonly width: number,
    /** Patches per side of the grid. */
    readonly gridSize: number,
    /** s, the merge factor (divides `gridSize`). */
    readonly merge: number,
    /** Width of the understanding expert. */
    readonly outDim: number,
    opts: VisionModuleOptions & { normEps?: number } = {},
  ) {
    super();
    for (const [name, v] of [['width', width], ['gridSize', gridSize], ['merge', merge], ['outDim', outDim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`VisionProjector: ${name} must be a positive integer, got ${v}`);
    }
    if (gridSize % merge !== 0) throw new RangeError(`VisionProjector: merge ${merge} must divide gridSize ${gridSize}`);
    const dtype = opts.dtype ?? 'float32';
    const merged = merge * merge * width;
    this.norm = this.module('norm', new LayerNorm(merged, { eps: opts.normEps ?? 1e-5, dtype }));
    this.fc1 = this.module('fc1', new Linear(merged, outDim, { dtype, generator: opts.generator }));
    this.fc2 = this.module('fc2', new Linear(outDim, outDim, { dtype, generator: opts.generator }));
  }

  /** Tokens per image, (gridSize/merge)². */
  get numTokens(): number {
    return (this.gridSize / this.merge) ** 2;
  }

  /** `[B, gridSize², width]` → `[B, numTokens, outDim]`. */
  forward(features: Tensor): Tensor {
    if (features.ndim !== 3 || features.shape[1] !== this.gridSize ** 2 || features.shape[2] !== this.width) {
      throw new RangeError(`VisionProjector: expected features [B, ${this.gridSize ** 2}, ${this.width}], got ${formatShape(features.shape)}`);
    }
    const merged = mergeTokens(features, this.gridSize, this.gridSize, this.merge);
    return this.fc2.forward(this.fc1.forward(this.norm.forward(merged)).gelu());
  }
}

/**
 * The image encoder of the understanding expert: `vit` then `projector`, named so that each can be frozen
 * on its own (`freeze('vit')`, `freeze('projector')`, Table 6).
 *
 * @example
 * const enc = new VisionEncoder(cfg.vision, cfg.understanding.hidden);
 * enc.forward(images); // [B, C, S, S] → [B, enc.numTokens, hidden]
 */
export class VisionEncoder extends Module {
  /** The ViT. */
  readonly vit: VisionTransformer;
  /** The projector into the understanding expert's width. */
  readonly projector: VisionProjector;

  /** An encoder of `vision`'s shape into `outDim`-wide tokens. */
  constructor(vision: VisionConfig, outDim: number, opts: VisionModuleOptions = {}) {
    super();
    this.vit = this.module('vit', new VisionTransformer(vision, opts));
    this.projector = this.module(
      'projector',
      new VisionProjector(vision.width, this.vit.gridSize, vision.tokenMerge, outDim, { ...opts, normEps: vision.normEps }),
    );
  }

  /** Tokens per image. */
  get numTokens(): number {
    return this.projector.numTokens;
  }

  /** `[B, C, S, S]` images → `[B, numTokens, outDim]` tokens. */
  forward(images: Tensor): Tensor {
    return this.projector.forward(this.vit.forward(images));
  }
}
