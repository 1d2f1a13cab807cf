/**
 * `advbias worker --store postgres://…`: takes planned runs from the sweep queue in that database
 * (src/node/queue.ts) and runs them, one at a time per `--jobs` slot, recording checkpoints and
 * results in the run store there. Start any number of them, on any machines that reach the
 * database (e.g. as the tasks of a Slurm job array: docs/REPRODUCE.md). `reproduce --store
 * postgres://… --enqueue` fills the queue and assembles the report when the runs are done.
 */
import type PgBoss from 'pg-boss';
import { InputError } from '../errors.ts';
import { parseStoreLocation } from '../store/run-store.ts';
import { openRunStore } from '../node/store.ts';
import { openQueue, RUN_QUEUE, type RunJobData } from '../node/queue.ts';
import { codeVersion } from '../node/code-version.ts';
import { runPool } from '../node/pool.ts';
import { parseExact } from '../util/exact-json.ts';
import { claimRun, ownerId, HEARTBEAT_MS } from './reproduce.ts';
import type { PlannedRun } from '../experiments/runner.ts';
import type { TrainCheckpoint } from '../train/trainer.ts';
import { intFlag } from './output.ts';

export interface WorkerFlags {
  store?: string;
  jobs?: string;
  idleExit?: string;
}

/** How often an idle worker asks the queue for a job. */
const POLL_MS = 500;

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  if (flags.store === undefined) throw new InputError('advbias worker needs --store postgres://USER:PASSWORD@HOST:PORT/DATABASE (the store and queue it works from)', 'store');
  const where = parseStoreLocation(flags.store);
  if (where.kind !== 'postgres') throw new InputError(`--store "${flags.store}": workers share a PostgreSQL store (postgres://…); a SQLite file serves one machine (use advbias reproduce --jobs N there)`, 'store');
  const slots = flags.jobs !== undefined ? intFlag('jobs', flags.jobs, 1) : 1;
  const idleExit = flags.idleExit !== undefined ? Number(flags.idleExit) : Infinity;
  if (!(idleExit > 0)) throw new InputError(`invalid --idle-exit "${flags.idleExit}": must be a number of seconds > 0`, 'idle-exit');
  const store = await openRunStore(flags.store);
  let boss: PgBoss | null = null;
  const owner = ownerId();
  const version = codeVersion();
  const log = (s: string): void => {
    process.stderr.write(`[worker ${owner}] ${s}\n`);
  };
  let stop = false;
  const onSignal = (): void => {
    if (stop) process.exit(130);
    stop = true;
    log('stopping: the runs in progress stop at their next step, their checkpoints stay in the store');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const running = new Set<string>();
  const heartbeats = setInterval(() => {
    for (const key of running) void store.heartbeat(key, owner).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeats.unref();
  try {
    boss = await openQueue(where.url, store.location);
    log(`working from ${store.location} (code ${version}, ${slots} slot(s)${Number.isFinite(idleExit) ? `, exits after ${idleExit} s idle` : ''})`);
    let lastWork = Date.now();
    let failures = 0;
    /** One job: claim its run, resume from the store's checkpoint, train, record. */
    const handle = async (job: PgBoss.Job<RunJobData>): Promise<void> => {
      const d = job.data;
      if (d.codeVersion !== version) {
        await boss!.fail(RUN_QUEUE, job.id, { error: `code version ${d.codeVersion} ≠ this worker's ${version}` });
        log(`refused ${d.experiment} · ${d.label}: planned by code ${d.codeVersion}, this worker is ${version} (update it)`);
        return;
      }
      const plan = parseExact(d.plan) as PlannedRun;
      const c = await claimRun(store, { key: d.key, experiment: d.experiment, label: d.label, config: plan.config, seed: Number(plan.config.seed), codeVersion: version }, owner);
      if (c.outcome !== 'claimed') {
        // Done already, or a live owner is running it: nothing to do for this job.
        await boss!.complete(RUN_QUEUE, job.id);
        return;
      }
      running.add(d.key);
      const cp = await store.loadCheckpoint(d.key);
      const from = c.takenOver ?? c.previous;
      log(`start ${d.experiment} · ${d.label} [${d.key.slice(0, 12)}]${cp ? ` from step ${cp.step}` : ''}${from ? ` (taken over from ${from})` : ''}`);
      let writes: Promise<unknown> = Promise.resolve();
      let error: Error | null = null;
      // Several slots: each run on a worker thread of its own; one slot: in this thread.
      await runPool(
        [{ id: 0, plan, resumeFrom: cp ? (cp.state as TrainCheckpoint) : null, checkpointEvery: d.checkpointEvery }],
        slots > 1 ? 2 : 1,
        {
          onCheckpoint: (_id, state) => {
            writes = writes.then(() => store.saveCheckpoint(d.key, state.step, state)).then(() => store.heartbeat(d.key, owner));
          },
          onDone: (_id, result) => {
            writes = writes.then(async () => {
              if (result.interrupted) {
                await store.release(d.key, owner);
                log(`stopped ${d.experiment} · ${d.label}: released with its checkpoint`);
                return;
              }
              await store.complete(d.key, { final: result.final, history: result.history, result });
              log(`done ${d.experiment} · ${d.label} [${d.key.slice(0, 12)}] (${result.seconds.toFixed(1)} s)`);
            });
          },
          onError: (_id, e) => {
            error = e;
            writes = writes.then(() => store.fail(d.key, e.message));
          },
        },
        () => stop,
      );
      await writes;
      running.delete(d.key);
      if (error) {
        failures++;
        log(`failed ${d.experiment} · ${d.label}: ${(error as Error).message}`);
        await boss!.fail(RUN_QUEUE, job.id, { error: (error as Error).message });
      } else await boss!.complete(RUN_QUEUE, job.id);
    };
    const slot = async (): Promise<void> => {
      while (!stop) {
        const [job] = await boss!.fetch<RunJobData>(RUN_QUEUE, { batchSize: 1 });
        if (!job) {
          if ((Date.now() - lastWork) / 1000 >= idleExit) return;
          await new Promise((r) => setTimeout(r, POLL_MS));
          continue;
        }
        await handle(job);
        lastWork = Date.now();
      }
    };
    await Promise.all(Array.from({ length: slots }, () => slot()));
    log(stop ? 'stopped' : `idle for ${idleExit} s: exiting`);
    return stop ? 130 : failures > 0 ? 1 : 0;
  } finally {
    clearInterval(heartbeats);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await boss?.stop({ graceful: false, wait: true }).catch(() => {});
    await store.close();
  }
}
