/**
 * Runs planned training runs on N worker threads (or in this thread for N = 1) and reports progress,
 * checkpoints and results through callbacks. Every run is a pure function of its plan, and results
 * travel as exact JSON, so the results do not depend on N or on which worker ran what.
 */
import { Worker } from 'node:worker_threads';
import type { RunResult } from '../experiments/runner.ts';
import type { TrainCheckpoint } from '../train/trainer.ts';
import { parseExact, stringifyExact } from '../util/exact-json.ts';
import { InputError } from '../errors.ts';
import { createRunExecutor, type RunRequest } from './run-exec.ts';
import type { WorkerMessage, WorkerRequest } from './run-worker.ts';

export interface PoolJob extends RunRequest {
  id: number;
}

export interface PoolCallbacks {
  /**
   * Called just before a job would start: the job to run (e.g. with the checkpoint it resumes
   * from), or null to skip it (another process runs it). Lets a caller claim runs one at a time.
   */
  acquire?: (job: PoolJob) => Promise<PoolJob | null>;
  onStart?: (id: number) => void;
  onStep?: (id: number, step: number, total: number) => void;
  onCheckpoint?: (id: number, cp: TrainCheckpoint) => void;
  onDone: (id: number, result: RunResult) => void;
  /** The first error stops the pool (the other workers are stopped, their checkpoints kept). */
  onError?: (id: number, error: Error) => void;
}

/** Run the jobs on `jobs` threads; resolves when all are done or stopped. */
export async function runPool(list: PoolJob[], jobs: number, cb: PoolCallbacks, shouldStop: () => boolean): Promise<void> {
  if (list.length === 0) return;
  if (jobs <= 1) return runHere(list, cb, shouldStop);
  const queue = [...list];
  const n = Math.min(jobs, list.length);
  let failure: Error | null = null;
  const workers: Worker[] = [];
  await new Promise<void>((resolveAll) => {
    let live = n;
    const finishWorker = (w: Worker): void => {
      void w.terminate();
      live--;
      if (live === 0) resolveAll();
    };
    for (let k = 0; k < n; k++) {
      // Compiled (dist/): the worker's own module; from the sources: a boot file that registers tsx first.
      const w = new Worker(new URL(import.meta.url.endsWith('.js') ? './run-worker.js' : './run-worker-boot.mjs', import.meta.url));
      workers.push(w);
      let current: number | null = null;
      const next = async (): Promise<void> => {
        let job: PoolJob | null | undefined;
        do {
          const candidate = shouldStop() || failure ? undefined : queue.shift();
          try {
            job = candidate && cb.acquire ? await cb.acquire(candidate) : candidate;
          } catch (e) {
            failure ??= e as Error;
            job = undefined;
          }
        } while (job === null);
        if (!job) {
          current = null;
          finishWorker(w);
          return;
        }
        current = job.id;
        cb.onStart?.(job.id);
        w.postMessage({ type: 'run', id: job.id, plan: stringifyExact(job.plan), resumeFrom: job.resumeFrom ? stringifyExact(job.resumeFrom) : null, checkpointEvery: job.checkpointEvery } satisfies WorkerRequest);
      };
      const stopTimer = setInterval(() => {
        if (shouldStop() && current !== null) w.postMessage({ type: 'stop' } satisfies WorkerRequest);
      }, 100);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') void next();
        else if (m.type === 'step') cb.onStep?.(m.id, m.step, m.total);
        else if (m.type === 'checkpoint') cb.onCheckpoint?.(m.id, parseExact<TrainCheckpoint>(m.state));
        else if (m.type === 'done') {
          cb.onDone(m.id, parseExact<RunResult>(m.result));
          void next();
        } else if (m.type === 'error') {
          const err = m.input ? new InputError(m.message, 'experiment') : new Error(m.message);
          failure ??= err;
          cb.onError?.(m.id, err);
          for (const other of workers) other.postMessage({ type: 'stop' } satisfies WorkerRequest);
          void next();
        }
      });
      w.on('error', (e) => {
        failure ??= e;
        if (current !== null) cb.onError?.(current, e);
        clearInterval(stopTimer);
        finishWorker(w);
      });
      w.on('exit', () => clearInterval(stopTimer));
    }
  });
  if (failure) throw failure;
}

/** jobs = 1: the same runs in this thread, in order, through the same executor as the workers. */
async function runHere(list: PoolJob[], cb: PoolCallbacks, shouldStop: () => boolean): Promise<void> {
  const run = createRunExecutor();
  for (const candidate of list) {
    if (shouldStop()) return;
    const job = cb.acquire ? await cb.acquire(candidate) : candidate;
    if (job === null) continue;
    cb.onStart?.(job.id);
    try {
      const result = await run(job, { shouldStop, onStep: (step, total) => cb.onStep?.(job.id, step, total), onCheckpoint: (cp) => cb.onCheckpoint?.(job.id, cp) });
      cb.onDone(job.id, result);
    } catch (e) {
      cb.onError?.(job.id, e as Error);
      throw e;
    }
  }
}
