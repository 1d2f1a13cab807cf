/**
 * Wall time of one adversarial training step of the MNIST network of docs/THEORY.md §6 — relu-mlp
 * 784 → 1024 → 64 → 10 (L = 3, bias-free, 868,992 parameters), mini-batch 80, logistic loss,
 * constant schedule — with FGSM (ε = 16/255) and ℓ∞ PGD (5 steps of 6/255, ε = 16/255, no random
 * start), on the 10,000 digits of the `mnist` package (`mnist:all`), two ways:
 *
 *  - per-example: the model with its batch methods removed, and `MarginEvaluator.gradient` after
 *    `margins` — the code path every model took before the batch methods (one gemv per example and
 *    layer, and a second forward pass for the gradient);
 *  - batch: the model as it is — `forwardBatch`/`backwardBatch` (gemm) in the attack, the margins and
 *    the gradient, and `gradientAtLastMargins` reusing the margins' activations.
 *
 * The step is TrainingRun.takeStep (src/train/trainer.ts) for a non-loss-based schedule, written out
 * here because `train` measures the whole data set (attack included) at steps 0 and T, minutes of work
 * on 10,000 MNIST digits that is no part of a step. `--check` verifies that this loop computes the
 * same iterates as `train` (bit-identical θ̂ after a few steps on a 160-digit subset).
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
import { createAttack, validateAttackConfig, type Attack, type AttackConfig } from '../src/attacks/index.ts';
import { MarginEvaluator } from '../src/metrics/margins.ts';
import { logLossAndWeights, type LossKind } from '../src/losses/loss.ts';
import { baseRate, sphereCoefficient, type ScheduleConfig } from '../src/train/schedule.ts';
import { train } from '../src/train/trainer.ts';
import { lpNorm } from '../src/linalg/norms.ts';
import { Rng } from '../src/linalg/rng.ts';
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

/** TrainingRun's state and step (src/train/trainer.ts, non-loss-based schedules), without measurements. */
class Stepper {
  readonly thetaHat: Float64Array;
  logRho: number;
  t = 0;
  private readonly attack: Attack;
  private readonly evaluator: MarginEvaluator;
  private readonly batchRng: Rng;
  private readonly order: Int32Array;
  private readonly indices: Int32Array;
  private cursor: number;
  private readonly delta: Float64Array;
  private readonly Xadv: Float64Array;
  private readonly mhat: Float64Array;
  private readonly weights: Float64Array;
  private readonly grad: Float64Array;

  constructor(
    private readonly model: Model,
    private readonly data: Dataset,
    attack: AttackConfig,
    private readonly reuseActivations: boolean,
  ) {
    // As TrainingRun: three forked streams (init, batches, attack), θ = ρ·θ̂ with ‖θ̂‖ = 1.
    const root = new Rng(SEED);
    const streams = [root.fork(), root.fork(), root.fork()];
    this.batchRng = streams[1];
    const theta0 = model.init(streams[0], INIT_SCALE);
    const norm0 = lpNorm(theta0, 2);
    for (let k = 0; k < theta0.length; k++) theta0[k] /= norm0;
    this.thetaHat = theta0;
    this.logRho = Math.log(norm0);
    this.attack = createAttack(attack);
    this.evaluator = new MarginEvaluator(model, data);
    const { n, d } = data;
    const g = this.evaluator.groupSize;
    this.order = Int32Array.from({ length: n }, (_, i) => i);
    this.indices = new Int32Array(BATCH);
    this.cursor = n;
    this.delta = new Float64Array(n * d);
    this.Xadv = Float64Array.from(data.X);
    this.mhat = new Float64Array(BATCH * g);
    this.weights = new Float64Array(BATCH * g);
    this.grad = new Float64Array(model.numParams);
  }

  step(): Phases {
    const { model, data, indices, thetaHat, delta, Xadv, mhat, weights, grad } = this;
    const { n, d } = data;
    const t0 = performance.now();
    if (this.cursor + BATCH > n) {
      this.batchRng.shuffle(this.order);
      this.cursor = 0;
    }
    for (let b = 0; b < BATCH; b++) indices[b] = this.order[this.cursor + b];
    this.cursor += BATCH;
    this.attack.perturb(model, thetaHat, data, indices, delta, this.evaluator.ws, null);
    for (let b = 0; b < BATCH; b++) {
      const base = indices[b] * d;
      for (let j = 0; j < d; j++) Xadv[base + j] = data.X[base + j] + delta[base + j];
    }
    const t1 = performance.now();
    this.evaluator.margins(thetaHat, Xadv, indices, mhat);
    for (let k = 0; k < mhat.length; k++) if (!Number.isFinite(mhat[k])) throw new Error(`non-finite margin at step ${this.t}`);
    const logL = logLossAndWeights(LOSS, mhat, BATCH, this.evaluator.groupSize, model.order * this.logRho, weights);
    const t2 = performance.now();
    if (this.reuseActivations) this.evaluator.gradientAtLastMargins(weights, grad);
    else this.evaluator.gradient(thetaHat, Xadv, indices, weights, grad);
    const c = sphereCoefficient(SCHEDULE, baseRate(SCHEDULE, this.t), logL, this.logRho, model.order);
    let ss = 0;
    for (let k = 0; k < grad.length; k++) {
      const v = thetaHat[k] + c * grad[k];
      thetaHat[k] = v;
      ss += v * v;
    }
    const r = Math.sqrt(ss);
    for (let k = 0; k < grad.length; k++) thetaHat[k] /= r;
    this.logRho += Math.log(r);
    this.t++;
    const t3 = performance.now();
    return { attack: (t1 - t0) / 1000, margins: (t2 - t1) / 1000, gradient: (t3 - t2) / 1000 };
  }
}

function stepper(path: Path, data: Dataset, attack: AttackConfig): Stepper {
  const model = mnistNet();
  return path === 'batch' ? new Stepper(model, data, attack, true) : new Stepper(perExampleOnly(model), data, attack, false);
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
