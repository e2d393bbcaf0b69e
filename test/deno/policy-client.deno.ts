// Run by test/robot/server/policy-server.test.ts: the built policy client with Deno's native,
// browser-standard WebSocket (no `ws`, no Node APIs; the API key travels as the `api_key` query
// parameter, as from a browser). Args: <url> <api key>. Prints one JSON line.
import { robot } from '../../dist/index.js';

const [url, apiKey] = Deno.args;
const hex = (a: ArrayBufferView): string => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), (b) => b.toString(16).padStart(2, '0')).join('');
const client = await robot.PolicyClient.connect(url!, { apiKey, connectTimeoutMs: 15_000, requestTimeoutMs: 15_000 });
const state = new robot.NdArray('float32', [3, 1], Float32Array.from([0.5, -0, NaN]));
const reply = await client.infer({ state, flag: robot.NdArray.fromValues('bool', [], [true]), prompt: 'from deno' });
const echo = reply.echo as Record<string, robot.NdArray>;
const actions = reply.actions as robot.NdArray;
await client.close();
console.log(JSON.stringify({
  runtime: 'Deno' in globalThis ? 'deno' : 'other',
  metadata: client.metadata.policy,
  actions: { dtype: actions.dtype, shape: actions.shape, hex: hex(actions.data) },
  state: { dtype: echo.state!.dtype, shape: echo.state!.shape, hex: hex(echo.state!.data) },
  flag: { dtype: echo.flag!.dtype, shape: echo.flag!.shape, hex: hex(echo.flag!.data) },
  prompt: reply.echo && (reply.echo as Record<string, unknown>).prompt,
}));
