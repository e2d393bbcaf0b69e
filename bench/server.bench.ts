/**
 * Policy-server round-trip latency: a typical observation (two 224×224×3 uint8 images, a 14-dim float32
 * state and a prompt, ≈ 301 KB of msgpack) sent by a `PolicyClient` to a `PolicyServer` on 127.0.0.1,
 * answered by a trivial policy (a zero action chunk, float32 [50, 14]). A round trip is: encode, send,
 * server decode and validation against a schema, policy, encode reply, send, client decode.
 *
 *     npm run build:all && node build/bench/server.bench.js            # 2000 round trips per case
 *     npm run build:all && node build/bench/server.bench.js --quick    # 300
 *
 * Cases: the client in a worker thread (its own event loop, as a separate client would be) and in the
 * server's own thread; plus the codec alone (encode and decode of the observation, no socket), to show
 * how much of a round trip is serialisation. Figures are p50, p99 and mean over sequential round trips,
 * after a warm-up.
 * @module
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { connectPolicyClient, PolicyServer } from '../src/node/index.js';
import { NdArray, packMsgpackNumpy, unpackMsgpackNumpy, decodeObservation, type ObservationSchema } from '../src/robot/index.js';
import { formatNumber, formatTable } from './harness.js';

const SCHEMA: ObservationSchema = {
  'observation/image': { kind: 'ndarray', dtype: 'uint8', shape: [224, 224, 3] },
  'observation/wrist_image': { kind: 'ndarray', dtype: 'uint8', shape: [224, 224, 3] },
  'observation/state': { kind: 'ndarray', dtype: 'float32', shape: [14] },
  prompt: { kind: 'string' },
};

function observation(): Record<string, unknown> {
  const image = (seed: number): NdArray => NdArray.fromValues('uint8', [224, 224, 3], Array.from({ length: 224 * 224 * 3 }, (_, i) => (i * seed) & 255));
  return {
    'observation/image': image(7),
    'observation/wrist_image': image(13),
    'observation/state': NdArray.fromValues('float32', [14], Array.from({ length: 14 }, (_, i) => Math.sin(i))),
    prompt: 'pick up the red cube and place it in the bowl',
  };
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}
function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}

/** Sequential round trips from a client; returns each one's milliseconds. */
async function roundTrips(url: string, warmup: number, n: number): Promise<number[]> {
  const client = await connectPolicyClient(url);
  const obs = observation();
  for (let i = 0; i < warmup; i++) await client.infer(obs);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await client.infer(obs);
    times.push(performance.now() - t);
  }
  await client.close();
  return times;
}

function inWorker(url: string, warmup: number, n: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { url, warmup, n } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const n = quick ? 300 : 2000;
  const warmup = quick ? 30 : 200;
  const actions = NdArray.zeros('float32', [50, 14]);
  const server = await PolicyServer.start({ schema: SCHEMA, metadata: { policy: 'zeros' }, policy: { infer: () => ({ actions }) } });
  const obs = observation();
  const frame = packMsgpackNumpy(obs);
  const rows: string[][] = [];
  const row = (name: string, s: Stats): void => {
    rows.push([name, formatNumber(s.p50, 3), formatNumber(s.p99, 3), formatNumber(s.mean, 3), String(s.n)]);
  };
  try {
    console.log(`observation frame: ${frame.length} bytes; ${n} round trips per case after ${warmup} warm-up`);
    row('round trip, client in a worker thread', stats(await inWorker(server.url, warmup, n)));
    row('round trip, client in the server thread', stats(await roundTrips(server.url, warmup, n)));
    const enc: number[] = [];
    const dec: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      let t = performance.now();
      const bytes = packMsgpackNumpy(obs);
      const te = performance.now() - t;
      t = performance.now();
      decodeObservation(bytes, { maxFrameBytes: 1 << 24, schema: SCHEMA });
      unpackMsgpackNumpy(packMsgpackNumpy({ actions }));
      if (i >= warmup) {
        enc.push(te);
        dec.push(performance.now() - t);
      }
    }
    row('codec: encode observation', stats(enc));
    row('codec: decode + validate observation, action reply round trip', stats(dec));
  } finally {
    await server.close();
  }
  console.log(`\nPolicy server round trip (Node ${process.version}, actions float32 [50, 14])\n`);
  console.log(formatTable(['case', 'p50 ms', 'p99 ms', 'mean ms', 'n'], rows));
}

if (isMainThread) {
  await main();
} else {
  const { url, warmup, n } = workerData as { url: string; warmup: number; n: number };
  parentPort!.postMessage(await roundTrips(url, warmup, n));
}
