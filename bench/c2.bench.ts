/**
 * Claim C2's two workloads, timed in advbias (docs/BENCHMARKS.md, "Claim C2 workloads"), beside the
 * PyTorch peer bench/peer_torch_c2.py (both driven by bench/run-c2.sh):
 *
 *  mnist-clean, mnist-fgsm, mnist-pgd — one epoch of docs/THEORY.md §6's MNIST run: relu-mlp 784 → 1024 → 64
 *    → 10 (L = 3, bias-free, 868,992 parameters), mini-batch 80, logistic (cross-entropy) loss summed
 *    over the batch, constant schedule (plain SGD θ ← θ − η∇L_batch, η = MNIST_LR as in
 *    experiments/c2-mnist.json), on the 10,000 digits of the `mnist` package (`mnist:all`), with no
 *    attack, FGSM ε = 16/255, or ℓ∞ PGD 5 × 6/255 (ε = 16/255, no random start). Each step is timed
 *    alone; the epoch time is extrapolated as ⌈10,000/80⌉ = 125 × the median step (measurements,
 *    which `train` takes on the whole data set at recorded steps, are no part of it).
 *  toy-fgsm — one full-batch step on the toy set of experiments/c2-toy.json (run fgsm-fast):
 *    `sectors:n=40,k=4,seed=0,gap=0.25`, relu-mlp L = 2 width 20 (80 parameters), FGSM ε = 0.2,
 *    exponential loss, loss-scaled sphere step η_t = 0.15/√(t+1), init scale 0.3. Timed as in
 *    bench/train-step.bench.ts: `train` with `onStep` clock stamps, windows of T − 1 steps.
 *
 * The MNIST step is the public one (`createStepper`, src/train/step.ts: the core `train` runs) with
 * the batch model path, driven here (as in bench/mnist-step.bench.ts) because `train` measures the
 * whole data set at step 0. `--self-check` verifies that this loop is `train`: bit-identical θ̂
 * and log ρ after a few steps on a 160-digit subset, for the three attacks.
 *
 * Usage: node --import tsx bench/c2.bench.ts [--kernels wasm|js|openblas] [--threads N] [--only mnist-clean,mnist-fgsm,mnist-pgd,toy-fgsm]
 *          [--steps N] [--max-seconds S] [--warmup N] [--toy-seconds S] [--toy-repeats N] [--label L] [--json FILE]
 *        node --import tsx bench/c2.bench.ts --export DIR     data, starting points and reference iterates for the peer
 *        node --import tsx bench/c2.bench.ts --self-check     the written-out MNIST step is `train`'s step
 *        node --import tsx bench/c2.bench.ts --measure        one recorded measurement of experiments/c2-mnist.json
 *          (8,000 digits, attack on all of them, KKT residuals on 32) per attack, at the starting point
 *   --steps N: timed MNIST steps per workload (default 200), stopping early once --max-seconds of
 *   timed steps have passed (default 60; never fewer than MIN_STEPS). Kernels default to wasm (the
 *   CLI's default); js is the plain-TypeScript reference.
 * Timings never go into tests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, platform, release, arch, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadData } from '../src/node/load-data.ts';
import { createReluMlp } from '../src/models/relu-mlp.ts';
import type { Model } from '../src/models/model.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { sectors } from '../src/data/sectors.ts';
import { validateAttackConfig, type AttackConfig } from '../src/attacks/index.ts';
import type { LossKind } from '../src/losses/loss.ts';
import type { ScheduleConfig } from '../src/train/schedule.ts';
import { createStepper, type EpochBatches, type MutableTrainState } from '../src/index.ts';
import { train, type TrainOptions } from '../src/train/trainer.ts';
import { Measurer } from '../src/metrics/measure.ts';
import { recordSteps } from '../src/train/record.ts';
import { kernels } from '../src/linalg/kernels.ts';
import { selectKernels } from '../src/node/select-kernels.ts';

// ---- MNIST workload (docs/THEORY.md §6, experiments/c2-mnist.json) ----
const MNIST_DATA = 'mnist:all';
const BATCH = 80;
const EPS = 16 / 255;
const PGD_STEPS = 5;
const PGD_STEP_SIZE = 6 / 255;
const WIDTHS = [1024, 64];
const CLASSES = 10;
const MNIST_LOSS: LossKind = 'logistic';
/** experiments/c2-mnist.json's η on the summed loss (plain SGD: the `constant` schedule). */
const MNIST_LR = 0.005;
const MNIST_SCHEDULE: ScheduleConfig = { kind: 'constant', lr: MNIST_LR, decay: 'none', form: 'sphere' };
const SEED = 0;
const MNIST_INIT_SCALE = 1;
const MNIST_ATTACKS: Record<string, AttackConfig> = {
  'mnist-clean': validateAttackConfig({ kind: 'none' }),
  'mnist-fgsm': validateAttackConfig({ kind: 'fgsm', eps: EPS }),
  'mnist-pgd': validateAttackConfig({ kind: 'pgd', p: 'inf', eps: EPS, steps: PGD_STEPS, stepSize: PGD_STEP_SIZE }),
};
/** Timed steps per MNIST workload, and the wall-time cap on them. */
const DEFAULT_STEPS = 200;
const DEFAULT_MAX_SECONDS = 60;
const DEFAULT_WARMUP = 5;
/** Never fewer timed steps than this, whatever the cap. */
const MIN_STEPS = 10;
/** --export: steps of the reference iterates the peer must reproduce (float64). */
const PEER_CHECK_STEPS_MNIST = 3;
/** --self-check: digits per class of the subset and steps compared with `train`. */
const SELF_CHECK_PER_CLASS = 16;
const SELF_CHECK_STEPS = 4;

/** --measure: experiments/c2-mnist.json's training set, KKT option, recording and steps. */
const EXPERIMENT_DATA = 'mnist:all;per=800';
const EXPERIMENT_KKT = { examples: 32 } as const;
const EXPERIMENT_RECORD = { kind: 'log', perDecade: 6 } as const;
const EXPERIMENT_STEPS = 4000;

// ---- toy workload (experiments/c2-toy.json, run fgsm-fast) ----
const TOY = { n: 40, k: 4, seed: 0, gap: 0.25 };
const TOY_ATTACK: AttackConfig = validateAttackConfig({ kind: 'fgsm', eps: 0.2 });
const TOY_SCHEDULE: ScheduleConfig = { kind: 'loss-scaled', lr: 0.15, decay: 'sqrt', form: 'sphere' };
const TOY_INIT_SCALE = 0.3;
const TOY_LOSS: LossKind = 'exp';
const PEER_CHECK_STEPS_TOY = 25;
const TOY_WARMUP_SECONDS = 0.4;
const TOY_MIN_STEPS = 20;
const NO_RECORD = { kind: 'every', interval: 1e9 } as const;

const WORKLOADS = [...Object.keys(MNIST_ATTACKS), 'toy-fgsm'];

function mnistNet(): Model {
  return createReluMlp({ inputDim: 784, depth: 3, width: WIDTHS, outputs: CLASSES });
}

function toyNet(): Model {
  return createReluMlp({ inputDim: 2, depth: 2, width: 20, outputs: 1 });
}

/**
 * The public step (src/train/step.ts, the core `train` runs), in place through `stepInto`, with the
 * mini-batches `train` draws (batch path); no measurements.
 */
class Stepper {
  private readonly core: ReturnType<typeof createStepper>;
  private readonly state: MutableTrainState;
  private readonly batches: EpochBatches;
  /** The indices of the last step's batch. */
  indices: Int32Array = new Int32Array(0);

  constructor(model: Model, data: Dataset, attack: AttackConfig) {
    this.core = createStepper({ model, data, attack, loss: MNIST_LOSS, schedule: MNIST_SCHEDULE, initScale: MNIST_INIT_SCALE });
    this.state = { ...this.core.init(SEED) };
    this.batches = this.core.batches(SEED, BATCH)!;
  }

  get thetaHat(): Float64Array {
    return this.state.thetaHat;
  }

  get logRho(): number {
    return this.state.logRho;
  }

  /** One step; returns its wall time in seconds. */
  step(): number {
    const t0 = performance.now();
    this.indices = this.batches.next();
    this.core.stepInto(this.state, this.indices, this.state);
    return (performance.now() - t0) / 1000;
  }
}

function toyOptions(steps: number, onStep?: (t: number) => void): TrainOptions {
  return {
    model: toyNet(),
    data: sectors(TOY),
    attack: TOY_ATTACK,
    loss: TOY_LOSS,
    schedule: TOY_SCHEDULE,
    steps,
    batchSize: 0,
    initScale: TOY_INIT_SCALE,
    seed: SEED,
    record: NO_RECORD,
    onStep,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One workload's result; times in µs per step (`epochSeconds` for MNIST only). */
interface Result {
  id: string;
  /** Timed steps (MNIST: in total; toy: per window). */
  steps: number;
  repeats: number;
  usPerStepMedian: number;
  usPerStepMin: number;
  usPerStepMax: number;
  usPerStepMean: number;
  /** MNIST: 125 × the median step, in seconds. */
  epochSeconds: number | null;
  /** MNIST: median minor page faults per step (fresh memory from the OS; advbias preallocates). */
  minorFaultsPerStepMedian: number | null;
}

function benchMnist(id: string, data: Dataset, steps: number, maxSeconds: number, warmup: number): Result {
  const s = new Stepper(mnistNet(), data, MNIST_ATTACKS[id]);
  for (let w = 0; w < warmup; w++) s.step();
  const per: number[] = [];
  const faults: number[] = [];
  let total = 0;
  while (per.length < steps && (per.length < MIN_STEPS || total < maxSeconds)) {
    const f0 = process.resourceUsage().minorPageFault;
    const dt = s.step();
    faults.push(process.resourceUsage().minorPageFault - f0);
    per.push(dt);
    total += dt;
  }
  const us = per.map((x) => x * 1e6);
  const med = median(us);
  return {
    id,
    steps: per.length,
    repeats: 1,
    usPerStepMedian: med,
    usPerStepMin: Math.min(...us),
    usPerStepMax: Math.max(...us),
    usPerStepMean: us.reduce((a, b) => a + b, 0) / us.length,
    epochSeconds: (Math.ceil(data.n / BATCH) * med) / 1e6,
    minorFaultsPerStepMedian: median(faults),
  };
}

/** Seconds for steps 2..T of one toy run of T steps (T − 1 steps). */
function toyRun(T: number): number {
  let start = 0;
  let end = 0;
  train(
    toyOptions(T, (t) => {
      if (t === 1) start = performance.now();
      else if (t === T) end = performance.now();
    }),
  );
  return (end - start) / 1000;
}

function benchToy(seconds: number, repeats: number): Result {
  let T = TOY_MIN_STEPS + 1;
  let perStep = 0;
  for (;;) {
    const s = toyRun(T);
    perStep = s / (T - 1);
    if (s >= TOY_WARMUP_SECONDS) break;
    T = Math.max(2 * T, Math.ceil(TOY_WARMUP_SECONDS / Math.max(perStep, 1e-9)) + 1);
  }
  const steps = Math.max(TOY_MIN_STEPS, Math.round(seconds / perStep)) + 1;
  const us: number[] = [];
  for (let r = 0; r < repeats; r++) us.push((toyRun(steps) / (steps - 1)) * 1e6);
  return {
    id: 'toy-fgsm',
    steps: steps - 1,
    repeats,
    usPerStepMedian: median(us),
    usPerStepMin: Math.min(...us),
    usPerStepMax: Math.max(...us),
    usPerStepMean: us.reduce((a, b) => a + b, 0) / us.length,
    epochSeconds: null,
    minorFaultsPerStepMedian: null,
  };
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function machine(label: string, threads: number): Record<string, unknown> {
  const c = cpus();
  return {
    cpu: c.length > 0 ? c[0].model : 'unknown',
    logicalCpus: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    kernels: kernels().name,
    threads,
    label,
  };
}

function fmtUs(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(3);
}

function table(results: Result[]): string {
  const rows = [
    '| workload | steps × repeats | µs/step (median) | min–max | mean | s/epoch (125 × median) | minor faults/step |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const epoch = r.epochSeconds === null ? '–' : r.epochSeconds.toFixed(2);
    const flt = r.minorFaultsPerStepMedian === null ? '–' : String(r.minorFaultsPerStepMedian);
    rows.push(`| ${r.id} | ${r.steps} × ${r.repeats} | ${fmtUs(r.usPerStepMedian)} | ${fmtUs(r.usPerStepMin)}–${fmtUs(r.usPerStepMax)} | ${fmtUs(r.usPerStepMean)} | ${epoch} | ${flt} |`);
  }
  return rows.join('\n');
}

/**
 * Writes, for bench/peer_torch_c2.py: the MNIST data (X.f64: n×784 float64 little-endian; y.i32),
 * and per MNIST attack the starting point, the batch indices of PEER_CHECK_STEPS_MNIST steps and the
 * iterate after them (mnist-check.json, θ̂ in theta-*.f64); the toy data, start and iterate after
 * PEER_CHECK_STEPS_TOY steps (toy.json). With the kernels installed (wasm by default).
 */
function exportForPeer(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const data = loadData(MNIST_DATA);
  const f64 = (name: string, a: Float64Array): void => writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  f64('X.f64', data.X);
  writeFileSync(join(dir, 'y.i32'), new Uint8Array(data.y.buffer, data.y.byteOffset, data.y.byteLength));
  const model = mnistNet();
  const check: Record<string, unknown> = {
    n: data.n,
    d: data.d,
    classes: data.classes,
    layout: model.layout,
    batch: BATCH,
    lr: MNIST_LR,
    eps: EPS,
    pgdSteps: PGD_STEPS,
    pgdStepSize: PGD_STEP_SIZE,
    steps: PEER_CHECK_STEPS_MNIST,
    kernels: kernels().name,
    attacks: {} as Record<string, unknown>,
  };
  for (const id of Object.keys(MNIST_ATTACKS)) {
    const s = new Stepper(mnistNet(), data, MNIST_ATTACKS[id]);
    if (id === 'mnist-clean') {
      // Same start for every attack (same seed): written once.
      f64('theta0.f64', s.thetaHat);
      check.logNorm0 = s.logRho;
    }
    const batches: number[][] = [];
    for (let k = 0; k < PEER_CHECK_STEPS_MNIST; k++) {
      s.step();
      batches.push(Array.from(s.indices));
    }
    f64(`theta-${id}.f64`, s.thetaHat);
    (check.attacks as Record<string, unknown>)[id] = { attack: { ...MNIST_ATTACKS[id], p: 'inf' }, batches, logNorm: s.logRho };
  }
  writeFileSync(join(dir, 'mnist-check.json'), JSON.stringify(check));
  const toyData = sectors(TOY);
  const start = train(toyOptions(0));
  const end = train(toyOptions(PEER_CHECK_STEPS_TOY));
  const toy = {
    name: toyData.name,
    n: toyData.n,
    d: toyData.d,
    X: Array.from(toyData.X),
    y: Array.from(toyData.y),
    layout: toyNet().layout,
    eps: TOY_ATTACK.eps,
    lr: TOY_SCHEDULE.lr,
    steps: PEER_CHECK_STEPS_TOY,
    thetaUnit0: Array.from(start.thetaUnit),
    logNorm0: start.logNorm,
    thetaUnit: Array.from(end.thetaUnit),
    logNorm: end.logNorm,
  };
  writeFileSync(join(dir, 'toy.json'), JSON.stringify(toy));
  console.log(`wrote ${dir}: MNIST n = ${data.n} (X.f64, y.i32, theta0.f64, ${PEER_CHECK_STEPS_MNIST}-step reference iterates per attack, kernels ${kernels().name}), toy (${PEER_CHECK_STEPS_TOY} steps)`);
}

/** The written-out step is `train`'s: bit-identical θ̂ and log ρ on a subset, every attack. */
function selfCheck(): boolean {
  const data = loadData(`${MNIST_DATA};per=${SELF_CHECK_PER_CLASS}`);
  let ok = true;
  for (const id of Object.keys(MNIST_ATTACKS)) {
    const s = new Stepper(mnistNet(), data, MNIST_ATTACKS[id]);
    for (let k = 0; k < SELF_CHECK_STEPS; k++) s.step();
    const r = train({
      model: mnistNet(),
      data,
      attack: MNIST_ATTACKS[id],
      loss: MNIST_LOSS,
      schedule: MNIST_SCHEDULE,
      steps: SELF_CHECK_STEPS,
      batchSize: BATCH,
      initScale: MNIST_INIT_SCALE,
      seed: SEED,
      record: NO_RECORD,
    });
    let diff = 0;
    for (let k = 0; k < r.thetaUnit.length; k++) diff = Math.max(diff, Math.abs(r.thetaUnit[k] - s.thetaHat[k]));
    const same = diff === 0 && r.logNorm === s.logRho;
    console.log(`self-check ${id} (kernels ${kernels().name}): max |θ̂_train − θ̂_bench| = ${diff} after ${SELF_CHECK_STEPS} steps, log ρ ${r.logNorm} vs ${s.logRho}${same ? ' (identical)' : ' MISMATCH'}`);
    ok &&= same;
  }
  return ok;
}

/**
 * Wall time of one history row (`Measurer.measure`, what `train` does at every recorded step) in the
 * setting of experiments/c2-mnist.json, per attack, at θ₀; and how many rows that run records.
 */
function measureCost(): void {
  const data = loadData(EXPERIMENT_DATA);
  const rows = recordSteps(EXPERIMENT_RECORD, EXPERIMENT_STEPS).length + 1; // + the final measurement
  console.log(`one measurement on ${data.name} (n = ${data.n}), KKT on ${EXPERIMENT_KKT.examples} examples, kernels ${kernels().name}; the run records ${rows} (log:6 over ${EXPERIMENT_STEPS} steps, + final); loadavg ${loadavg()}`);
  for (const id of Object.keys(MNIST_ATTACKS)) {
    const s = new Stepper(mnistNet(), data, MNIST_ATTACKS[id]);
    const m = new Measurer(mnistNet(), data, MNIST_ATTACKS[id], MNIST_LOSS, null, SEED, EXPERIMENT_KKT);
    const times: number[] = [];
    for (let r = 0; r < 2; r++) {
      const t0 = performance.now();
      m.measure(0, s.thetaHat, s.logRho, MNIST_LR);
      times.push((performance.now() - t0) / 1000);
    }
    console.log(`${id}: ${times.map((t) => t.toFixed(2)).join(' s, ')} s per measurement (two calls); × ${rows} rows ≈ ${(median(times) * rows).toFixed(0)} s per run`);
  }
}

interface Args {
  measure: boolean;
  kernels: 'js' | 'wasm' | 'openblas';
  threads: number;
  only: string[];
  steps: number;
  maxSeconds: number;
  warmup: number;
  toySeconds: number;
  toyRepeats: number;
  label: string;
  json: string | null;
  exportDir: string | null;
  selfCheck: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    kernels: 'wasm',
    threads: 1,
    only: WORKLOADS,
    steps: DEFAULT_STEPS,
    maxSeconds: DEFAULT_MAX_SECONDS,
    warmup: DEFAULT_WARMUP,
    toySeconds: 0.4,
    toyRepeats: 3,
    label: '',
    json: null,
    exportDir: null,
    selfCheck: false,
    measure: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--kernels') args.kernels = value() as Args['kernels'];
    else if (a === '--threads') args.threads = Number(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--steps') args.steps = Number(value());
    else if (a === '--max-seconds') args.maxSeconds = Number(value());
    else if (a === '--warmup') args.warmup = Number(value());
    else if (a === '--toy-seconds') args.toySeconds = Number(value());
    else if (a === '--toy-repeats') args.toyRepeats = Number(value());
    else if (a === '--label') args.label = value();
    else if (a === '--json') args.json = value();
    else if (a === '--export') args.exportDir = value();
    else if (a === '--self-check') args.selfCheck = true;
    else if (a === '--measure') args.measure = true;
    else
      throw new Error(
        `unknown argument ${a} (allowed: --kernels wasm|js|openblas, --threads N, --only ${WORKLOADS.join(',')}, --steps N, --max-seconds S, --warmup N, --toy-seconds S, --toy-repeats N, --label L, --json FILE, --export DIR, --self-check, --measure)`,
      );
  }
  if (!['js', 'wasm', 'openblas'].includes(args.kernels)) throw new Error(`--kernels must be js, wasm or openblas, got ${args.kernels}`);
  for (const o of args.only) if (!WORKLOADS.includes(o)) throw new Error(`--only: unknown workload ${o} (allowed: ${WORKLOADS.join(', ')})`);
  if (!Number.isInteger(args.steps) || args.steps < 1) throw new Error(`--steps must be an integer ≥ 1, got ${args.steps}`);
  if (!(args.maxSeconds > 0)) throw new Error(`--max-seconds must be > 0, got ${args.maxSeconds}`);
  if (!Number.isInteger(args.warmup) || args.warmup < 0) throw new Error(`--warmup must be an integer ≥ 0, got ${args.warmup}`);
  if (!(args.toySeconds > 0)) throw new Error(`--toy-seconds must be > 0, got ${args.toySeconds}`);
  if (!Number.isInteger(args.toyRepeats) || args.toyRepeats < 1) throw new Error(`--toy-repeats must be an integer ≥ 1, got ${args.toyRepeats}`);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await selectKernels(args.kernels, args.threads);
  if (args.selfCheck) {
    if (!selfCheck()) process.exitCode = 1;
    return;
  }
  if (args.measure) {
    measureCost();
    return;
  }
  if (args.exportDir !== null) {
    exportForPeer(args.exportDir);
    return;
  }
  const label = args.label || `advbias ${kernels().name}`;
  const info = machine(label, args.threads);
  const loadBefore = loadavg();
  console.log(`## advbias C2 workloads (${label}) — ${info.cpu} (${info.logicalCpus} logical CPUs), Node ${info.node}, kernels ${info.kernels}, one thread; loadavg ${loadBefore}\n`);
  const results: Result[] = [];
  const mnistIds = args.only.filter((o) => o in MNIST_ATTACKS);
  if (mnistIds.length > 0) {
    const data = loadData(MNIST_DATA);
    for (const id of mnistIds) results.push(benchMnist(id, data, args.steps, args.maxSeconds, args.warmup));
  }
  if (args.only.includes('toy-fgsm')) results.push(benchToy(args.toySeconds, args.toyRepeats));
  console.log(table(results));
  const loadAfter = loadavg();
  console.log(`\nMNIST: ${args.warmup} warm-up steps, then up to ${args.steps} timed steps (at most ${args.maxSeconds} s, at least ${MIN_STEPS}); toy: windows of ~${args.toySeconds} s. loadavg after: ${loadAfter}`);
  if (args.json !== null) {
    writeFileSync(args.json, JSON.stringify({ tool: 'advbias', machine: info, loadavg: [loadBefore, loadAfter], date: new Date().toISOString(), results }, null, 2) + '\n');
    console.log(`wrote ${args.json}`);
  }
}

await main();
