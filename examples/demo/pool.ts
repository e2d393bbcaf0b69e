/**
 * A small pool of worker threads running the demo's jobs in parallel (one job per worker at a time,
 * first come first served), with progress reported per job.
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { Job, JobResult } from './jobs.js';
import type { WorkerMessage } from './worker.js';

/** Called as a job advances. */
export type PoolProgress = (job: Job, done: number, total: number, loss?: number) => void;

/** A pool of `size` workers, each on `backend`. */
export class JobPool {
  readonly #workers: Worker[];
  readonly #idle: Worker[];
  readonly #queue: { job: Job; resolve: (r: JobResult) => void; reject: (e: Error) => void }[] = [];
  readonly #onProgress: PoolProgress;

  /** Starts `size` workers. */
  constructor(size: number, backend: string, onProgress: PoolProgress = () => {}) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`JobPool: size must be a positive integer, got ${size}`);
    this.#onProgress = onProgress;
    this.#workers = Array.from({ length: size }, () => new Worker(new URL('./worker.js', import.meta.url), { workerData: { backend } }));
    this.#idle = [...this.#workers];
  }

  /** Runs `job` on the next free worker. */
  run<R extends JobResult = JobResult>(job: Job): Promise<R> {
    return new Promise<JobResult>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#pump();
    }) as Promise<R>;
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const { job, resolve, reject } = this.#queue.shift()!;
      const onMessage = (m: WorkerMessage): void => {
        if (m.type === 'progress') {
          this.#onProgress(job, m.done, m.total, m.loss);
          return;
        }
        worker.off('message', onMessage);
        worker.off('error', onError);
        this.#idle.push(worker);
        if (m.type === 'result') resolve(m.result);
        else reject(new Error(`job '${job.label}' failed in its worker: ${m.message}`));
        this.#pump();
      };
      const onError = (e: Error): void => {
        worker.off('message', onMessage);
        reject(new Error(`job '${job.label}': its worker died: ${e.message}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage(job);
    }
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
