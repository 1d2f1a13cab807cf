/**
 * One thread's run executor for `reproduce`: the worker threads and the `--jobs 1` path both train
 * planned runs through it, so that they do exactly the same thing. It keeps the data sets and the
 * solver results of the runs it has done (both deterministic), and reports progress at most every
 * 200 ms.
 */
import { executeRun, type PlannedRun, type RunResult } from '../experiments/runner.ts';
import type { SolverResult } from '../solvers/types.ts';
import type { TrainCheckpoint } from '../train/trainer.ts';
import { cachingLoader } from './load-data.ts';

export interface RunRequest {
  plan: PlannedRun;
  resumeFrom: TrainCheckpoint | null;
  /** Checkpoint every this many steps. */
  checkpointEvery: number;
}

export interface RunCallbacks {
  shouldStop: () => boolean;
  onStep?: (step: number, total: number) => void;
  onCheckpoint?: (cp: TrainCheckpoint) => void;
}

/** A function that trains one planned run, sharing data and solver caches across its calls. */
export function createRunExecutor(): (req: RunRequest, cb: RunCallbacks) => Promise<RunResult> {
  const load = cachingLoader();
  const solveCache = new Map<string, Promise<SolverResult>>();
  return (req, cb) => {
    let lastTick = 0;
    return executeRun(
      req.plan,
      {
        loadData: load,
        shouldStop: cb.shouldStop,
        onStep: (step, total) => {
          const now = Date.now();
          if (now - lastTick > 200 || step === total) {
            lastTick = now;
            cb.onStep?.(step, total);
          }
        },
        resumeFrom: req.resumeFrom,
        checkpoint: { everySteps: req.checkpointEvery, save: (cp) => cb.onCheckpoint?.(cp) },
      },
      solveCache,
    );
  };
}
