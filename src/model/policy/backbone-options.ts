/**
 * From a {@link PolicyConfig} to the options of the Mixture-of-Transformers backbone, so that the
 * backbone, its analytic parameter count and the rest of the policy are built from one config.
 * @module
 */
import type { DType, Generator } from '../../tensor/index.js';
import type { MoTBackboneOptions } from './backbone.js';
import type { PolicyConfig } from './config.js';

/** Initialisation settings for {@link backboneOptions}. */
export interface BackboneBuildOptions {
  /** Parameter dtype (float32 by default). */
  dtype?: DType;
  /** The random source of the initialisation (the global generator when omitted). */
  generator?: Generator;
}

/**
 * `MoTBackbone` options for `config`: `backbone.layers` layers of an understanding expert of width
 * `understanding.hidden` and an action expert of width `action.hidden`, both projecting into the shared
 * `numHeads × headDim` head space (Qwen3-style: RMSNorm, no biases, q/k norms per `qkNorm`, RoPE at
 * `ropeBase`); when `mof.enabled`, the upper `mof.specializedLayers` action layers are Mixture of Flow.
 */
export function backboneOptions(config: PolicyConfig, build: BackboneBuildOptions = {}): MoTBackboneOptions {
  const b = config.backbone;
  const m = config.mof;
  return {
    numLayers: b.layers,
    understandingDim: config.understanding.hidden,
    actionDim: config.action.hidden,
    numHeads: b.numHeads,
    numKvHeads: b.numKvHeads,
    headDim: b.headDim,
    understandingHidden: config.understanding.mlpHidden,
    actionHidden: config.action.mlpHidden,
    qkNorm: b.qkNorm,
    bias: false,
    rope: { base: b.ropeBase },
    normEps: b.normEps,
    ...(m.enabled
      ? {
          mixtureOfFlow: {
            layers: m.specializedLayers,
            numExperts: m.numExperts,
            topK: m.topK,
            routingUnit: m.routingUnit,
            contextDim: m.contextDim,
            expertHidden: m.expertHidden,
          },
        }
      : {}),
    ...(build.dtype !== undefined ? { dtype: build.dtype } : {}),
    ...(build.generator !== undefined ? { generator: build.generator } : {}),
  };
}
