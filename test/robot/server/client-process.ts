// A policy client in its own process, for policy-server.test.ts (not a test file itself):
//
//     node build/test/robot/server/client-process.js <url> <client id> <requests> [api key]
//
// Connects with the built `connectPolicyClient`, sends <requests> observations (arrays of several dtypes
// and odd shapes, 0-d and empty ones, NaN and -0 included, a prompt, its id and sequence number) without
// waiting for replies in between, and prints one JSON line: the metadata, what it sent and what came back,
// all in the comparable form of helpers.ts. Exits 1 on any failure, with the error on stderr.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectPolicyClient } from '../../../src/node/index.js';
import { NdArray } from '../../../src/robot/index.js';
import { normalize } from './helpers.js';

/** The observation client `id` sends as request `seq` (deterministic, so the server side can check it too). */
export function observationFor(id: number, seq: number): Record<string, unknown> {
  let s = (id * 7919 + seq * 104729 + 1) >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const state = Float32Array.from({ length: 14 }, () => next() * 4 - 2);
  state[3] = NaN;
  state[5] = -0;
  return {
    client: id,
    seq,
    'observation/image': NdArray.fromValues('uint8', [5, 4, 3], Array.from({ length: 60 }, () => Math.floor(next() * 256))),
    'observation/state': new NdArray('float32', [14], state),
    f64_0d: NdArray.fromValues('float64', [], [next() - 0.5]),
    i32: NdArray.fromValues('int32', [3, 1, 2], Array.from({ length: 6 }, () => Math.floor(next() * 2 ** 32) - 2 ** 31)),
    empty: NdArray.zeros('float32', [0, 4]),
    mask: NdArray.fromValues('bool', [7], Array.from({ length: 7 }, () => next() < 0.5)),
    prompt: `client ${id} step ${seq}`,
  };
}

async function main(): Promise<void> {
  const [url, idText, countText, apiKey] = process.argv.slice(2);
  if (url === undefined || idText === undefined || countText === undefined) throw new Error('usage: client-process.js <url> <id> <requests> [api key]');
  const id = Number(idText);
  const count = Number(countText);
  const client = await connectPolicyClient(url, { apiKey, connectTimeoutMs: 10_000, requestTimeoutMs: 15_000 });
  const sent = Array.from({ length: count }, (_, seq) => observationFor(id, seq));
  const replies = await Promise.all(sent.map((o) => client.infer(o)));
  await client.close();
  process.stdout.write(`${JSON.stringify({ metadata: normalize(client.metadata), sent: sent.map(normalize), replies: replies.map(normalize) })}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    process.stderr.write(`client-process: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    process.exit(1);
  });
}
