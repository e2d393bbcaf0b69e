/**
 * The runtime's `PolicyLike` (§6) across the policy server, both ways: {@link servePolicyLike} puts a
 * policy behind a `PolicyServer`, and {@link RemotePolicy} is a `PolicyLike` whose chunks come from one,
 * so the real-time runtime can drive a policy on another machine. The committed prefix travels with each
 * request, so the server samples with rows i < d locked (Eq. 23) and the runtime stitches only rows
 * i ≥ d (Eq. 24), with d chosen by Eq. 22 on the client side, where latency is measured.
 *
 * The wire convention, on top of openpi's free-form maps ({@link REMOTE_POLICY_KEYS}):
 * - metadata: `chunk_length` (T), `action_dim` (D), `trained_max_delay` (d_max), plus anything given;
 * - observation: the policy's observation map, plus `delay` (d, an integer) and, when d > 0,
 *   `committed_prefix` (float32 [d, D], the rows the robot executes meanwhile);
 * - reply: `actions`, float32 [T, D] (openpi's key), rows i < d equal to the prefix.
 * @module
 */
import type { PolicyLike, SampleActionsOptions } from '../runtime/policy.js';
import { NdArray, NumpyScalar } from './ndarray.js';
import { describeValue } from './msgpack-numpy.js';
import type { Observation, ObservationSchema } from './observation-schema.js';
import type { PolicyClient } from './policy-client.js';
import type { ServedPolicy } from './served-policy.js';

/** The map keys of the remote-policy convention. */
export const REMOTE_POLICY_KEYS = {
  /** Observation: d, the declared delay (Eq. 22). */
  delay: 'delay',
  /** Observation: the committed prefix 𝓑_{<d}, float32 [d, D] (Eq. 23). */
  committedPrefix: 'committed_prefix',
  /** Reply: the chunk, float32 [T, D]. */
  actions: 'actions',
  /** Metadata: T. */
  chunkLength: 'chunk_length',
  /** Metadata: D. */
  actionDim: 'action_dim',
  /** Metadata: d_max, the largest delay the checkpoint was trained with. */
  trainedMaxDelay: 'trained_max_delay',
} as const;

/** Options of {@link servePolicyLike}. */
export interface ServePolicyLikeOptions<O> {
  /** Turns a validated observation (without `delay` and `committed_prefix`) into the policy's own type. Default: the map itself. */
  readonly toObservation?: (observation: Observation) => O;
  /** More metadata for clients (e.g. the embodiment, the checkpoint). */
  readonly metadata?: { readonly [key: string]: unknown };
}

/** What {@link servePolicyLike} gives: the `policy`, `metadata` and `schema` options of `PolicyServer.start`. */
export interface ServedPolicyLike {
  /** The adapter. */
  readonly policy: ServedPolicy;
  /** The given metadata plus T, D and d_max. */
  readonly metadata: { readonly [key: string]: unknown };
  /** `delay` (a number) and `committed_prefix` (float32 [*, D]), both optional; merge the policy's own keys into it. */
  readonly schema: ObservationSchema;
}

const asInteger = (v: unknown): number => (typeof v === 'number' ? v : v instanceof NumpyScalar && typeof v.value !== 'boolean' ? Number(v.value) : NaN);

function checkDelay(fn: string, delay: number, policy: Pick<PolicyLike, 'chunkLength' | 'trainedMaxDelay'>): void {
  if (!Number.isSafeInteger(delay) || delay < 0 || delay > policy.trainedMaxDelay || delay >= policy.chunkLength) {
    throw new RangeError(`${fn}: delay ${delay} is outside 0…${Math.min(policy.trainedMaxDelay, policy.chunkLength - 1)} (trained max delay ${policy.trainedMaxDelay}, chunk length ${policy.chunkLength})`);
  }
}

/**
 * Serves a runtime `PolicyLike`: each request's `delay` and `committed_prefix` become
 * `sampleActions`'s options (Eq. 23), the rest of the map its observation, and the chunk comes back as
 * `actions`. A delay beyond d_max or ≥ T, or a prefix without d rows, fails that request (`policy_error`).
 *
 * @example
 * const server = await PolicyServer.start({ ...servePolicyLike(policy, { toObservation }) });
 */
export function servePolicyLike<O>(policy: PolicyLike<O>, options: ServePolicyLikeOptions<O> = {}): ServedPolicyLike {
  const T = policy.chunkLength;
  const D = policy.actionDim;
  const K = REMOTE_POLICY_KEYS;
  const toObservation = options.toObservation ?? ((o: Observation) => o as unknown as O);
  const served: ServedPolicy = {
    async infer(observation) {
      const { [K.delay]: delayValue, [K.committedPrefix]: prefix, ...rest } = observation;
      const delay = delayValue === undefined ? 0 : asInteger(delayValue);
      checkDelay('servePolicyLike', delay, policy);
      let committedPrefix: Float32Array | null = null;
      if (delay > 0) {
        if (!(prefix instanceof NdArray) || prefix.dtype !== 'float32' || prefix.shape.length !== 2 || prefix.shape[0] !== delay || prefix.shape[1] !== D) {
          throw new RangeError(`servePolicyLike: delay ${delay} needs ${K.committedPrefix} float32 [${delay}, ${D}], got ${describeValue(prefix)}`);
        }
        committedPrefix = prefix.data as Float32Array;
      }
      const request: SampleActionsOptions = { committedPrefix, delay };
      const chunk = await policy.sampleActions(toObservation(rest), request);
      if (!(chunk instanceof Float32Array) || chunk.length !== T * D) {
        throw new RangeError(`servePolicyLike: sampleActions returned ${describeValue(chunk)}, expected a Float32Array of ${T} × ${D}`);
      }
      return { [K.actions]: new NdArray('float32', [T, D], chunk) };
    },
  };
  return {
    policy: served,
    metadata: { ...options.metadata, [K.chunkLength]: T, [K.actionDim]: D, [K.trainedMaxDelay]: policy.trainedMaxDelay },
    schema: {
      [K.delay]: { kind: 'number', optional: true },
      [K.committedPrefix]: { kind: 'ndarray', dtype: 'float32', shape: [null, D], optional: true },
    },
  };
}

/** Options of {@link RemotePolicy}. */
export interface RemotePolicyOptions<O> {
  /** Turns the runtime's observation into the map sent. Default: the observation itself (a map), or `{}` for `undefined`. */
  readonly toWire?: (observation: O) => { readonly [key: string]: unknown };
}

function metadataInt(client: PolicyClient, key: string): number {
  const v = asInteger(client.metadata[key]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`RemotePolicy: the server's metadata has no valid "${key}" (got ${describeValue(client.metadata[key])})`);
  return v;
}

/** A `PolicyLike` whose chunks come from a policy server that follows the {@link REMOTE_POLICY_KEYS} convention. */
export class RemotePolicy<O = { readonly [key: string]: unknown } | undefined> implements PolicyLike<O> {
  /** T, from the server's metadata. */
  readonly chunkLength: number;
  /** D, from the server's metadata. */
  readonly actionDim: number;
  /** d_max, from the server's metadata. */
  readonly trainedMaxDelay: number;
  /** The connection. */
  readonly client: PolicyClient;
  private readonly toWire: (observation: O) => { readonly [key: string]: unknown };

  /** Reads T, D and d_max from the client's metadata; throws when they are missing or invalid. */
  constructor(client: PolicyClient, options: RemotePolicyOptions<O> = {}) {
    const K = REMOTE_POLICY_KEYS;
    this.client = client;
    this.chunkLength = metadataInt(client, K.chunkLength);
    this.actionDim = metadataInt(client, K.actionDim);
    this.trainedMaxDelay = metadataInt(client, K.trainedMaxDelay);
    if (this.chunkLength < 1 || this.actionDim < 1) throw new Error(`RemotePolicy: chunk length ${this.chunkLength} and action dim ${this.actionDim} must be ≥ 1`);
    this.toWire = options.toWire ?? ((o: O) => (o ?? {}) as { readonly [key: string]: unknown });
  }

  /**
   * Sends the observation with d and the committed prefix, and resolves with the server's chunk
   * (T × D, row-major). Throws at once for a delay outside 0…min(d_max, T − 1) or a prefix that is not
   * d × D; rejects when `signal` aborts (the reply, when it comes, is dropped) or the server fails.
   */
  async sampleActions(observation: O, options: SampleActionsOptions): Promise<Float32Array> {
    const K = REMOTE_POLICY_KEYS;
    const { delay, committedPrefix, signal } = options;
    checkDelay('RemotePolicy.sampleActions', delay, this);
    const rows = delay * this.actionDim;
    if (delay > 0 ? committedPrefix?.length !== rows : committedPrefix !== null && committedPrefix.length !== 0) {
      throw new RangeError(`RemotePolicy.sampleActions: delay ${delay} needs a committed prefix of ${rows} values, got ${committedPrefix?.length ?? 'null'}`);
    }
    signal?.throwIfAborted();
    const wire = { ...this.toWire(observation), [K.delay]: delay, ...(delay > 0 ? { [K.committedPrefix]: new NdArray('float32', [delay, this.actionDim], committedPrefix!) } : {}) };
    const pending = this.client.infer(wire);
    const reply = signal === undefined ? await pending : await untilAborted(pending, signal);
    const actions = reply[K.actions];
    if (!(actions instanceof NdArray) || actions.dtype !== 'float32' || actions.shape.length !== 2 || actions.shape[0] !== this.chunkLength || actions.shape[1] !== this.actionDim) {
      throw new Error(`RemotePolicy.sampleActions: expected "${K.actions}" float32 [${this.chunkLength}, ${this.actionDim}], got ${describeValue(actions)}`);
    }
    return actions.data as Float32Array;
  }
}

// Settles with `pending`, or rejects as soon as `signal` aborts; leaves no listener behind either way.
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('RemotePolicy.sampleActions: aborted'));
    signal.addEventListener('abort', abort, { once: true });
    pending.then(
      (v) => (signal.removeEventListener('abort', abort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', abort), reject(e)),
    );
  });
}
