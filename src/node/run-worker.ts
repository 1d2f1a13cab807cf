/**
 * Worker thread of `advbias reproduce --jobs N`: trains the planned runs it is sent, one at a time,
 * and posts progress, checkpoints and results back (all as exact JSON, so the main thread gets the
 * same bits as a run in its own thread). Same kernels as the main thread (src/node/select-kernels.ts:
 * ADVBIAS_KERNELS, ADVBIAS_THREADS).
 */
import { parentPort } from 'node:worker_threads';
import type { PlannedRun } from '../experiments/runner.ts';
import type { TrainCheckpoint } from '../train/trainer.ts';
import { selectKernelsFromEnv } from './select-kernels.ts';
import { parseExact, stringifyExact } from '../util/exact-json.ts';
import { createRunExecutor } from './run-exec.ts';

/** main → worker */
export type WorkerRequest = { type: 'run'; id: number; plan: string; resumeFrom: string | null; checkpointEvery: number } | { type: 'stop' };
/** worker → main */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'step'; id: number; step: number; total: number }
  | { type: 'checkpoint'; id: number; step: number; state: string }
  | { type: 'done'; id: number; result: string }
  | { type: 'error'; id: number; message: string; input: boolean };

const port = parentPort;
if (!port) throw new Error('run-worker.ts must run in a worker thread');

let stop = false;
const run = createRunExecutor();
const queue: Extract<WorkerRequest, { type: 'run' }>[] = [];
let busy = false;

async function work(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length > 0) {
    const req = queue.shift()!;
    try {
      const result = await run(
        { plan: parseExact<PlannedRun>(req.plan), resumeFrom: req.resumeFrom ? parseExact<TrainCheckpoint>(req.resumeFrom) : null, checkpointEvery: req.checkpointEvery },
        {
          shouldStop: () => stop,
          onStep: (step, total) => port!.postMessage({ type: 'step', id: req.id, step, total } satisfies WorkerMessage),
          onCheckpoint: (cp) => port!.postMessage({ type: 'checkpoint', id: req.id, step: cp.step, state: stringifyExact(cp) } satisfies WorkerMessage),
        },
      );
      port!.postMessage({ type: 'done', id: req.id, result: stringifyExact(result) } satisfies WorkerMessage);
    } catch (e) {
      const err = e as Error;
      port!.postMessage({ type: 'error', id: req.id, message: err.message ?? String(e), input: err.name === 'InputError' } satisfies WorkerMessage);
    }
  }
  busy = false;
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'stop') stop = true;
  else {
    queue.push(msg);
    void work();
  }
});

await selectKernelsFromEnv();
port.postMessage({ type: 'ready' } satisfies WorkerMessage);
