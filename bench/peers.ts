/**
 * Peers the benchmarks compare against that live outside the JS packages already used: numpy (through
 * `bench/numpy_peer.py`, run once per benchmark with `python3`) and onnxruntime-node (its CPU execution
 * provider). Each loader gives either the peer or the reason it is missing, which the benchmark prints
 * before skipping that column.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What one run of `numpy_peer.py` measured: seconds per op by case name, and a description. */
export interface NumpyTimes {
  /** Seconds per operation, by case name (`matmul A·B n=256`, `a + b n=1048576`, …). */
  readonly seconds: Map<string, number>;
  /** numpy's version, its BLAS and the thread count, for the header. */
  readonly about: string;
}

/** The request `numpy_peer.py` reads (see its docstring). */
export interface NumpySpec {
  threads: number;
  budget?: number;
  matmul?: { n: number; layout: string }[];
  elementwise?: { op: string; n: number }[];
}

/** Times `spec` with numpy; a string (the reason) when python3 or numpy is missing or the run fails. */
export function numpyTimes(spec: NumpySpec): NumpyTimes | string {
  const script = fileURLToPath(new URL('../../bench/numpy_peer.py', import.meta.url));
  const r = spawnSync('python3', [script, JSON.stringify(spec)], { encoding: 'utf8', timeout: 600_000 });
  if (r.error !== undefined) return `python3 could not be run (${r.error.message})`;
  if (r.status !== 0) {
    const err = r.stderr.trim().split('\n').at(-1) ?? '';
    return /No module named .?numpy/.test(r.stderr) ? 'python3 has no numpy (apt-get install python3-numpy)' : `numpy_peer.py failed: ${err}`;
  }
  const out = JSON.parse(r.stdout) as { numpy: string; blas: string; threads: number; results: Record<string, number> };
  return { seconds: new Map(Object.entries(out.results)), about: `numpy ${out.numpy} (${out.blas}, ${out.threads} thread${out.threads === 1 ? '' : 's'})` };
}

/** onnxruntime-node's module, or why it could not be loaded. */
export async function loadOnnxRuntime(): Promise<typeof import('onnxruntime-node') | string> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    return `onnxruntime-node could not be loaded (${(e as Error).message.split('\n')[0]})`;
  }
}
