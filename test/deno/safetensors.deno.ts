// Run by test/nn/safetensors.test.ts: writes and reads safetensors bytes with the built package in Deno
// (the nn layer must not touch Node APIs). Prints one JSON line.
import { nn, tensor } from '../../dist/index.js';

const hex = (a: ArrayBufferView): string => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), (b) => b.toString(16).padStart(2, '0')).join('');
const x = tensor(Float32Array.from([0.1, -2.5, NaN, 65520]), { shape: [2, 2] });
const y = tensor([1, -2], { dtype: 'int32' });
const bytes = nn.serialize({ x, y }, { dtypes: { x: 'BF16', y: 'I64' }, metadata: { by: 'deno' } });
const back = nn.deserialize(bytes);
console.log(JSON.stringify({ runtime: 'Deno' in globalThis ? 'deno' : 'other', bytes: hex(bytes), values: hex(back.tensors['x']!.dataSync()) }));
