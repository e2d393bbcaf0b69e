// The runtime's PolicyLike across the policy server (§6): a remote stand-in policy gives the same chunks,
// bit for bit, as a local one with the same seed, and keeps the committed prefix (Eq. 23); delays beyond
// what the checkpoint was trained for and malformed prefixes are refused per request; RemotePolicy reads
// T, D and d_max from the metadata and gives up on abort.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyServer, connectPolicyClient } from '../../../src/node/index.js';
import { NdArray, PolicyProtocolError, REMOTE_POLICY_KEYS, RemotePolicy, servePolicyLike, type Observation } from '../../../src/robot/index.js';
import { StandInPolicy, type StandInObservation } from '../../../src/robot/runtime/index.js';
import { gate, hex, within } from './helpers.js';

const T = { timeout: 30_000 };
const CONFIG = { chunkLength: 8, actionDim: 3, trainedMaxDelay: 3, maxStep: 0.1, seed: 42 };
const connect = (url: string): ReturnType<typeof connectPolicyClient> => connectPolicyClient(url, { connectTimeoutMs: 10_000, requestTimeoutMs: 10_000 });
const toObservation = (o: Observation): StandInObservation => (o.state instanceof NdArray ? { state: Array.from(o.state.data as Float32Array) } : {});
const toWire = (o: StandInObservation | undefined): Record<string, unknown> => (o?.state ? { state: NdArray.from(Float32Array.from(o.state)) } : {});

async function withRemote(body: (remote: RemotePolicy<StandInObservation | undefined>, server: PolicyServer) => Promise<void>): Promise<void> {
  const served = servePolicyLike(new StandInPolicy(CONFIG), { toObservation, metadata: { embodiment: 'test-arm' } });
  const server = await PolicyServer.start({ ...served });
  const client = await connect(server.url);
  try {
    await body(new RemotePolicy(client, { toWire }), server);
  } finally {
    await client.close();
    await within(server.close({ timeoutMs: 1000 }), 5000, 'the server to close');
  }
}

const rows = (chunk: Float32Array, from: number, to: number, D: number): Float32Array => chunk.slice(from * D, to * D);

describe('remote policy (§6 across the server)', () => {
  test('Eq. 23 over the wire: the remote chunks equal a local twin’s bit for bit, and rows i < d are the committed prefix', T, async () => {
    const local = new StandInPolicy(CONFIG);
    await withRemote(async (remote) => {
      assert.equal(remote.chunkLength, CONFIG.chunkLength);
      assert.equal(remote.actionDim, CONFIG.actionDim);
      assert.equal(remote.trainedMaxDelay, CONFIG.trainedMaxDelay);
      assert.equal(remote.client.metadata.embodiment, 'test-arm');
      const D = CONFIG.actionDim;
      let previous: Float32Array | undefined;
      for (const delay of [0, 2, 3, 1, 0]) {
        const observation: StandInObservation = { state: [0.25, -0.5, 0.125] };
        const committedPrefix = delay === 0 ? null : rows(previous!, 4, 4 + delay, D);
        const there = await remote.sampleActions(observation, { delay, committedPrefix });
        const here = await local.sampleActions(observation, { delay, committedPrefix });
        assert.equal(hex(there), hex(here), `delay ${delay}`);
        if (committedPrefix) assert.equal(hex(rows(there, 0, delay, D)), hex(committedPrefix), 'the prefix is kept');
        previous = there;
      }
    });
  });

  test('delays beyond d_max or ≥ T and prefixes without d × D rows are refused, per request, on both sides', T, async () => {
    await withRemote(async (remote) => {
      const code = async (wire: Record<string, unknown>): Promise<string> => {
        try {
          await remote.client.infer(wire);
          return 'ok';
        } catch (e) {
          assert.ok(e instanceof PolicyProtocolError, String(e));
          return e.code;
        }
      };
      const K = REMOTE_POLICY_KEYS;
      assert.equal(await code({ [K.delay]: CONFIG.trainedMaxDelay + 1, [K.committedPrefix]: NdArray.zeros('float32', [4, 3]) }), 'policy_error');
      assert.equal(await code({ [K.delay]: 2, [K.committedPrefix]: NdArray.zeros('float32', [1, 3]) }), 'policy_error');
      assert.equal(await code({ [K.delay]: 2 }), 'policy_error');
      assert.equal(await code({ [K.delay]: 2, [K.committedPrefix]: NdArray.zeros('float32', [2, 4]) }), 'wrong_shape');
      assert.equal(await code({ [K.delay]: 2, [K.committedPrefix]: NdArray.zeros('float64', [2, 3]) }), 'wrong_dtype');
      assert.equal(await code({ [K.delay]: 'two' }), 'wrong_type');
      assert.equal(await code({ [K.delay]: 2, [K.committedPrefix]: NdArray.zeros('float32', [2, 3]) }), 'ok');
      await assert.rejects(remote.sampleActions(undefined, { delay: CONFIG.trainedMaxDelay + 1, committedPrefix: new Float32Array(12) }), RangeError);
      await assert.rejects(remote.sampleActions(undefined, { delay: 2, committedPrefix: new Float32Array(5) }), RangeError);
      assert.equal((await remote.sampleActions(undefined, { delay: 0, committedPrefix: null })).length, CONFIG.chunkLength * CONFIG.actionDim);
    });
  });

  test('RemotePolicy refuses a server whose metadata lacks T, D or d_max', T, async () => {
    const server = await PolicyServer.start({ metadata: { chunk_length: 8, action_dim: 3 }, policy: { infer: () => ({}) } });
    try {
      const client = await connect(server.url);
      assert.throws(() => new RemotePolicy(client), /trained_max_delay/);
      await client.close();
    } finally {
      await server.close({ timeoutMs: 1000 });
    }
  });

  test('an aborted signal rejects sampleActions without waiting for the reply', T, async () => {
    const hold = gate();
    const served = servePolicyLike({ ...CONFIG, sampleActions: async () => (await hold.wait, new Float32Array(24)) });
    const server = await PolicyServer.start({ ...served });
    try {
      const remote = new RemotePolicy(await connect(server.url));
      const controller = new AbortController();
      const pending = remote.sampleActions(undefined, { delay: 0, committedPrefix: null, signal: controller.signal });
      controller.abort(new Error('runtime stopped'));
      await assert.rejects(within(pending, 5000, 'the abort'), /runtime stopped/);
      hold.open();
      assert.equal((await remote.sampleActions(undefined, { delay: 0, committedPrefix: null })).length, 24, 'the connection stays usable');
      await remote.client.close();
    } finally {
      hold.open();
      await server.close({ timeoutMs: 1000 });
    }
  });
});
