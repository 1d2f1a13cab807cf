import cliProgress from 'cli-progress';
import { loadExperiments, selectExperiments, writeExperiment, writeSummary } from '../node/experiments.ts';
import { runExperiment, type ExperimentResult } from '../experiments/runner.ts';
import type { ExperimentConfig } from '../experiments/schema.ts';
import { loadData } from '../node/load-data.ts';
import { join } from 'node:path';

export interface ReproduceFlags {
  quick?: boolean;
  out?: string;
  experiments?: string;
}

function fmt(v: number | null): string {
  if (v === null) return 'not measured';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toPrecision(4);
}

/** `advbias reproduce [all|c1|ID...] [--quick] [--out DIR]`: returns the exit code (1 if an expectation fails). */
export async function reproduceCommand(names: string[], flags: ReproduceFlags): Promise<number> {
  const selected = selectExperiments(loadExperiments(flags.experiments), names);
  const out = flags.out ?? join('out', flags.quick ? 'reproduce-quick' : 'reproduce');
  const log = (s: string): void => {
    process.stderr.write(s + '\n');
  };
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    log('\ninterrupted: finishing the current step, then writing what was computed (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const done: { exp: ExperimentConfig; result: ExperimentResult }[] = [];
  try {
    for (const [k, exp] of selected.entries()) {
      log(`[${k + 1}/${selected.length}] ${exp.id}: ${exp.title}`);
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: '  run {run} [{bar}] {percentage}% | {label}', hideCursor: true, fps: 5 }, cliProgress.Presets.shades_classic)
        : null;
      let lastTick = 0;
      const result = await runExperiment(exp, flags.quick === true, {
        loadData: (spec) => loadData(spec),
        onRunStart: (i, total, label) => {
          if (bar) {
            if (i === 0) bar.start(1, 0, { run: `1/${total}`, label });
            else bar.update(0, { run: `${i + 1}/${total}`, label });
          } else log(`  run ${i + 1}/${total}: ${label}`);
        },
        onStep: bar
          ? (t, total) => {
              const now = Date.now();
              if (now - lastTick > 100 || t === total) {
                bar.setTotal(total);
                bar.update(t);
                lastTick = now;
              }
            }
          : undefined,
        shouldStop: () => stop,
      });
      bar?.stop();
      const { notes } = await writeExperiment(exp, result, out);
      if (notes.length) log(`  ${notes.length} figure note(s) (points a log axis cannot show, …) in ${join(out, exp.id, 'table.md')}`);
      done.push({ exp, result });
      const failed = result.table.filter((r) => !r.pass);
      log(`  ${result.pass ? 'pass' : 'FAIL'}: ${result.table.length - failed.length}/${result.table.length} expectations, ${result.runs.length} runs, ${result.seconds.toFixed(1)} s → ${join(out, exp.id, 'table.md')}`);
      for (const r of failed) log(`    FAIL ${r.description} [${r.run}]: ${r.metric} = ${fmt(r.measured)}, expected ${r.expected}`);
      if (stop) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  writeSummary(done, out, flags.quick === true);
  const pass = done.length === selected.length && done.every((d) => d.result.pass);
  const lines = ['', 'claim  experiment                      expectations  result', '-----  ------------------------------  ------------  ------'];
  for (const { exp, result } of done)
    lines.push(`${exp.claim.padEnd(5)}  ${exp.id.padEnd(30)}  ${`${result.table.filter((r) => r.pass).length}/${result.table.length}`.padEnd(12)}  ${result.pass ? 'pass' : 'FAIL'}`);
  lines.push('', `${pass ? 'All claims reproduced' : 'Some expectations failed'}; report: ${join(out, 'summary.md')}`);
  process.stdout.write(lines.join('\n') + '\n');
  if (stop) return 130;
  return pass ? 0 : 1;
}
