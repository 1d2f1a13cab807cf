import { createHash } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { loadExperiments, selectExperiments, writeExperiment, writeSummary, type RunProvenance } from '../node/experiments.ts';
import { assembleExperiment, planExperiment, type ExperimentResult, type PlannedRun, type RunResult } from '../experiments/runner.ts';
import type { ExperimentConfig } from '../experiments/schema.ts';
import { verdict } from '../experiments/claims.ts';
import { cachingLoader } from '../node/load-data.ts';
import { intFlag } from './output.ts';
import { openRunStore, storeBesideOut, type ClaimOutcome, type RunStart, type RunStore } from '../node/store.ts';
import { parseStoreLocation } from '../store/run-store.ts';
import { prepareOutFolder } from '../node/out-path.ts';
import { InputError } from '../errors.ts';
import { codeVersion } from '../node/code-version.ts';
import { runPool, type PoolCallbacks, type PoolJob } from '../node/pool.ts';
import { stringifyExact } from '../util/exact-json.ts';
import { formatMeasured as fmt, formatSeconds, reportHtml } from '../report/html.ts';
import { parseTrainConfig } from '../train/config.ts';
import { checkRunInput } from '../train/run-checks.ts';

export interface ReproduceFlags {
  quick?: boolean;
  out?: string;
  experiments?: string;
  jobs?: string;
  force?: boolean;
  store?: string;
  enqueue?: boolean;
}


/** How often a process renews the claims of the runs it is running (and saves no checkpoint meanwhile). */
export const HEARTBEAT_MS = 2000;
/**
 * A claim whose heartbeat is older than this is taken over: its owner is presumed dead. Fifteen
 * missed heartbeats, so that a busy machine (a solver call blocking the event loop for seconds)
 * keeps its claims.
 */
export const CLAIM_STALE_MS = 30_000;
/** How often a process waiting for runs that another process is running looks at the store. */
export const WAIT_POLL_MS = 500;

/** This process as the owner of the runs it claims: host, pid and a random part (pids are reused). */
export function ownerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * True when `owner` (an {@link ownerId}) was a process on this host that no longer exists: its
 * claim can be taken at once instead of after {@link CLAIM_STALE_MS}. Other hosts: never known.
 */
export function ownerIsDeadHere(owner: string): boolean {
  const m = /^(.*):(\d+):[0-9a-f]+$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return true; // an earlier process with our pid: it is gone
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Claims a run for `owner` in `store`; a claim of a process on this host that has died is
 * released first (so a killed reproduce is resumed at once), a stale one is taken over by the store.
 */
export async function claimRun(store: RunStore, run: RunStart, owner: string, staleMs = CLAIM_STALE_MS): Promise<ClaimOutcome & { previous?: string }> {
  const staleBefore = (): string => new Date(Date.now() - staleMs).toISOString();
  const c = await store.claim(run, owner, staleBefore());
  if (c.outcome !== 'busy' || !ownerIsDeadHere(c.owner)) return c;
  await store.release(run.key, c.owner);
  const again = await store.claim(run, owner, staleBefore());
  return again.outcome === 'claimed' ? { ...again, previous: c.owner } : again;
}

/** The store key of a planned run: its plan (config, seed, references, evaluation) and the code version. */
export function runKey(plan: PlannedRun, version: string): string {
  const { index: _index, ...rest } = plan;
  void _index;
  return createHash('sha256').update(version).update('\n').update(stringifyExact(rest)).digest('hex');
}

interface Job {
  exp: ExperimentConfig;
  plan: PlannedRun;
  key: string;
  steps: number;
  /** Estimated cost of one step (examples per step × (parameters + 200)), for the time-left estimate. */
  stepCost: number;
  done: number;
  result: RunResult | null;
  reused: boolean;
  resumedFrom: number | null;
}

/**
 * `advbias reproduce [all|c1|c2|c3|ID...] [--quick] [--out DIR] [--jobs N] [--force] [--store FILE]`:
 * plans every run, reuses the ones the run store already holds for this code version, resumes
 * interrupted ones from their last checkpoint, runs the rest on N worker threads, then writes per
 * experiment tables and figures, `summary.json`/`summary.md` and one self-contained `report.html`.
 * Returns the exit code (1 if an expectation fails, 130 when interrupted).
 */
export async function reproduceCommand(names: string[], flags: ReproduceFlags): Promise<number> {
  const t0 = Date.now();
  const quick = flags.quick === true;
  const selected = selectExperiments(loadExperiments(flags.experiments), names);
  const out = flags.out ?? join('out', quick ? 'reproduce-quick' : 'reproduce');
  const jobsN = flags.jobs !== undefined ? intFlag('jobs', flags.jobs, 1) : availableParallelism();
  const log = (s: string): void => {
    process.stderr.write(s + '\n');
  };
  const version = codeVersion();
  // Where the results go and the store, checked before anything runs (a file, under a file, /proc, …).
  prepareOutFolder(out, '--out');
  const storePath = flags.store ?? storeBesideOut(out);
  const where = parseStoreLocation(storePath);
  if (flags.enqueue && where.kind !== 'postgres') throw new InputError('--enqueue needs --store postgres://… (the queue lives in that database; workers run its jobs)', 'enqueue');
  const store = await openRunStore(storePath);
  // Where the store is, for messages and summary.json (a database URL's password hidden).
  const storeName = store.location;
  const owner = ownerId();
  /** Keys of the runs this process has claimed and not yet completed, failed or released. */
  const mine = new Set<string>();
  // Store writes from the pool's callbacks, chained so that a run's begin, checkpoints and
  // completion reach the store in the order they happened; the first failure is rethrown below.
  let writes: Promise<void> = Promise.resolve();
  let writeFailure: Error | null = null;
  const write = (f: () => Promise<unknown>): void => {
    writes = writes.then(f).then(
      () => undefined,
      (e: unknown) => {
        writeFailure ??= e as Error;
      },
    );
  };
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    log('\ninterrupted: stopping the runs at their next step; their checkpoints stay in the store and the next `reproduce` resumes them (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  let stopHeartbeats = (): void => undefined;
  try {
    // 1. Plan every run (validates all configs before anything long starts).
    const load = cachingLoader();
    const jobs: Job[] = [];
    for (const exp of selected) {
      for (const plan of await planExperiment(exp, quick, load)) {
        const c = parseTrainConfig(plan.config);
        const data = load(c.data);
        const batch = c.batchSize > 0 && c.batchSize < data.n ? c.batchSize : data.n;
        let model;
        try {
          model = checkRunInput(c, data);
        } catch (e) {
          if (e instanceof InputError) throw new InputError(`experiment ${exp.id}, run ${plan.label}: ${e.message}`, e.field);
          throw e;
        }
        const stepCost = batch * (model.numParams + 200);
        jobs.push({ exp, plan, key: runKey(plan, version), steps: c.steps, stepCost, done: 0, result: null, reused: false, resumedFrom: null });
      }
    }
    // 2. Reuse what the store has; find checkpoints (a preview: a run is claimed, and its
    // checkpoint read again, just before it starts).
    const pending: PoolJob[] = [];
    let resumable = 0;
    /** The stored result of a done run, refused naming the store and run when it cannot be read. */
    const reuse = (job: Job, stored: NonNullable<Awaited<ReturnType<RunStore['findDone']>>>): void => {
      if (stored.damaged !== undefined)
        throw new InputError(`the run store "${storeName}": run ${stored.id} (key ${stored.key}, ${job.exp.id} · ${job.plan.label}) is damaged: ${stored.damaged} cannot be read; pass --force to rerun it`, 'store');
      job.result = stored.result as RunResult;
      job.reused = true;
      job.done = job.steps;
    };
    for (const [id, job] of jobs.entries()) {
      if (flags.force) await store.delete(job.key);
      const stored = flags.force ? null : await store.findDone(job.key);
      if (stored) {
        reuse(job, stored);
        continue;
      }
      const cp = await store.loadCheckpoint(job.key);
      if (cp) {
        job.resumedFrom = cp.step;
        job.done = cp.step;
        resumable++;
      }
      pending.push({ id, plan: job.plan, resumeFrom: null, checkpointEvery: Math.max(1, Math.ceil(job.steps / 20)) });
    }
    // Claims: a run is started only once its claim is this process's; a run another live process
    // is running is waited for (its result reused), one whose owner died is taken over.
    const runStart = (job: Job): RunStart => ({ key: job.key, experiment: job.exp.id, label: job.plan.label, config: job.plan.config, seed: Number(job.plan.config.seed), codeVersion: version });
    const waiting = new Map<number, string>();
    /** Claims the job's run: the job to start (resuming from the store's checkpoint), or null. */
    const acquire = async (p: PoolJob): Promise<PoolJob | null> => {
      const job = jobs[p.id];
      const c = await claimRun(store, runStart(job), owner);
      if (c.outcome === 'done') {
        const stored = await store.findDone(job.key);
        if (stored) {
          reuse(job, stored);
          waiting.delete(p.id);
          log(`  ${job.exp.id} · ${job.plan.label}: done by another process, reused`);
          return null;
        }
      }
      if (c.outcome !== 'claimed') {
        waiting.set(p.id, c.outcome === 'busy' ? c.owner : '?');
        return null;
      }
      waiting.delete(p.id);
      mine.add(job.key);
      const from = c.takenOver ?? c.previous;
      if (from) log(`  ${job.exp.id} · ${job.plan.label}: taking over from ${from} (no heartbeat for ${CLAIM_STALE_MS / 1000} s, or its process has ended)`);
      const cp = await store.loadCheckpoint(job.key);
      job.resumedFrom = cp ? cp.step : null;
      job.done = cp ? cp.step : 0;
      return { ...p, resumeFrom: cp ? (cp.state as PoolJob['resumeFrom']) : null };
    };
    const heartbeats = setInterval(() => {
      for (const key of mine) void store.heartbeat(key, owner).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeats.unref();
    stopHeartbeats = () => clearInterval(heartbeats);
    const reused = jobs.filter((j) => j.reused).length;
    log(
      `advbias reproduce${quick ? ' --quick' : ''}: ${selected.length} experiment(s), ${jobs.length} runs — ${reused} reused from ${storeName}, ${pending.length} to run${resumable ? ` (${resumable} resumed from a checkpoint)` : ''} on ${Math.min(jobsN, Math.max(pending.length, 1))} thread(s); code ${version}`,
    );
    // 3. Run the rest, with overall progress and an estimate of the time left.
    // Progress in estimated work (steps × step cost), so that a 10⁶-step run on 2 points does not
    // outweigh a 4,000-step MNIST run; the rate is measured as the work gets done.
    const work = (p: PoolJob): number => jobs[p.id].done * jobs[p.id].stepCost;
    const totalSteps = pending.reduce((s, p) => s + jobs[p.id].steps * jobs[p.id].stepCost, 0);
    const startSteps = pending.reduce((s, p) => s + work(p), 0);
    const tRun = Date.now();
    let finished = 0;
    let lastLine = 0;
    const tty = process.stderr.isTTY === true;
    const progress = (force = false): void => {
      const now = Date.now();
      if (!force && now - lastLine < (tty ? 250 : 10_000)) return;
      lastLine = now;
      const doneSteps = pending.reduce((s, p) => s + work(p), 0);
      const frac = totalSteps > 0 ? doneSteps / totalSteps : 1;
      const elapsed = (now - tRun) / 1000;
      const rate = (doneSteps - startSteps) / Math.max(elapsed, 1e-3);
      // No estimate before there is something to measure (5 s and 1 % of the work).
      const left = rate > 0 && elapsed >= 5 && frac >= 0.01 ? (totalSteps - doneSteps) / rate : NaN;
      const width = 24;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const line = `  [${bar}] ${(100 * frac).toFixed(0).padStart(3)}% · runs ${finished}/${pending.length} · ${formatSeconds((now - tRun) / 1000)} elapsed · ${finished === pending.length ? 'done' : Number.isFinite(left) ? `~${formatSeconds(left)} left` : 'estimating time left'}`;
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      else log(line);
    };
    let failure: Error | null = null;
    const callbacks: PoolCallbacks = {
      // The claim (re)starts the store row when the run really starts, so that its start time is true.
      acquire,
      onStep: (id, step) => {
        jobs[id].done = step;
        progress();
      },
      onCheckpoint: (id, cp) => {
        write(() => store.saveCheckpoint(jobs[id].key, cp.step, cp));
        write(() => store.heartbeat(jobs[id].key, owner));
      },
      onDone: (id, result) => {
        const job = jobs[id];
        if (result.interrupted) {
          // The checkpoint stays, the claim is given up: the next reproduce resumes it at once.
          write(() => store.release(job.key, owner));
          mine.delete(job.key);
          return;
        }
        job.result = result;
        job.done = job.steps;
        finished++;
        write(() => store.complete(job.key, { final: result.final, history: result.history, result }));
        mine.delete(job.key);
        if (!tty) log(`  done ${job.exp.id} · ${job.plan.label} (${result.seconds.toFixed(1)} s${job.resumedFrom ? `, resumed from step ${job.resumedFrom}` : ''})`);
        progress(tty);
      },
      onError: (id, e) => {
        failure ??= e;
        write(() => store.fail(jobs[id].key, e.message));
        mine.delete(jobs[id].key);
      },
    };
    if (flags.enqueue) {
      // The runs go to the queue in the store's database; `advbias worker` processes run them. This
      // process waits for their results in the store (sending a run's job again, at most every
      // RESEND_SECONDS, while it is unfinished: a worker may have died holding it).
      if (where.kind !== 'postgres') throw new Error('unreachable: --enqueue was checked against the store above');
      const { openQueue, enqueueRuns, RESEND_SECONDS } = await import('../node/queue.ts');
      const boss = await openQueue(where.url, storeName);
      try {
        const data = (p: PoolJob) => ({
          key: jobs[p.id].key,
          experiment: jobs[p.id].exp.id,
          label: jobs[p.id].plan.label,
          plan: stringifyExact(jobs[p.id].plan),
          codeVersion: version,
          checkpointEvery: p.checkpointEvery,
        });
        let open = pending.slice();
        const sent = await enqueueRuns(boss, open.map(data));
        log(`  enqueued ${sent} run(s) in ${storeName}; waiting for \`advbias worker --store …\` processes to run them (code ${version})`);
        let lastSend = Date.now();
        while (open.length > 0 && !stop) {
          await new Promise((r) => setTimeout(r, 1000));
          // One listing per poll (statuses only); the documents of a run are read once, when done.
          const rows = new Map((await store.list()).map((r) => [r.key, r]));
          const still: PoolJob[] = [];
          for (const p of open) {
            const job = jobs[p.id];
            const row = rows.get(job.key);
            if (row?.status === 'failed') throw new InputError(`run ${job.exp.id} · ${job.plan.label} failed in a worker: ${row.error ?? '?'}`, 'store');
            const stored = row?.status === 'done' ? await store.findDone(job.key) : null;
            if (stored) {
              reuse(job, stored);
              job.reused = false;
              finished++;
              if (!tty) log(`  done ${job.exp.id} · ${job.plan.label} (by a worker)`);
              continue;
            }
            still.push(p);
          }
          open = still;
          progress();
          if (open.length > 0 && Date.now() - lastSend >= RESEND_SECONDS * 1000) {
            lastSend = Date.now();
            await enqueueRuns(boss, open.map(data));
          }
        }
      } finally {
        await boss.stop({ graceful: false, wait: true }).catch(() => {});
      }
    } else await runPool(pending, jobsN, callbacks, () => stop);
    // Runs that another process was running: wait for their results (polling the store), or take
    // them over when their owner stops renewing its claim.
    if (waiting.size > 0 && !stop && !failure) {
      const owners = [...new Set(waiting.values())];
      log(`  waiting for ${waiting.size} run(s) that another process is running (${owners.join(', ')}); their results will be reused`);
    }
    while (waiting.size > 0 && !stop && !failure) {
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
      const claimed: PoolJob[] = [];
      for (const id of [...waiting.keys()]) {
        const p = pending.find((q) => q.id === id)!;
        const got = await acquire(p);
        if (got) claimed.push(got);
      }
      if (claimed.length > 0) await runPool(claimed, jobsN, { ...callbacks, acquire: undefined }, () => stop);
    }
    if (tty) process.stderr.write('\n');
    await writes;
    if (failure) throw failure;
    if (writeFailure) throw writeFailure;

    // 4. Assemble, write tables, figures, summary and the HTML report.
    const done: { exp: ExperimentConfig; result: ExperimentResult; provenance: RunProvenance[]; notes: string[] }[] = [];
    for (const exp of selected) {
      const mine = jobs.filter((j) => j.exp === exp);
      const complete = mine.every((j) => j.result !== null);
      if (!complete && !stop) continue;
      const runs = mine.filter((j) => j.result !== null).map((j) => j.result!);
      if (runs.length === 0) continue;
      const seconds = runs.reduce((s, r) => s + r.seconds, 0);
      const result = await assembleExperiment(exp, quick, runs, load, seconds);
      const { notes } = await writeExperiment(exp, result, out);
      const provenance: RunProvenance[] = mine
        .filter((j) => j.result !== null)
        .map((j) => ({ label: j.plan.label, key: j.key, seed: Number(j.plan.config.seed), reused: j.reused, resumedFromStep: j.resumedFrom, seconds: j.result!.seconds, config: j.plan.config }));
      done.push({ exp, result, provenance, notes });
      const failed = result.table.filter((r) => !r.pass);
      log(`  ${exp.id}: ${result.pass ? 'pass' : 'FAIL'} ${result.table.length - failed.length}/${result.table.length} expectations, ${runs.length} runs${complete ? '' : ' (incomplete: interrupted)'} → ${join(out, exp.id, 'table.md')}`);
      for (const r of failed) log(`    FAIL ${r.description} [${r.run}]: ${r.metric} = ${fmt(r.measured)}, expected ${r.expected}`);
    }
    const pass = !stop && done.length === selected.length && done.every((d) => d.result.pass);
    const seconds = (Date.now() - t0) / 1000;
    const claims = [...new Set(done.map((d) => d.exp.claim))].map((claim) => {
      const ds = done.filter((d) => d.exp.claim === claim);
      const rows = ds.flatMap((d) => d.result.table);
      return { claim, experiments: ds.length, expectations: rows.length, passed: rows.filter((r) => r.pass).length, pass: ds.every((d) => d.result.pass) };
    });
    // "All claims reproduced" only when the claims checked are the paper's (C1–C3); see experiments/claims.ts.
    const outcome = verdict(claims, { pass, interrupted: stop });
    writeSummary(done, out, quick, { codeVersion: version, seconds, store: storeName, verdict: outcome });
    const html = reportHtml({
      title: `advbias reproduce${quick ? ' --quick' : ''}`,
      generated: new Date().toISOString(),
      codeVersion: version,
      quick,
      pass,
      seconds,
      claims,
      verdict: outcome,
      experiments: done.map(({ exp, result, provenance, notes }) => ({
        id: exp.id,
        claim: exp.claim,
        title: exp.title,
        description: exp.description,
        pass: result.pass,
        seconds: result.seconds,
        table: result.table,
        figures: exp.figures.map((f) => {
          const file = join(out, exp.id, 'figures', `${f.id}.svg`);
          return { id: f.id, title: f.title, svg: existsSync(file) ? readFileSync(file, 'utf8') : '' };
        }),
        notes,
        runs: provenance,
      })),
    });
    mkdirSync(dirname(join(out, 'report.html')), { recursive: true });
    writeFileSync(join(out, 'report.html'), html);
    // 5. The final table of claims.
    // The claim column is as wide as the longest claim name (own names may be longer than C1).
    const cw = Math.max(5, ...claims.map((c) => c.claim.length));
    const lines = ['', `${'claim'.padEnd(cw)}  experiment                      expectations  result`, `${'-'.repeat(cw)}  ------------------------------  ------------  ------`];
    for (const { exp, result } of done)
      lines.push(`${exp.claim.padEnd(cw)}  ${exp.id.padEnd(30)}  ${`${result.table.filter((r) => r.pass).length}/${result.table.length}`.padEnd(12)}  ${result.pass ? 'pass' : 'FAIL'}`);
    lines.push('', `${'claim'.padEnd(cw)}  experiments  expectations  result`, `${'-'.repeat(cw)}  -----------  ------------  ------`);
    for (const c of claims) lines.push(`${c.claim.padEnd(cw)}  ${String(c.experiments).padEnd(11)}  ${`${c.passed}/${c.expectations}`.padEnd(12)}  ${c.pass ? 'pass' : 'FAIL'}`);
    lines.push('', `${outcome} in ${formatSeconds(seconds)} (${jobs.filter((j) => j.reused).length} of ${jobs.length} runs reused); report: ${join(out, 'report.html')}`);
    process.stdout.write(lines.join('\n') + '\n');
    if (stop) return 130;
    return pass ? 0 : 1;
  } finally {
    stopHeartbeats();
    process.off('SIGINT', onSigint);
    await writes;
    // Claims still held (runs stopped by another run's failure): given up, so that the next reproduce takes them at once.
    for (const key of mine) await store.release(key, owner).catch(() => undefined);
    await store.close();
  }
}
