import { Command, CommanderError, Option } from 'commander';
import { AdvbiasError, InputError } from '../errors.ts';
import { trainCommand, type TrainFlags } from './train.ts';
import { reproduceCommand, type ReproduceFlags } from './reproduce.ts';
import { solveCommand, type SolveFlags } from './solve.ts';
import { runsCompareCommand, runsExportCommand, runsListCommand, runsShowCommand, type RunsCompareFlags, type RunsExportFlags, type RunsListFlags, type RunsShowFlags } from './runs.ts';
import { VERSION } from './version.ts';
import { useWasmKernels, wasmKernelsSupported } from '../linalg/wasm/backend.ts';

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

  program
    .command('train')
    .description('train a homogeneous model, optionally adversarially, and measure margins and direction')
    .option('--config <file>', 'JSON file with the settings below (camelCase names); flags override it')
    .option('--data <spec>', 'FILE.json | FILE.csv | s1 | s2 | s2-mirrored | synthetic:n=..,d=..,margin=..,seed=.. | mnist:DIGITS (default s2)')
    .option('--model <kind>', 'linear | deep-linear | diagonal | diagonal-pm | conv | relu-mlp | relu-cnn (default deep-linear; relu-cnn layers via --config: inputShape, conv, dense)')
    .option('--depth <L>', 'number of weight layers (default 2)')
    .option('--width <m>', 'hidden width, or a comma list per hidden layer (default 10)')
    .option('--leak <slope>', 'leaky-ReLU slope for relu-mlp (default 0)')
    .option('--attack <kind>', 'none | exact | fgsm | fgm | pgd (default none)')
    .option('--p <p>', 'perturbation norm: 1 | 2 | inf | any number ≥ 1 (default inf)')
    .option('--eps <eps>', 'perturbation radius ε ≥ 0 (default 0)')
    .option('--attack-steps <K>', 'PGD steps (default 10)')
    .option('--attack-step-size <alpha>', 'PGD step size (default 2.5·ε/K)')
    .option('--random-start', 'PGD starts at a seeded random point of the ball')
    .option('--loss <kind>', 'exp | logistic (default exp)')
    .option('--schedule <kind>', 'constant | loss-scaled | loss-based (default loss-scaled)')
    .option('--lr <eta>', 'learning rate η₀ (default 0.1)')
    .option('--lr-decay <kind>', 'none | sqrt: η_t = η₀/√(t+1) (default sqrt for loss-scaled, else none)')
    .option('--step-form <form>', 'sphere | direct: loss-scaled step η/(ρ^{L−2}L) or η/L (default sphere)')
    .option('--steps <T>', 'number of updates (default 10000)')
    .option('--batch-size <B>', 'mini-batch size, 0 = full batch (default 0)')
    .option('--init-scale <s>', 'initialization scale (default 1)')
    .option('--seed <n>', 'seed of every random choice (default 0)')
    .option('--reference <file|auto>', 'JSON {"direction": number[]}, or auto (the solution the theory predicts): report the angle of β/‖β‖ to it')
    .option('--allow-inseparable', 'train a linear-in-x model even when ε ≥ γ_q* (no margin to grow)')
    .option('--eval-eps <list>', 'after training: robust accuracy under PGD with restarts (exact for linear-in-x models) at these ε, e.g. 0.05,0.1')
    .option('--eval-steps <K>', 'evaluation PGD steps (default 20)')
    .option('--eval-restarts <R>', 'evaluation random restarts (default 2)')
    .option('--eval-data <spec>', 'evaluate on this data instead of the training data')
    .option('--kkt <which>', 'KKT residuals of (P_adv) in the history: auto | off | all | N (the N smallest margins) (default auto)')
    .option('--record <spec>', 'history steps: log | log:N per decade | every:N (default log)')
    .option('--out <dir>', 'write result.json and history.csv there')
    .option('--json', 'print exactly one JSON object {"config", "final", "history", "run"} on stdout')
    .option('--store <file>', 'record the run in this run store (default runs.sqlite beside the --out folder, else out/runs.sqlite)')
    .option('--no-store', 'do not record the run in a run store')
    .addOption(new Option('--no-progress', 'hide the progress bar').hideHelp())
    .action(async (opts: TrainFlags) => {
      result.code = await trainCommand(opts);
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
      result.code = await solveCommand(opts);
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
    .option('--store <file>', 'the run store (SQLite; default runs.sqlite beside the --out folder: out/runs.sqlite)')
    .action(async (names: string[], opts: ReproduceFlags) => {
      result.code = await reproduceCommand(names, opts);
    });

  const runs = program.command('runs').description('the run store that reproduce and train fill (SQLite, default out/runs.sqlite): list, show, export and compare stored runs');
  runs
    .command('list')
    .description('a table of the stored runs: id, experiment, label, status, seed, start, seconds, final margin and angle')
    .option('--store <file>', 'the run store (default out/runs.sqlite)')
    .option('--experiment <id>', 'only the runs of this experiment')
    .option('--status <s>', 'only the runs with this status: running | done | failed')
    .option('--json', 'print one JSON array of the runs (no config, history or result; non-finite numbers as null)')
    .action(async (opts: RunsListFlags) => {
      result.code = await runsListCommand(opts);
    });
  runs
    .command('show')
    .description('one stored run: config, final values, history length')
    .argument('<id>', 'the run id (from runs list) or its key')
    .option('--store <file>', 'the run store (default out/runs.sqlite)')
    .option('--json', 'print the stored run as one JSON object (non-finite numbers as null)')
    .action(async (id: string, opts: RunsShowFlags) => {
      result.code = await runsShowCommand(id, opts);
    });
  runs
    .command('export')
    .description('export the stored runs: csv (one row per run: metadata, config, final values) or json (the full runs); --history: the histories as long csv')
    .option('--format <fmt>', 'csv | json')
    .option('--history', 'csv of the histories, one row per (run, step, metric, value) with the run\'s id, label and config')
    .option('--store <file>', 'the run store (default out/runs.sqlite)')
    .option('--experiment <id>', 'only the runs of this experiment')
    .option('--out <file>', 'write there instead of stdout')
    .action(async (opts: RunsExportFlags) => {
      result.code = await runsExportCommand(opts);
    });
  runs
    .command('compare')
    .description('overlay the histories of stored runs as a figure: one line per run, a metric against the step t (log axis)')
    .argument('<ids...>', 'run ids (from runs list) or keys')
    .option('--metric <name>', 'a history field, nested ones dotted, e.g. referenceAngleDeg | adversarialNormalizedMargin | logLoss | kkt.stationarity (default referenceAngleDeg when every run has it, else adversarialNormalizedMargin)')
    .option('--out <file>', 'FILE.svg or FILE.png (default compare-ID-ID-METRIC.svg beside the store)')
    .option('--log-y', 'log scale on the y axis')
    .option('--store <file>', 'the run store (default out/runs.sqlite)')
    .action(async (ids: string[], opts: RunsCompareFlags) => {
      result.code = await runsCompareCommand(ids, opts);
    });
  return program;
}

/** Run the CLI on argv (without node and script); returns the exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  const result = { code: 0 };
  // Hot kernels: WebAssembly SIMD by default (same results to ~1e-14, several times faster);
  // ADVBIAS_KERNELS=js keeps the plain-TypeScript reference.
  if (process.env.ADVBIAS_KERNELS !== 'js' && wasmKernelsSupported()) await useWasmKernels();
  const program = buildProgram(result);
  try {
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
