/**
 * The sweep queue: planned runs as jobs of pg-boss (an existing PostgreSQL job queue) in the same
 * database as the PostgreSQL run store, for `advbias worker` processes on any number of machines.
 * Node only.
 *
 * The queue says what to run; the run store says who runs it and how far it got. A worker takes a
 * job, claims its run in the store (src/cli/reproduce.ts's claimRun: one live owner at a time,
 * heartbeats, takeover of dead or stale owners), resumes it from the store's checkpoint if there is
 * one, checkpoints into the store as it goes, and records the result there. A job whose run is done
 * or held by a live owner is finished without running anything, so a duplicate job is harmless and
 * nothing runs twice at once. A worker killed mid-run (kill -9) leaves its job active in pg-boss and
 * its claim in the store; `reproduce --enqueue`, which waits for the runs, sends a new job for any
 * run whose owner has died or gone stale, and the next worker takes it over from its checkpoint.
 */
import PgBoss from 'pg-boss';
import { InputError } from '../errors.ts';

/** The pg-boss queue of planned runs. */
export const RUN_QUEUE = 'advbias-runs';

/** One planned run as a job: everything a worker needs without the experiment files. */
export interface RunJobData {
  key: string;
  experiment: string;
  label: string;
  /** The plan as exact JSON (util/exact-json.ts): numbers bit for bit. */
  plan: string;
  /** The code version the key was made with: a worker of another version refuses the job. */
  codeVersion: string;
  checkpointEvery: number;
}

/**
 * A started pg-boss on the database of a postgres:// store URL (its own schema, {@link queueSchema}), with the
 * run queue created. Jobs expire after a day (a run may take hours; a dead worker's runs are
 * re-sent by `reproduce --enqueue` long before) and are not retried by pg-boss itself.
 */
export async function openQueue(url: string, redacted: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, schema: queueSchema(url), max: 2, schedule: false, supervise: true });
  boss.on('error', () => {});
  try {
    await boss.start();
    await boss.createQueue(RUN_QUEUE, { name: RUN_QUEUE, expireInHours: 23, retryLimit: 0 }).catch((e: unknown) => {
      // Created meanwhile by another process.
      if (!/already exists|duplicate/i.test(String((e as Error)?.message))) throw e;
    });
    return boss;
  } catch (e) {
    await boss.stop({ graceful: false, wait: false }).catch(() => {});
    throw new InputError(`cannot open the run queue in ${redacted}: ${String((e as Error)?.message ?? e)}`, 'store');
  }
}

/**
 * The schema of pg-boss's tables: `advbias_queue`, or `S_queue` when the URL's options set the
 * search_path to S (stores in different schemas of one database get queues of their own).
 */
export function queueSchema(url: string): string {
  let options = '';
  try {
    options = new URL(url).searchParams.get('options') ?? '';
  } catch {
    /* not a URL: the default */
  }
  const m = /search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(options);
  return m ? `${m[1]}_queue` : 'advbias_queue';
}

/** Seconds within which a run gets at most one job (pg-boss singletonKey = the run's key). */
export const RESEND_SECONDS = 15;

/**
 * Sends one job per run, at most one per run per {@link RESEND_SECONDS} slot (so that sending again
 * for runs still unfinished — after a worker died — never floods the queue).
 */
export async function enqueueRuns(boss: PgBoss, runs: RunJobData[]): Promise<number> {
  let sent = 0;
  for (const r of runs) {
    const id = await boss.send(RUN_QUEUE, r as unknown as object, { retryLimit: 0, expireInHours: 23, singletonKey: r.key, singletonSeconds: RESEND_SECONDS });
    if (id !== null) sent++;
  }
  return sent;
}

