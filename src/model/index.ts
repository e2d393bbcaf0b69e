/**
 * The Being-H0.5 model machinery, equation by equation (built on nn and tensor): the unified
 * state-action space, sequence packing and masks, rectified flow matching, motion tokens,
 * embodiment-specific adapters, Manifold-Preserving Gating, UAC training and Mixture of Flow.
 * @module
 */
export { SlotwiseAdapters, SlotwiseEncoder, SlotwiseDecoder, slotwiseEncode, slotwiseDecode, contiguousSlots, type SlotSpan, type SlotwiseAdapterOptions } from './esa.js';
export { MixtureOfFlow, SpecializedExpertLayer, type MixtureOfFlowOptions, type MixtureOfFlowCallOptions, type MixtureOfFlowOutput, type SpecializedExpertLayerOptions, type MoFRoutingOptions, type SpecializedExpertCallOptions, type SpecializedExpertOutput, type RoutingUnit } from './mof.js';
export { SPECIAL_TOKEN_NAMES, byteVocabulary, checkSpecialTokens, specialTokenName, type SpecialTokens, type TokenVocabulary } from './special-tokens.js';
export { HYBRID_GATING, hybridGate, checkSpans, attentionMask, attentionMaskBits, alignedPositionIds, positionIdTensor, type AttentionKind, type SequencePart, type MaskSpan } from './hybrid-mask.js';
export { buildSequence, buildHybridSequence, sequenceMask, slotPositions, expertOf, type Modality, type Expert, type Segment, type TextSegment, type VisionSegment, type StateSegment, type ActionSegment, type QASample, type HybridSample, type SlotKind, type EmbeddingSlot, type SegmentSpan, type UnifiedSequence, type SegmentAttention, type SequenceOptions } from './sequence.js';
export { collateSequences, type CollateOptions, type SequenceBatch } from './sequence-batch.js';
export { SlotLayout, UNIFIED_LAYOUT, Embodiment, type SlotSpec, type Slot, type SlotPosition, type SlotQuantity, type SlotLayoutOptions, type RawComponent, type EmbodimentSpec, type PlacedComponent } from './action-space.js';
export { SO101_ARM, SINGLE_ARM_EEF, BIMANUAL_ARMS, FR3_INSPIRE, UPPER_BODY_HUMANOID, MANO_HANDS, EXAMPLE_EMBODIMENTS } from './example-embodiments.js';
export { axisAngleToQuat, quatToAxisAngle, quatToMatrix, matrixToQuat, axisAngleToMatrix, matrixToAxisAngle, quatMultiply, quatConjugate, composeAxisAngle, axisAngleDelta, type Vec3, type Quat, type Mat3 } from './rotations.js';
export { toDeltaActions, fromDeltaActions, deltaActionSlots, type DeltaActionSlots } from './delta-actions.js';
export { OutlierFilter, type OutlierFitOptions, type QuantileFitOptions, type MadFitOptions, type OutlierBounds } from './outlier-filter.js';
export { gammaVariate, betaVariate, sampleGamma, sampleBeta } from './beta.js';
export { DEFAULT_TIME_SAMPLING, sampleTime, interpolate, velocityTarget, flowMatchingLoss, eulerSample, type TimeSampling, type UniformTimeSampling, type BetaTimeSampling, type SampleTimeOptions, type FlowMatchingLossOptions, type VelocityField, type EulerHook, type EulerOptions } from './flow.js';
export { maxDelay, delayProbabilities, DelayDistribution, sampleDelays, prefixMask, uacTimesteps, uacInputs, sampleUACInputs, uacLoss, lockPrefix, type EmbodimentTiming, type DelayWeighting, type UACInputs, type SampledUACInputs, type SampleUACOptions } from './uac.js';
export { VectorQuantizer, type VectorQuantizerOptions, type Quantized } from './vector-quantizer.js';
export { MotionTokenizer, type MotionTokenizerOptions, type MotionTokenizerOutput } from './motion-tokens.js';
export { maskMotionTokens, maskedMotionLoss, MaskedMotionHead, type MotionTokenMaskOptions, type MaskedMotionTokens, type MaskedMotionLossOptions, type MaskedMotionHeadOptions } from './masked-motion.js';
export { meanWristDisplacementSimilarity, wristDisplacementCosine, type WristDisplacementOptions, type FeatureRange } from './metrics.js';
export { DEFAULT_NUM_DIRECTIONS, randomDirections, slicedWassersteinDiscrepancy, slicedWassersteinDistance, type RandomDirectionsOptions, type SlicedWassersteinOptions, type SlicedWassersteinDistanceOptions } from './sliced-wasserstein.js';
export { ManifoldPreservingGate, type ManifoldPreservingGateOptions, type MPGCallOptions, type MPGOutput, type GatePlacement } from './mpg.js';
export { configProblems, validateConfig, policyConfig, type PolicyConfig, type PolicyConfigOverrides, type BackboneConfig, type ExpertConfig, type MixtureOfFlowConfig, type VisionConfig, type TextConfig, type StateEncoderConfig, type TimeEmbeddingConfig, type FlowConfig, type UACConfig, type ESAConfig, type MPGConfig, type MaskedMotionConfig, type LossWeights } from './policy/config.js';
export { PRESETS, type PresetName } from './policy/presets.js';
export { countParameters, vitParameters, projectorParameters, type ParameterCounts } from './policy/parameter-count.js';
export { backboneOptions, type BackboneBuildOptions } from './policy/backbone-options.js';
export { ByteTokenizer, BYTE_TOKENIZER_VOCAB_SIZE, type ByteEncodeOptions, type ByteDecodeOptions } from './policy/tokenizer.js';
export { patchify, unpatchify, mergeTokens, type ImageGeometry } from './policy/patches.js';
export { VisionTransformer, VisionProjector, VisionEncoder, IMAGENET_MEAN, IMAGENET_STD, type VisionModuleOptions } from './policy/vision.js';
export { StateEncoder, type StateEncoderOptions } from './policy/state-encoder.js';
export { ActionEncoder, ActionDecoder, sinusoidalTimeEmbedding, type ActionEncoderOptions, type ActionDecoderOptions, type TimeEmbeddingOptions } from './policy/action-encoder.js';
export { MoTLayout, routingGroupsByPart, type HostArray } from './policy/mot-layout.js';
export { MoTLayer, type MoTLayerOptions, type MoTLayerCallOptions, type MoTLayerOutput, type MoTStreams, type MoTMixtureOfFlowOptions, type MoTExpertBlock } from './policy/mot-layer.js';
export { MoTBackbone, countBackboneParameters, type MoTBackboneOptions, type MoTBackboneCallOptions, type MoTBackboneOutput, type MoTBackboneMixtureOfFlowOptions, type BackboneParameterCount } from './policy/backbone.js';
export { BeingPolicy, type BeingPolicyOptions, type PolicyInputs, type PolicyRunOptions, type PolicyOutput, type SuffixFeatures } from './policy/policy.js';
export { collatePolicyBatch, observationBatch, SLOT_KIND, type BatchSpec, type CollatePolicyOptions, type PolicyBatch } from './policy/batch.js';
export type { ControlTiming, UnifiedVector, UnifiedChunk, Observation, ActionTaskSample, TextTaskSample, PolicySample, PolicyTask } from './policy/samples.js';
export { SlotwiseStateEncoder, SlotwiseActionEncoder, unifiedSlotSpans, perEmbodiment, type SlotwiseIOOptions } from './policy/esa-io.js';
export { policyLoss, type PolicyLossOptions, type PolicyLoss, type PolicyLossTerms, type PolicyLossCounts, type MaskedMotionInputs, type FlowMatchingDetails } from './policy/objective.js';
export { sampleActions, sampleActionsAsync, type SampleActionsOptions, type SampledActions } from './policy/sample.js';
export { FREEZE_PRESETS, freezePolicy, partOf, type FreezablePart, type FreezePreset } from './policy/freeze.js';
export { PolicyTrainer, type PolicyTrainerOptions, type TrainStepResult, type TrainStepTerms, type PolicyTrainerState, type FitOptions } from './policy/trainer.js';
export { ProgressDisplay, formatDuration, type ProgressOptions } from './policy/progress.js';
export { POLICY_CHECKPOINT_FORMAT, policyCheckpoint, serializePolicyCheckpoint, readPolicyCheckpoint, restorePolicyCheckpoint, policyFromCheckpoint, type PolicyCheckpoint, type ReadPolicyCheckpoint } from './policy/checkpoint.js';
