/**
 * Wall time of one adversarial training step of the MNIST network of docs/THEORY.md §6 — relu-mlp
 * 784 → 1024 → 64 → 10 (L = 3, bias-free, 868,992 parameters), mini-batch 80, logistic loss,
 * constant schedule — with FGSM (ε = 16/255) and ℓ∞ PGD (5 steps of 6/255, ε = 16/255, no random
 * start), on the 10,000 digits of the `mnist` package (`mnist:all`), two ways:
 *
 *  - per-example: the model with its batch methods removed — the code path every model took before
 *    the batch methods (one gemv per example and layer, and a second forward pass for the gradient,
 *    which `gradientAtLastMargins` runs when there are no batch activations to reuse);
 *  - batch: the model as it is — `forwardBatch`/`backwardBatch` (gemm) in the attack, the margins and
 *    the gradient, and `gradientAtLastMargins` reusing the margins' activations.
 *
 * The step is the public one (`createStepper`, src/train/step.ts: the core `train` runs), driven here
 * directly because `train` measures the whole data set (attack included) at steps 0 and T, minutes of
 * work on 10,000 MNIST digits that is no part of a step. `--check` verifies that this loop computes
 * the same iterates as `train` (bit-identical θ̂ after a few steps on a 160-digit subset).
 *
 * Per configuration: WARMUP steps, then STEPS timed steps (each timed alone, with its phases: attack,
 * margins + loss, gradient + update); the median step is reported, and the epoch time implied by it
 * (⌈10,000/80⌉ = 125 steps; measurements excluded). Timings never go into tests.
 *
 * Usage: node --import tsx bench/mnist-step.bench.ts [--steps N] [--warmup N] [--only fgsm,pgd]
 *          [--paths per-example,batch] [--kernels js|wasm] [--json FILE] [--check]
 *   --kernels wasm installs the WebAssembly kernels of src/linalg/wasm/backend.ts (default: the
 *   plain-TS reference kernels).
 */
import { writeFileSync } from 'node:fs';
import { cpus, platform, release, arch } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadData } from '../src/node/load-data.ts';
import { createReluMlp } from '../src/models/relu-mlp.ts';
import type { Model } from '../src/models/model.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { validateAttackConfig, type AttackConfig } from '../src/attacks/index.ts';
import type { LossKind } from '../src/losses/loss.ts';
import type { ScheduleConfig } from '../src/train/schedule.ts';
import { train } from '../src/train/trainer.ts';
import { createStepper, type EpochBatches, type MutableTrainState, type StepPhase } from '../src/index.ts';
import { kernels, setKernels } from '../src/linalg/kernels.ts';
import { createWasmKernels } from '../src/linalg/wasm/backend.ts';

/** docs/THEORY.md §6: batch 80, ε = 16/255, PGD 5 steps of 6/255 (ℓ∞). */
const BATCH = 80;
const EPS = 16 / 255;
const PGD_STEPS = 5;
const PGD_STEP_SIZE = 6 / 255;
const WIDTHS = [1024, 64];
const CLASSES = 10;
const LOSS: LossKind = 'logistic';
/** Constant learning rate (docs/THEORY.md §6) on the sum loss over the batch: 1e-3·80 = 0.08 on the mean loss. */
const SCHEDULE: ScheduleConfig = { kind: 'constant', lr: 1e-3, decay: 'none', form: 'sphere' };
const SEED = 0;
const INIT_SCALE = 1;
/** Defaults: a per-example PGD step is seconds on 2 shared cores, so few steps. */
const DEFAULT_STEPS = 3;
const DEFAULT_WARMUP = 1;
/** `--check`: digits per class of the subset and steps compared with `train`. */
const CHECK_PER_CLASS = 16;
const CHECK_STEPS = 4;

const ATTACKS: Record<string, AttackConfig> = {
  fgsm: validateAttackConfig({ kind: 'fgsm', eps: EPS }),
  pgd: validateAttackConfig({ kind: 'pgd', p: 'inf', eps: EPS, steps: PGD_STEPS, stepSize: PGD_STEP_SIZE }),
};
type Path = 'per-example' | 'batch';

function mnistNet(): Model {
  return createReluMlp({ inputDim: 784, depth: 3, width: WIDTHS, outputs: CLASSES });
}

/** The model with its batch methods removed: the per-example path. */
function perExampleOnly(model: Model): Model {
  return { ...model, createBatchWorkspace: undefined, forwardBatch: undefined, backwardBatch: undefined };
}

/** Seconds spent in each phase of one step. */
interface Phases {
  attack: number;
  margins: number;
  gradient: number;
}

/**
 * The public step (src/train/step.ts, the core `train` runs), in place through `stepInto`, with the
 * mini-batches `train` draws, its phases timed through `onPhase`; no measurements.
 */
class Stepper {
  private readonly core: ReturnType<typeof createStepper>;
  private readonly state: MutableTrainState;
  private readonly batches: EpochBatches;
  private phaseEnd: Record<StepPhase, number> = { attack: 0, margins: 0, update: 0 };

  constructor(model: Model, data: Dataset, attack: AttackConfig) {
    this.core = createStepper({
      model,
      data,
      attack,
      loss: LOSS,
      schedule: SCHEDULE,
      initScale: INIT_SCALE,
      onPhase: (phase) => {
        this.phaseEnd[phase] = performance.now();
      },
    });
    this.state = { ...this.core.init(SEED) };
    this.batches = this.core.batches(SEED, BATCH)!;
  }

  get thetaHat(): Float64Array {
    return this.state.thetaHat;
  }

  get logRho(): number {
    return this.state.logRho;
  }

  step(): Phases {
    const t0 = performance.now();
    this.core.stepInto(this.state, this.batches.next(), this.state);
    const { attack, margins, update } = this.phaseEnd;
    return { attack: (attack - t0) / 1000, margins: (margins - attack) / 1000, gradient: (update - margins) / 1000 };
  }
}

function stepper(path: Path, data: Dataset, attack: AttackConfig): Stepper {
  const model = mnistNet();
  // Per-example models have no batch activations to reuse: gradientAtLastMargins runs a second forward pass.
  return path === 'batch' ? new Stepper(model, data, attack) : new Stepper(perExampleOnly(model), data, attack);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Result {
  attack: string;
  path: Path;
  steps: number;
  /** Median seconds per step, and of each phase (medians taken separately). */
  step: number;
  stepMin: number;
  stepMax: number;
  attackPhase: number;
  marginsPhase: number;
  gradientPhase: number;
  /** Implied seconds per epoch: ⌈n/80⌉ median steps. */
  epoch: number;
}

function run(name: string, path: Path, data: Dataset, steps: number, warmup: number): Result {
  const s = stepper(path, data, ATTACKS[name]);
  for (let w = 0; w < warmup; w++) s.step();
  const per: Phases[] = [];
  for (let k = 0; k < steps; k++) per.push(s.step());
  const total = per.map((p) => p.attack + p.margins + p.gradient);
  const step = median(total);
  return {
    attack: name,
    path,
    steps,
    step,
    stepMin: Math.min(...total),
    stepMax: Math.max(...total),
    attackPhase: median(per.map((p) => p.attack)),
    marginsPhase: median(per.map((p) => p.margins)),
    gradientPhase: median(per.map((p) => p.gradient)),
    epoch: Math.ceil(data.n / BATCH) * step,
  };
}

/** `train` and this file's loop give the same θ̂ after CHECK_STEPS steps (both paths). */
function check(): void {
  const data = loadData(`mnist:all;per=${CHECK_PER_CLASS}`);
  for (const name of Object.keys(ATTACKS)) {
    for (const path of ['per-example', 'batch'] as const) {
      const s = stepper(path, data, ATTACKS[name]);
      for (let k = 0; k < CHECK_STEPS; k++) s.step();
      const model = path === 'batch' ? mnistNet() : perExampleOnly(mnistNet());
      const r = train({
        model,
        data,
        attack: ATTACKS[name],
        loss: LOSS,
        schedule: SCHEDULE,
        steps: CHECK_STEPS,
        batchSize: BATCH,
        initScale: INIT_SCALE,
        seed: SEED,
        record: { kind: 'every', interval: 1e9 },
      });
      let diff = 0;
      for (let k = 0; k < r.thetaUnit.length; k++) diff = Math.max(diff, Math.abs(r.thetaUnit[k] - s.thetaHat[k]));
      const same = diff === 0 && r.logNorm === s.logRho;
      console.log(`check ${name} ${path}: max |θ̂_train − θ̂_bench| = ${diff}, log ρ ${r.logNorm} vs ${s.logRho}${same ? ' (identical)' : ''}`);
      if (!same) process.exitCode = 1;
    }
  }
}

function fmt(seconds: number): string {
  return seconds >= 10 ? seconds.toFixed(0) : seconds >= 1 ? seconds.toFixed(2) : seconds.toFixed(3);
}

function table(results: Result[]): string {
  const rows = [
    '| attack | path | steps | s/step (median) | min–max | attack | margins + loss | gradient + update | s/epoch (125 steps) | speed-up |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const base = results.find((q) => q.attack === r.attack && q.path === 'per-example');
    const speedup = base && r.path !== 'per-example' ? `${(base.step / r.step).toFixed(2)}×` : '';
    rows.push(
      `| ${r.attack} | ${r.path} | ${r.steps} | ${fmt(r.step)} | ${fmt(r.stepMin)}–${fmt(r.stepMax)} | ${fmt(r.attackPhase)} | ${fmt(r.marginsPhase)} | ${fmt(r.gradientPhase)} | ${fmt(r.epoch)} | ${speedup} |`,
    );
  }
  return rows.join('\n');
}

interface Args {
  steps: number;
  warmup: number;
  only: string[];
  paths: Path[];
  kernels: 'js' | 'wasm';
  json: string | null;
  check: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { steps: DEFAULT_STEPS, warmup: DEFAULT_WARMUP, only: Object.keys(ATTACKS), paths: ['per-example', 'batch'], kernels: 'js', json: null, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--steps') args.steps = Number(value());
    else if (a === '--warmup') args.warmup = Number(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--paths') args.paths = value().split(',') as Path[];
    else if (a === '--kernels') args.kernels = value() as Args['kernels'];
    else if (a === '--json') args.json = value();
    else if (a === '--check') args.check = true;
    else throw new Error(`unknown argument ${a} (allowed: --steps N, --warmup N, --only fgsm,pgd, --paths per-example,batch, --kernels js|wasm, --json FILE, --check)`);
  }
  if (!Number.isInteger(args.steps) || args.steps < 1) throw new Error(`--steps must be an integer ≥ 1, got ${args.steps}`);
  if (!Number.isInteger(args.warmup) || args.warmup < 0) throw new Error(`--warmup must be an integer ≥ 0, got ${args.warmup}`);
  for (const o of args.only) if (!(o in ATTACKS)) throw new Error(`--only: unknown attack ${o} (allowed: ${Object.keys(ATTACKS).join(', ')})`);
  for (const p of args.paths) if (p !== 'per-example' && p !== 'batch') throw new Error(`--paths: unknown path ${p} (allowed: per-example, batch)`);
  if (args.kernels !== 'js' && args.kernels !== 'wasm') throw new Error(`--kernels must be js or wasm, got ${args.kernels}`);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The WebAssembly kernels with their measured crossovers (small calls stay in JS).
  if (args.kernels === 'wasm') setKernels(await createWasmKernels());
  if (args.check) {
    check();
    return;
  }
  const loadStart = performance.now();
  const data = loadData('mnist:all');
  const c = cpus();
  console.log(
    `## MNIST training step — relu-mlp 784→1024→64→10, batch ${BATCH}, ${LOSS}; ${c.length > 0 ? c[0].model : 'cpu'} (${c.length} logical CPUs), ${platform()} ${release()} ${arch()}, Node ${process.version}, kernels ${kernels().name}, one thread\n`,
  );
  console.log(`data ${data.name}: n = ${data.n}, d = ${data.d}, ${data.classes} classes (loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s); ${args.warmup} warm-up + ${args.steps} timed steps per row\n`);
  const results: Result[] = [];
  for (const name of args.only) for (const path of args.paths) results.push(run(name, path, data, args.steps, args.warmup));
  console.log(table(results));
  console.log(`\nFGSM ε = 16/255; PGD ℓ∞ ${PGD_STEPS} × 6/255, ε = 16/255, no random start. Phases are medians of their own; s/epoch = ⌈${data.n}/${BATCH}⌉ × median step, no measurements.`);
  if (args.json !== null) {
    writeFileSync(args.json, JSON.stringify({ tool: 'advbias mnist-step', kernels: kernels().name, node: process.version, date: new Date().toISOString(), results }, null, 2) + '\n');
    console.log(`wrote ${args.json}`);
  }
}

await main();
