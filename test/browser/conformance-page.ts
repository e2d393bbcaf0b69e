/**
 * Runs in headless Chromium (see `chromium.test.ts`): the conformance table of
 * `test/helpers/conformance-cases.ts` on the WebGL2 backend (gpu.js, from the page's global `GPU`) and on
 * the WebGPU backend (`navigator.gpu`), each case compared with the CPU backend. A backend that cannot be
 * created is reported with the reason, and its cases are skipped.
 */
import { getBackend, initWebGL, initWebGPU, setBackend } from '../../src/tensor/index.js';
import { CASES, check } from '../helpers/conformance-cases.js';

/** One case's outcome on one backend. */
export interface CaseResult {
  /** The case name. */
  name: string;
  /** The first difference, or why it threw; absent when it passed. */
  error?: string;
}

/** The table's outcome on one backend. */
export interface BackendReport {
  /** `'webgl'` or `'webgpu'`. */
  backend: string;
  /** Why the backend could not be created (then `cases` is empty). */
  skip?: string;
  /** Each case's outcome, in table order. */
  cases: CaseResult[];
}

async function table(backend: string): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of CASES) {
    try {
      await check(c, [backend]);
      out.push({ name: c.name });
    } catch (e) {
      out.push({ name: c.name, error: (e as Error).stack ?? String(e) });
    }
  }
  return out;
}

/** Creates both backends and runs the table on each. */
export async function run(): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  try {
    initWebGL();
    reports.push({ backend: 'webgl', cases: await table('webgl') });
  } catch (e) {
    reports.push({ backend: 'webgl', skip: (e as Error).message, cases: [] });
  }
  try {
    const gpu = await initWebGPU();
    reports.push({ backend: 'webgpu', cases: await table('webgpu') });
    gpu.destroy();
  } catch (e) {
    reports.push({ backend: 'webgpu', skip: (e as Error).message, cases: [] });
  }
  setBackend('cpu');
  if (getBackend().name !== 'cpu') throw new Error('the page left a GPU backend selected');
  return reports;
}
