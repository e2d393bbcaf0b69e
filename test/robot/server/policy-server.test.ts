// The openpi-protocol policy server end to end: metadata first; observations round-trip byte for byte
// from clients in other processes, several at once, each answered in order; clients take turns for the
// policy; every bad frame gets an error reply with its rule's code while the connection and other clients
// keep working; API keys; /healthz; overload; graceful shutdown; the client against an openpi-style
// server that answers errors with a traceback text frame. Servers bind 127.0.0.1 on ephemeral ports.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as referenceEncode } from '@msgpack/msgpack';
import { WebSocketServer } from 'ws';
import { PolicyServer, connectPolicyClient, type PolicyServerOptions } from '../../../src/node/index.js';
import { NdArray, PolicyProtocolError, packMsgpackNumpy, parseErrorFrame, unpackMsgpackNumpy, type Observation, type ObservationSchema, type ServedPolicy } from '../../../src/robot/index.js';
import { observationFor } from './client-process.js';
import { RawClient, gate, normalize, waitFor, within } from './helpers.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./client-process.js', import.meta.url));
// The compiled test lives in build/test/robot/server/.
const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..');
const METADATA = { policy: 'echo', action_horizon: 2, norm_stats: NdArray.fromValues('float64', [3], [0.5, -1, 2.25]) };

interface ProcessResult {
  metadata: unknown;
  sent: unknown[];
  replies: { echo: unknown; actions: unknown; server_timing: { infer_ms: unknown } }[];
}

/**
 * Runs `args` with Node in a child process and resolves with its last stdout line, parsed. The child
 * gets its own process group, and the whole group (e.g. the Deno binary under its Node launcher) is
 * killed after 25 s, so a stuck grandchild cannot hold the pipes open and the test always ends.
 */
function runJsonProcess<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      reject(new Error(`${args.join(' ')} did not finish within 25 s: ${stderr}`));
    }, 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
    });
  });
}

/** Runs client-process.js in a child Node process; resolves with its JSON report. */
function runClientProcess(url: string, id: number, requests: number, apiKey?: string): Promise<ProcessResult> {
  return runJsonProcess([CLIENT_SCRIPT, url, String(id), String(requests), ...(apiKey ? [apiKey] : [])]);
}

/** Every test stops by itself: a per-test timeout, and clients whose requests time out. */
const T = { timeout: 30_000 };
const connect = (url: string, options: Parameters<typeof connectPolicyClient>[1] = {}): ReturnType<typeof connectPolicyClient> =>
  connectPolicyClient(url, { connectTimeoutMs: 10_000, requestTimeoutMs: 10_000, ...options });

const actionsFor = (obs: Observation): NdArray => NdArray.fromValues('float32', [2, 3], [Number(obs.seq ?? 0), Number(obs.client ?? 0), 0.5, 1, 2, 3]);

/** Answers with the observation itself and a small action chunk; records what it saw. */
function echoPolicy(seen: Observation[] = []): ServedPolicy {
  return {
    infer: (obs) => {
      seen.push(obs);
      return { echo: obs, actions: actionsFor(obs) };
    },
  };
}

async function withServer(options: Partial<PolicyServerOptions> & { policy: ServedPolicy }, body: (server: PolicyServer) => Promise<void>): Promise<void> {
  const server = await PolicyServer.start({ metadata: METADATA, ...options });
  try {
    await body(server);
  } finally {
    await within(server.close({ timeoutMs: 2000 }), 5000, 'the server to close');
  }
}

function checkProcessResult(r: ProcessResult, id: number, requests: number, seen: Observation[]): void {
  assert.deepStrictEqual(r.metadata, normalize(METADATA));
  assert.equal(r.replies.length, requests);
  const mine = seen.filter((o) => o.client === id);
  for (let seq = 0; seq < requests; seq++) {
    const expected = normalize(observationFor(id, seq));
    assert.deepStrictEqual(r.sent[seq], expected, 'the child sent the agreed observation');
    assert.deepStrictEqual(normalize(mine[seq]), expected, 'the policy saw it, in order');
    assert.deepStrictEqual(r.replies[seq]!.echo, expected, 'the reply came back to the right request');
    assert.deepStrictEqual(r.replies[seq]!.actions, normalize(actionsFor(mine[seq]!)));
    assert.equal(typeof r.replies[seq]!.server_timing.infer_ms, 'number');
  }
}

describe('policy server: protocol', () => {
  test('the metadata map is the first frame, binary, before any request', T, async () => {
    await withServer({ policy: echoPolicy() }, async (server) => {
      const raw = new RawClient(server.url);
      const first = await raw.next();
      assert.equal(first.binary, true);
      assert.deepStrictEqual(normalize(unpackMsgpackNumpy(first.bytes)), normalize(METADATA));
      await raw.close();
      const client = await connect(server.url);
      assert.deepStrictEqual(normalize(client.metadata), normalize(METADATA));
      await client.close();
    });
  });

  test('a client in another process round-trips observations (float32/float64/int32/uint8/bool, 0-d and empty arrays, NaN, -0) in order', T, async () => {
    const seen: Observation[] = [];
    await withServer({ policy: echoPolicy(seen) }, async (server) => {
      const r = await runClientProcess(server.url, 1, 6);
      checkProcessResult(r, 1, 6, seen);
    });
  });

  test('several clients at once, in other processes: each is answered in its own order, and no more than maxConcurrent calls run at once', T, async () => {
    const seen: Observation[] = [];
    let inFlight = 0;
    let most = 0;
    const policy: ServedPolicy = {
      infer: async (obs) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return echoPolicy(seen).infer(obs);
      },
    };
    await withServer({ policy, maxConcurrent: 2 }, async (server) => {
      const ids = [11, 12, 13, 14];
      const results = await Promise.all(ids.map((id) => runClientProcess(server.url, id, 6)));
      ids.forEach((id, k) => checkProcessResult(results[k]!, id, 6, seen));
      assert.equal(seen.length, 24);
      assert.ok(most >= 1 && most <= 2, `at most 2 calls at once, saw ${most}`);
    });
  });

  test('clients take turns: with one policy slot, a second client is served before the first client’s backlog', T, async () => {
    const order: string[] = [];
    const hold = gate();
    const policy: ServedPolicy = {
      infer: async (obs) => {
        order.push(String(obs.prompt));
        if (obs.prompt === 'A0') await hold.wait;
        return { ok: true };
      },
    };
    await withServer({ policy, maxConcurrent: 1 }, async (server) => {
      const a = await connect(server.url);
      const b = await connect(server.url);
      const fromA = ['A0', 'A1', 'A2'].map((prompt) => a.infer({ prompt }));
      await waitFor(() => order.length === 1, 5000, 'A0 to reach the policy');
      const fromB = b.infer({ prompt: 'B0' });
      await waitFor(() => server.pendingRequests === 4, 5000, 'all four requests to arrive');
      hold.open();
      await within(Promise.all([...fromA, fromB]), 5000, 'the replies');
      assert.deepStrictEqual(order, ['A0', 'B0', 'A1', 'A2']);
      await a.close();
      await b.close();
    });
  });
});

describe('policy server: bad frames', () => {
  const schema: ObservationSchema = {
    'observation/state': { kind: 'ndarray', dtype: 'float32', shape: [null] },
    'observation/image': { kind: 'ndarray', dtype: 'uint8', shape: [4, 4, 3] },
  };
  const valid = { 'observation/state': NdArray.zeros('float32', [14]), 'observation/image': NdArray.zeros('uint8', [4, 4, 3]) };

  test('each bad frame gets an error reply with its code and frame index; the connection and a second client keep working', T, async () => {
    const badFrames: [string, Uint8Array | string][] = [
      ['not_binary', '{"observation/state": [1, 2]}'],
      ['not_msgpack', new Uint8Array([0xc1, 0x00])],
      ['not_a_map', packMsgpackNumpy([valid])],
      ['missing_key', packMsgpackNumpy({ 'observation/state': valid['observation/state'] })],
      ['wrong_dtype', packMsgpackNumpy({ ...valid, 'observation/state': NdArray.zeros('float64', [14]) })],
      ['wrong_shape', packMsgpackNumpy({ ...valid, 'observation/image': NdArray.zeros('uint8', [4, 4, 4]) })],
      ['wrong_type', packMsgpackNumpy({ ...valid, 'observation/image': 'pixels' })],
      ['invalid_ndarray', referenceEncode({ ...valid, 'observation/state': { __ndarray__: true, data: new Uint8Array(5), dtype: '<f4', shape: [2] } })],
      ['frame_too_large', packMsgpackNumpy({ ...valid, extra: NdArray.zeros('uint8', [5000]) })],
    ];
    await withServer({ policy: echoPolicy(), schema, maxFrameBytes: 4096, maxPayloadBytes: 64 * 1024 }, async (server) => {
      const bad = new RawClient(server.url);
      assert.equal((await bad.next()).binary, true, 'metadata first');
      const good = await connect(server.url);
      for (const [i, [code, frame]] of badFrames.entries()) {
        bad.send(frame);
        const reply = await bad.next();
        assert.equal(reply.binary, false, `${code}: error replies are text frames`);
        const error = parseErrorFrame(reply.text);
        assert.equal(error.code, code, error.message);
        assert.equal(error.frame, i);
        const ok = await good.infer(valid);
        assert.ok(ok.actions instanceof NdArray, 'the other client is still served');
      }
      bad.send(packMsgpackNumpy(valid));
      const after = await bad.next();
      assert.equal(after.binary, true, 'the bad client itself is still served');
      assert.deepStrictEqual(normalize((unpackMsgpackNumpy(after.bytes) as { echo: unknown }).echo), normalize(valid));
      // Beyond the transport bound the frame is not read: the connection closes with 1009.
      bad.send(new Uint8Array(70 * 1024));
      assert.equal((await within(bad.closed, 5000, 'the 1009 close')).code, 1009);
      assert.ok((await good.infer(valid)).actions instanceof NdArray);
      await waitFor(() => server.connectionCount === 1, 5000, 'the closed connection to be dropped');
      await good.close();
    });
  });

  test('a policy that throws or returns a non-map answers that request with policy_error; the next request succeeds', T, async () => {
    const policy: ServedPolicy = {
      infer: (obs) => {
        if (obs.prompt === 'throw') throw new Error('no grasp found');
        if (obs.prompt === 'list') return [1, 2] as never;
        return { actions: NdArray.zeros('float32', [1, 2]) };
      },
    };
    await withServer({ policy }, async (server) => {
      const client = await connect(server.url);
      for (const [n, prompt] of ['throw', 'list'].entries()) {
        await assert.rejects(client.infer({ prompt }), (e: unknown) => e instanceof PolicyProtocolError && e.code === 'policy_error' && e.frame === 2 * n);
        assert.ok((await client.infer({ prompt: 'fine' })).actions instanceof NdArray);
      }
      await client.close();
    });
  });

  test('too many waiting requests on one connection get overloaded, in their place in the order; a flood of frames closes it with 1008', T, async () => {
    const hold = gate();
    let held = hold.wait;
    const policy: ServedPolicy = { infer: async () => (await held, { ok: true }) };
    await withServer({ policy, maxPendingPerConnection: 2 }, async (server) => {
      const client = await connect(server.url);
      const settled: string[] = [];
      const replies = [0, 1, 2, 3].map((i) =>
        client.infer({ i }).then(
          () => settled.push(`${i}:ok`),
          (e: PolicyProtocolError) => settled.push(`${i}:${e.code}`),
        ),
      );
      await waitFor(() => server.pendingRequests === 4, 5000, 'four requests to arrive');
      hold.open();
      await within(Promise.all(replies), 5000, 'the replies');
      assert.deepStrictEqual(settled, ['0:ok', '1:ok', '2:overloaded', '3:overloaded']);
      await client.close();
      // A client that keeps sending while 4 × the limit of its frames wait is cut off (1008).
      const hold2 = gate();
      held = hold2.wait;
      const raw = new RawClient(server.url);
      await raw.next();
      raw.send(packMsgpackNumpy({ i: 0 }));
      await waitFor(() => server.pendingRequests === 1, 5000, 'the first request to arrive');
      for (let i = 0; i < 8; i++) raw.send('not binary');
      assert.equal((await within(raw.closed, 5000, 'the 1008 close')).code, 1008);
      hold2.open();
    });
  });
});

describe('policy server: access and lifecycle', () => {
  test('with an API key: no key or a wrong key is refused with 401; the header, the query parameter and another process with the key get in', T, async () => {
    const seen: Observation[] = [];
    await withServer({ policy: echoPolicy(seen), apiKey: 's3cret-key' }, async (server) => {
      for (const apiKey of [undefined, 'wrong-key']) {
        await assert.rejects(connect(server.url, { apiKey }), (e: unknown) => e instanceof PolicyProtocolError && e.code === 'connection_failed' && /401/.test(e.message));
      }
      assert.equal(server.connectionCount, 0);
      const client = await connect(server.url, { apiKey: 's3cret-key' });
      assert.deepStrictEqual(normalize(client.metadata), normalize(METADATA));
      await client.close();
      const viaQuery = new RawClient(`${server.url}/?api_key=s3cret-key`);
      assert.equal((await viaQuery.next()).binary, true);
      await viaQuery.close();
      checkProcessResult(await runClientProcess(server.url, 7, 2, 's3cret-key'), 7, 2, seen);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
    });
  });

  test('/healthz answers 200 OK on the WebSocket port; other plain HTTP requests get 426', T, async () => {
    await withServer({ policy: echoPolicy() }, async (server) => {
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'OK\n');
      const other = await fetch(`http://127.0.0.1:${server.port}/infer`);
      assert.equal(other.status, 426);
      await other.text();
    });
  });

  test('graceful shutdown: requests already received are answered, new frames get shutting_down, clients see 1001, then the port is released', T, async () => {
    const hold = gate();
    const policy: ServedPolicy = { infer: async (obs) => (await hold.wait, { seq: obs.seq as number }) };
    const server = await PolicyServer.start({ policy });
    const raw = new RawClient(server.url);
    try {
      const client = await connect(server.url);
      await raw.next();
      const replies = [0, 1].map((seq) => client.infer({ seq }));
      await waitFor(() => server.pendingRequests === 2, 5000, 'two requests to arrive');
      const closing = server.close({ timeoutMs: 5000 });
      assert.notEqual((await fetch(`http://127.0.0.1:${server.port}/healthz`).catch(() => ({ status: 'refused' }))).status, 200);
      raw.send(packMsgpackNumpy({ seq: 9 }));
      assert.equal(parseErrorFrame((await raw.next()).text).code, 'shutting_down');
      hold.open();
      assert.deepStrictEqual((await within(Promise.all(replies), 5000, 'the replies')).map((r) => r.seq), [0, 1]);
      assert.equal((await within(raw.closed, 5000, 'the close')).code, 1001);
      await within(closing, 5000, 'close() to resolve');
      assert.equal(client.closed, true);
      await assert.rejects(connect(server.url, { connectTimeoutMs: 2000 }), (e: unknown) => e instanceof PolicyProtocolError && e.code === 'connection_failed');
    } finally {
      hold.open();
      raw.ws.terminate();
      await within(server.close({ timeoutMs: 1000 }), 5000, 'the server to close');
    }
  });
});

describe('policy client', () => {
  test('the built client runs on a browser-standard WebSocket (Deno\'s), sending the API key as a query parameter', T, async (t) => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'robot', 'server', 'policy-client.js'))) {
      t.skip('dist/ is not built (npm run build)');
      return;
    }
    const denoBin = createRequire(import.meta.url).resolve('deno/bin.cjs');
    await withServer({ policy: echoPolicy(), apiKey: 'browser-key' }, async (server) => {
      const out = await runJsonProcess<Record<string, unknown>>([denoBin, 'run', '--quiet', '--allow-read', '--allow-net=127.0.0.1', 'test/deno/policy-client.deno.ts', server.url, 'browser-key']);
      const state = new NdArray('float32', [3, 1], Float32Array.from([0.5, -0, NaN]));
      const obs = { state, flag: NdArray.fromValues('bool', [], [true]), prompt: 'from deno' };
      assert.equal(out.runtime, 'deno');
      assert.equal(out.metadata, METADATA.policy);
      assert.deepStrictEqual(out.actions, (normalize(actionsFor(obs)) as { $ndarray: unknown }).$ndarray);
      assert.deepStrictEqual(out.state, (normalize(state) as { $ndarray: unknown }).$ndarray);
      assert.deepStrictEqual(out.flag, (normalize(obs.flag) as { $ndarray: unknown }).$ndarray);
      assert.equal(out.prompt, 'from deno');
    });
  });

  test('requestTimeoutMs fails a waiting request with timeout and closes the connection', T, async () => {
    const hold = gate();
    await withServer({ policy: { infer: async () => (await hold.wait, {}) } }, async (server) => {
      const client = await connect(server.url, { requestTimeoutMs: 50 });
      const two = [client.infer({}), client.infer({})];
      for (const p of two) await assert.rejects(p, (e: unknown) => e instanceof PolicyProtocolError && e.code === 'timeout');
      assert.equal(client.closed, true);
      await assert.rejects(client.infer({}), (e: unknown) => e instanceof PolicyProtocolError);
      hold.open();
    });
  });

  test('against an openpi-style server (traceback text frame, then close 1011) the request fails with server_error and the rest with connection_closed', T, async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => {
      ws.send(packMsgpackNumpy({ from: 'python' }));
      ws.once('message', () => {
        ws.send('Traceback (most recent call last):\n  File "policy.py", line 1\nValueError: bad input');
        ws.close(1011, 'Internal server error. Traceback included in previous frame.');
      });
    });
    try {
      const { port } = wss.address() as { port: number };
      const client = await connect(`127.0.0.1:${port}`);
      assert.deepStrictEqual(client.metadata, { from: 'python' });
      const first = client.infer({ x: 1 });
      const second = client.infer({ x: 2 });
      await assert.rejects(first, (e: unknown) => e instanceof PolicyProtocolError && e.code === 'server_error' && /ValueError: bad input/.test(e.message));
      await assert.rejects(second, (e: unknown) => e instanceof PolicyProtocolError && e.code === 'connection_closed' && /1011/.test(e.message));
      assert.equal(client.closed, true);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});
