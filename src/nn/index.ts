/**
 * Neural-network modules, layers, losses and optimisers (built on the tensor layer).
 *
 * This layer's public API is exported here as it lands; it has no exports yet.
 * @module
 */
export {};
