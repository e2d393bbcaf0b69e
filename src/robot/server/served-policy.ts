/**
 * What a policy server serves: openpi's `BasePolicy.infer(obs) -> dict`, an observation map in and an
 * action map out (e.g. `{ actions: NdArray float32 [horizon, actionDim] }`).
 * @module
 */
import type { Observation } from './observation-schema.js';

/** A map a policy returns: values that `packMsgpackNumpy` can encode (NdArray, numbers, strings, nested maps, …). */
export type PolicyOutput = { readonly [key: string]: unknown };

/** A policy behind a server: one observation in, one action map out (synchronously or not). */
export interface ServedPolicy {
  /** Runs the policy on one validated observation. A throw becomes a `policy_error` reply to that request only. */
  infer(observation: Observation): PolicyOutput | Promise<PolicyOutput>;
}
