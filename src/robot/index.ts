/**
 * Embodiments, robot drivers and the real-time runtime (built on model, nn and tensor).
 *
 * This layer's public API is exported here as it lands; it has no exports yet.
 * @module
 */
export {};
