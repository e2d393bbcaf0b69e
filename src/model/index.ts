/**
 * The Being-H0.5 model machinery, equation by equation (built on nn and tensor): the unified
 * state-action space, sequence packing and masks, rectified flow matching, motion tokens,
 * embodiment-specific adapters, Manifold-Preserving Gating, UAC training and Mixture of Flow.
 * @module
 */
export {};
