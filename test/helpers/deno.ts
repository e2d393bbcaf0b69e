// Runs a script under test/deno/ with the Deno binary that the `deno` npm package ships, and returns
// its exit status, output, and the JSON object it prints on its last line (the scripts' convention).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const denoBin = createRequire(import.meta.url).resolve('deno/bin.cjs');

/** What {@link runDenoScript} returns. */
export interface DenoRun<T> {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON, or null when it is not a JSON object. */
  result: T | null;
}

/** Runs `deno run --quiet --allow-read <script>` (from the repository root) and collects its result. */
export function runDenoScript<T = Record<string, unknown>>(script: string): DenoRun<T> {
  const r = spawnSync(process.execPath, [denoBin, 'run', '--quiet', '--allow-read', script], {
    encoding: 'utf8',
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    timeout: 120_000,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, result: last.startsWith('{') ? (JSON.parse(last) as T) : null };
}
