/**
 * The Being-H0.5 model machinery, equation by equation (built on nn and tensor).
 *
 * This layer's public API is exported here as it lands; it has no exports yet.
 * @module
 */
export {};
