import { Command, CommanderError, Option } from 'commander';
import { AdvbiasError, InputError } from '../errors.ts';
import type { TrainFlags } from './train.ts';
import { addSettingOptions } from './flags.ts';
import { MODELS } from '../models/registry.ts';
import { ATTACKS } from '../attacks/index.ts';

/** Run settings `advbias measure` takes besides the model's and the attack's (data: required unless --params is a result.json). */
const MEASURE_SETTINGS = new Set(['data', 'model', 'attack', 'loss', 'seed', 'reference', 'kkt', 'evalEps', 'evalSteps', 'evalRestarts', 'evalData']);
import type { ReproduceFlags } from './reproduce.ts';
import type { SolveFlags } from './solve.ts';
import type { RunsCompareFlags, RunsExportFlags, RunsListFlags, RunsShowFlags } from './runs.ts';
import { VERSION } from './version.ts';
import type { MeasureFlags } from './measure.ts';
import type { LabFlags } from './lab.ts';
import type { WorkerFlags } from './worker.ts';
import { selectKernelsFromEnv } from '../node/select-kernels.ts';

// Each command's module is imported when that command runs (start-up loads only the flag definitions).

/** Exit codes: 0 ok, 1 a run failed (non-finite value, unexpected error), 2 bad input, 130 interrupted. */
export const EXIT_INPUT = 2;
export const EXIT_FAILED = 1;

function buildProgram(result: { code: number }): Command {
  const program = new Command('advbias')
    .description('Adversarial training of homogeneous networks and its implicit bias (Lyu & Zhu, TPAMI 2025)')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run advbias --help for usage)');

  const train = program
    .command('train')
    .description('train a homogeneous model, optionally adversarially, and measure margins and direction')
    .option('--config <file>', 'JSON file with the settings below (camelCase names, flat or nested per kind: see `advbias schema train`); flags override it');
  addSettingOptions(train);
  train
    .option('--init-from <file>', 'start from saved parameters instead of a random draw: a result.json (its "params"), or a PyTorch export .npy / .safetensors (see advbias measure --help)')
    .option('--out <dir>', 'write result.json and history.csv there')
    .option('--json', 'print exactly one JSON object {"config", "final", "history", "run"} on stdout')
    .option('--store <file|url>', 'record the run in this run store: an SQLite file or postgres://USER:PASSWORD@HOST:PORT/DB (default runs.sqlite beside the --out folder, else out/runs.sqlite)')
    .option('--no-store', 'do not record the run in a run store')
    .addOption(new Option('--no-progress', 'hide the progress bar').hideHelp())
    .action(async (opts: TrainFlags) => {
      result.code = await (await import('./train.ts')).trainCommand(opts);
    });
  const measure = program
    .command('measure')
    .description('measure saved weights: clean and adversarial margins, smoothed margin, accuracies, KKT residuals, attack gap, direction error, robust-accuracy curve')
    .requiredOption('--params <file>', 'result.json of advbias train (model and settings from it; flags override), or a PyTorch export: .npy (one flat float64/float32 vector in advbias\'s layout, or linear\'s [1, d] weight) or .safetensors (bias-free nn.Linear weights [out, in] in layer order; diagonal, diagonal-pm, conv: the vectors u_1…u_L or u, v)')
    .option('--json', 'print one JSON object {"params", "config", "final", "evaluation"?, "run"}');
  // The settings a measurement reads (as train's flags; with a result.json its config, overridden by these).
  addSettingOptions(measure, (name) => MEASURE_SETTINGS.has(name) || MODELS.kindsTaking(name).length > 0 || ATTACKS.kindsTaking(name).length > 0);
  measure
    .action(async (opts: MeasureFlags) => {
      result.code = await (await import('./measure.ts')).measureCommand(opts);
    });
  program
    .command('solve')
    .description('solve a reference max-margin problem: ℓq-SVM, robust threshold γ_q*, adversarial SVM (B), interpolation SVM (D), interpolation norm of C3')
    .option('--data <spec>', 'data set, as for train (default s2); binary labels')
    .option('--problem <kind>', 'svm | threshold | adversarial-svm | interpolation | interpolation-norm (default svm)')
    .option('--q <q>', 'svm: the SVM norm q (1, 2, inf or any number ≥ 1; default 2)')
    .option('--p <p>', 'threshold, adversarial-svm, interpolation: the perturbation norm p (default inf)')
    .option('--eps <eps>', 'adversarial-svm, interpolation, interpolation-norm: the radius ε (0 ≤ ε < γ_q*)')
    .option('--architecture <kind>', 'interpolation-norm: diagonal | conv (N(β) = ‖β‖_{2/L} or ‖Fβ‖_{2/L})')
    .option('--depth <L>', 'interpolation-norm: the depth L ≥ 2 (default 2; L ≥ 3 is non-convex)')
    .option('--starts <n>', 'interpolation-norm, L ≥ 3: local-search starts (default 8)')
    .option('--seed <n>', 'interpolation-norm, L ≥ 3: seed of the random starts (default 0)')
    .option('--json', 'print one JSON object {"problem", "direction", "margin", "multipliers", "kkt", "status", "solver", …}')
    .action(async (opts: SolveFlags) => {
      result.code = await (await import('./solve.ts')).solveCommand(opts);
    });

  program
    .command('worker')
    .description('run planned runs from the sweep queue of a PostgreSQL run store (filled by reproduce --enqueue), on any number of machines; checkpoints and results go to the store')
    .requiredOption('--store <url>', 'postgres://USER:PASSWORD@HOST:PORT/DATABASE: the store and its queue')
    .option('--jobs <n>', 'runs at a time (default 1)')
    .option('--idle-exit <seconds>', 'exit after this long without a job (default: wait forever; e.g. for Slurm array tasks)')
    .action(async (opts: WorkerFlags) => {
      result.code = await (await import('./worker.ts')).workerCommand(opts);
    });

  program
    .command('lab')
    .description('serve the browser lab on 127.0.0.1: watch adversarial training pick its max-margin direction in 2-D, live (built by npm run build into dist/web/)')
    .option('--port <n>', 'port (default 5178; 0: any free port)')
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .action(async (opts: LabFlags) => {
      result.code = await (await import('./lab.ts')).labCommand(opts);
    });

  program
    .command('reproduce')
    .description('run the experiments that reproduce the claims (all, a claim such as c1, or experiment ids): reuse the run store, resume interrupted runs, run on --jobs threads, write report.html, tables and figures')
    .argument('[names...]', 'all | c1 | c2 | c3 | experiment ids (default all)')
    .option('--quick', 'reduced versions of every experiment (a few minutes for all of them on 2 cores)')
    .option('--out <dir>', 'output folder (default out/reproduce or out/reproduce-quick)')
    .option('--experiments <dir>', 'read experiment configs from this folder instead of the built-in experiments/')
    .option('--jobs <n>', 'worker threads for independent runs (default: the number of cores); results are the same for any n')
    .option('--force', 'rerun every run even when the run store holds its result for this code version')
    .option('--store <file|url>', 'the run store: an SQLite file or postgres://USER:PASSWORD@HOST:PORT/DB (default runs.sqlite beside the --out folder: out/runs.sqlite)')
    .option('--enqueue', 'with --store postgres://…: put the runs in the store\'s queue for advbias worker processes (any machines) instead of running them here; wait for them, then write the report')
    .action(async (names: string[], opts: ReproduceFlags) => {
      result.code = await (await import('./reproduce.ts')).reproduceCommand(names, opts);
    });

  program
    .command('schema')
    .description('print the JSON Schema of a training config (train: --config files and experiment bases, flat or nested per kind) or of an experiment file, generated from the model/attack/schedule/loss descriptors')
    .argument('[which]', 'train | experiment (default train)')
    .option('--out <file>', 'write it there instead of stdout')
    .action(async (which: string | undefined, opts: { out?: string }) => {
      result.code = (await import('./schema.ts')).schemaCommand(which, opts);
    });

  const runs = program.command('runs').description('the run store that reproduce and train fill (SQLite, default out/runs.sqlite): list, show, export and compare stored runs');
  runs
    .command('list')
    .description('a table of the stored runs: id, experiment, label, status, seed, start, seconds, final margin and angle')
    .option('--store <file|url>', 'the run store: an SQLite file or postgres://… (default out/runs.sqlite)')
    .option('--experiment <id>', 'only the runs of this experiment')
    .option('--status <s>', 'only the runs with this status: running | done | failed')
    .option('--json', 'print one JSON array of the runs (no config, history or result; non-finite numbers as null)')
    .option('--force', 'leave out damaged runs (documents that cannot be read), each named on stderr, instead of stopping')
    .action(async (opts: RunsListFlags) => {
      result.code = await (await import('./runs.ts')).runsListCommand(opts);
    });
  runs
    .command('show')
    .description('one stored run: config, final values, history length')
    .argument('<id>', 'the run id (from runs list) or its key')
    .option('--store <file|url>', 'the run store: an SQLite file or postgres://… (default out/runs.sqlite)')
    .option('--json', 'print the stored run as one JSON object (non-finite numbers as null)')
    .option('--force', 'show a damaged run anyway (its unreadable documents as null)')
    .action(async (id: string, opts: RunsShowFlags) => {
      result.code = await (await import('./runs.ts')).runsShowCommand(id, opts);
    });
  runs
    .command('export')
    .description('export the stored runs: csv (one row per run: metadata, config, final values) or json (the full runs); --history: the histories as long csv')
    .option('--format <fmt>', 'csv | json')
    .option('--history', 'csv of the histories, one row per (run, step, metric, value) with the run\'s id, label and config')
    .option('--store <file|url>', 'the run store: an SQLite file or postgres://… (default out/runs.sqlite)')
    .option('--experiment <id>', 'only the runs of this experiment')
    .option('--out <file>', 'write there instead of stdout')
    .option('--force', 'leave out damaged runs (documents that cannot be read), each named on stderr, instead of stopping')
    .action(async (opts: RunsExportFlags) => {
      result.code = await (await import('./runs.ts')).runsExportCommand(opts);
    });
  runs
    .command('compare')
    .description('overlay the histories of stored runs as a figure: one line per run, a metric against the step t (log axis)')
    .argument('<ids...>', 'run ids (from runs list) or keys')
    .option('--metric <name>', 'a history field, nested ones dotted, e.g. referenceAngleDeg | adversarialNormalizedMargin | logLoss | kkt.stationarity (default referenceAngleDeg when every run has it, else adversarialNormalizedMargin)')
    .option('--out <file>', 'FILE.svg or FILE.png (default compare-ID-ID-METRIC.svg beside the store)')
    .option('--log-y', 'log scale on the y axis')
    .option('--store <file|url>', 'the run store: an SQLite file or postgres://… (default out/runs.sqlite)')
    .action(async (ids: string[], opts: RunsCompareFlags) => {
      result.code = await (await import('./runs.ts')).runsCompareCommand(ids, opts);
    });
  return program;
}

/** Run the CLI on argv (without node and script); returns the exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(result);
  try {
    // Hot kernels (src/node/select-kernels.ts): OpenBLAS when present, else WebAssembly SIMD, else
    // plain TypeScript; ADVBIAS_KERNELS and ADVBIAS_THREADS choose. Results record which. Chosen
    // before a command runs, so that --help and --version do not load them (~30 ms).
    program.hook('preAction', async () => {
      await selectKernelsFromEnv();
    });
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its one-line message (help and version exit 0).
      return e.exitCode === 0 ? 0 : EXIT_INPUT;
    }
    if (e instanceof AdvbiasError) {
      process.stderr.write(`advbias: ${e.message}\n`);
      return e instanceof InputError ? EXIT_INPUT : EXIT_FAILED;
    }
    const err = e as Error;
    process.stderr.write(`advbias: internal error: ${err?.message ?? String(e)} (set ADVBIAS_DEBUG=1 for the stack trace; please report it)\n`);
    if (process.env.ADVBIAS_DEBUG) process.stderr.write(`${err?.stack}\n`);
    return EXIT_FAILED;
  }
}
