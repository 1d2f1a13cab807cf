/**
 * Per-step wall time of `train` (src/train/trainer.ts) on four fixed configurations (docs/BENCHMARKS.md):
 *
 *  (a) S2, deep-linear L = 3, width 10, exact ℓ∞ attack ε = 0.25;
 *  (b) synthetic n = 100, d = 20 (margin 0.1, seed 0), deep-linear L = 3, width 50, PGD-10 ℓ∞,
 *      ε = 0.05, α = 2.5ε/10;
 *  (c) as (b) with FGSM;
 *  (d) as (b) with a relu-mlp L = 2, width 50;
 *  (e) as (b) with the exact ℓ∞ attack (the same δ as PGD-10 on this linear-in-x model), for scale.
 *
 * All: exponential loss, loss-scaled schedule (sphere form, η_t = 0.1/√(t+1)), full batch, seed 0,
 * init scale 1 — the CLI defaults before issue 11 (the default schedule is now `normalized`).
 *
 * Timing: `onStep` stamps the clock after step 1 and after step T, so the window holds exactly T − 1
 * training steps and none of the work outside them (set-up, the measurements that `train` always
 * takes at steps 0 and T, the final measurement). Recording is `every 1e9` so that no other row is
 * measured. Per configuration: one warm-up run that also calibrates T to about TARGET_SECONDS, then
 * REPEATS timed runs; the median is reported (min and max alongside).
 *
 * Usage: npm run bench [-- --json FILE] [--repeats N] [--seconds S] [--only a,b] [--peer-check FILE]
 *   Kernels as `train` picks them (ADVBIAS_KERNELS=auto|openblas|wasm|js, ADVBIAS_THREADS).
 *   --peer-check FILE writes the data, θ̂₀, log ρ₀ and the unit parameters after PEER_CHECK_STEPS steps
 *   of (a)–(d), for bench/peer_torch.py --check FILE (does the peer run the same algorithm?).
 * Timings never go into tests.
 */
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { train, type TrainOptions } from '../src/train/trainer.ts';
import { createDeepLinear } from '../src/models/deep-linear.ts';
import { createReluMlp } from '../src/models/relu-mlp.ts';
import { s2 } from '../src/data/builtin.ts';
import { syntheticSeparable } from '../src/data/synthetic.ts';
import { kernels } from '../src/linalg/kernels.ts';
import { selectKernelsFromEnv } from '../src/node/select-kernels.ts';
import type { AttackConfig } from '../src/attacks/attack.ts';
import type { Model } from '../src/models/model.ts';
import type { Dataset } from '../src/data/dataset.ts';

/** Wall time aimed at per timed run (the brief: a few seconds per configuration on 2 cores). */
const TARGET_SECONDS = 0.6;
/** Timed runs per configuration; the median is reported. */
const REPEATS = 5;
/** Steps of the first (warm-up, calibration) run: the JIT has optimized the hot loops well before. */
const WARMUP_SECONDS = 0.4;
/** At least this many steps in a timed window, so that clock resolution (≈ 1 µs) is irrelevant. */
const MIN_STEPS = 20;
/** Steps compared with the PyTorch peer by --peer-check. */
const PEER_CHECK_STEPS = 25;
/** Recording interval larger than any T: only steps 0 and T are measured, both outside the window. */
const NO_RECORD = { kind: 'every', interval: 1e9 } as const;

/** PGD settings shared by (b) and (d): ℓ∞, ε = 0.05, K = 10, α = 2.5ε/K (Madry et al.). */
const PGD_EPS = 0.05;
const PGD_STEPS = 10;
const PGD_STEP_FACTOR = 2.5;

/** One benchmark configuration. */
interface Case {
  readonly id: string;
  readonly label: string;
  readonly model: () => Model;
  readonly data: () => Dataset;
  readonly attack: AttackConfig;
}

const synthetic = (): Dataset => syntheticSeparable({ n: 100, d: 20, margin: 0.1, seed: 0 });
const pgd: AttackConfig = { kind: 'pgd', p: Infinity, eps: PGD_EPS, steps: PGD_STEPS, stepSize: (PGD_STEP_FACTOR * PGD_EPS) / PGD_STEPS, randomStart: false };

const CASES: readonly Case[] = [
  {
    id: 'a',
    label: 'S2 (n=2,d=2), deep-linear L=3 w=10, exact ℓ∞ ε=0.25',
    model: () => createDeepLinear({ inputDim: 2, depth: 3, width: 10 }),
    data: () => s2(),
    attack: { kind: 'exact', p: Infinity, eps: 0.25, steps: 1, stepSize: 0.25, randomStart: false },
  },
  {
    id: 'b',
    label: 'synthetic n=100 d=20, deep-linear L=3 w=50, PGD-10 ℓ∞ ε=0.05',
    model: () => createDeepLinear({ inputDim: 20, depth: 3, width: 50 }),
    data: synthetic,
    attack: pgd,
  },
  {
    id: 'c',
    label: 'synthetic n=100 d=20, deep-linear L=3 w=50, FGSM ε=0.05',
    model: () => createDeepLinear({ inputDim: 20, depth: 3, width: 50 }),
    data: synthetic,
    attack: { kind: 'fgsm', p: Infinity, eps: PGD_EPS, steps: 1, stepSize: PGD_EPS, randomStart: false },
  },
  {
    id: 'd',
    label: 'synthetic n=100 d=20, relu-mlp L=2 w=50, PGD-10 ℓ∞ ε=0.05',
    model: () => createReluMlp({ inputDim: 20, depth: 2, width: 50, outputs: 1 }),
    data: synthetic,
    attack: pgd,
  },
  {
    // Not asked for: what (b) costs when the attack is formed once from β (for this linear-in-x model
    // with p = ∞ and Kα = 2.5ε ≥ ε, PGD-10 and FGSM reach exactly this δ: see docs/BENCHMARKS.md).
    id: 'e',
    label: 'as (b) with exact ℓ∞ ε=0.05 (same δ as PGD-10 here)',
    model: () => createDeepLinear({ inputDim: 20, depth: 3, width: 50 }),
    data: synthetic,
    attack: { kind: 'exact', p: Infinity, eps: PGD_EPS, steps: 1, stepSize: PGD_EPS, randomStart: false },
  },
];

function options(c: Case, steps: number, onStep?: (t: number) => void): TrainOptions {
  return {
    model: c.model(),
    data: c.data(),
    attack: c.attack,
    loss: 'exp',
    schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
    steps,
    batchSize: 0,
    initScale: 1,
    seed: 0,
    record: NO_RECORD,
    onStep,
  };
}

/** Seconds for steps 2..T of one run of T steps (T − 1 steps). */
function timedRun(c: Case, T: number): number {
  let start = 0;
  let end = 0;
  train(
    options(c, T, (t) => {
      if (t === 1) start = performance.now();
      else if (t === T) end = performance.now();
    }),
  );
  return (end - start) / 1000;
}

interface CaseResult {
  id: string;
  label: string;
  params: number;
  stepsPerRun: number;
  repeats: number;
  usPerStepMedian: number;
  usPerStepMin: number;
  usPerStepMax: number;
  stepsPerSecond: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function benchCase(c: Case, repeats: number, seconds: number): CaseResult {
  // Warm-up and calibration: grow T until one run takes WARMUP_SECONDS.
  let T = MIN_STEPS + 1;
  let perStep = 0;
  for (;;) {
    const s = timedRun(c, T);
    perStep = s / (T - 1);
    if (s >= WARMUP_SECONDS) break;
    T = Math.max(2 * T, Math.ceil(WARMUP_SECONDS / Math.max(perStep, 1e-9)) + 1);
  }
  const steps = Math.max(MIN_STEPS, Math.round(seconds / perStep)) + 1;
  const per: number[] = [];
  for (let r = 0; r < repeats; r++) per.push((timedRun(c, steps) / (steps - 1)) * 1e6);
  const med = median(per);
  return {
    id: c.id,
    label: c.label,
    params: c.model().numParams,
    stepsPerRun: steps - 1,
    repeats,
    usPerStepMedian: med,
    usPerStepMin: Math.min(...per),
    usPerStepMax: Math.max(...per),
    stepsPerSecond: 1e6 / med,
  };
}

function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    cpu: c.length > 0 ? c[0].model : 'unknown',
    logicalCpus: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    kernels: kernels().name,
    threads: 1,
  };
}

function fmt(x: number, digits = 3): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toPrecision(digits);
}

function table(results: CaseResult[]): string {
  const rows = [
    '| case | configuration | params | steps × repeats | µs/step (median) | min–max | steps/s |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    rows.push(`| ${r.id} | ${r.label} | ${r.params} | ${r.stepsPerRun} × ${r.repeats} | ${fmt(r.usPerStepMedian)} | ${fmt(r.usPerStepMin)}–${fmt(r.usPerStepMax)} | ${fmt(r.stepsPerSecond)} |`);
  }
  return rows.join('\n');
}

/** Data, starting point and the result after PEER_CHECK_STEPS steps, for the PyTorch peer's check. */
function peerCheck(cases: readonly Case[]): Record<string, unknown> {
  const out: Record<string, unknown> = { steps: PEER_CHECK_STEPS, cases: {} as Record<string, unknown> };
  for (const c of cases) {
    const start = train(options(c, 0));
    const end = train(options(c, PEER_CHECK_STEPS));
    const data = c.data();
    const model = c.model();
    (out.cases as Record<string, unknown>)[c.id] = {
      model: model.spec,
      layout: model.layout,
      attack: { ...c.attack, p: 'inf' },
      n: data.n,
      d: data.d,
      X: Array.from(data.X),
      y: Array.from(data.y),
      thetaUnit0: Array.from(start.thetaUnit),
      logNorm0: start.logNorm,
      thetaUnit: Array.from(end.thetaUnit),
      logNorm: end.logNorm,
    };
  }
  return out;
}

function parseArgs(argv: string[]): { json: string | null; repeats: number; seconds: number; only: Set<string> | null; peerCheck: string | null } {
  const args = { json: null as string | null, repeats: REPEATS, seconds: TARGET_SECONDS, only: null as Set<string> | null, peerCheck: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = value();
    else if (a === '--repeats') args.repeats = Number(value());
    else if (a === '--seconds') args.seconds = Number(value());
    else if (a === '--only') args.only = new Set(value().split(','));
    else if (a === '--peer-check') args.peerCheck = value();
    else throw new Error(`unknown argument ${a} (allowed: --json FILE, --repeats N, --seconds S, --only a,b,c,d,e, --peer-check FILE)`);
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be an integer ≥ 1, got ${args.repeats}`);
  if (!(args.seconds > 0)) throw new Error(`--seconds must be > 0, got ${args.seconds}`);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The kernels `train` would pick (ADVBIAS_KERNELS, ADVBIAS_THREADS; default auto: OpenBLAS when present).
  await selectKernelsFromEnv();
  const cases = CASES.filter((c) => args.only === null || args.only.has(c.id));
  if (args.peerCheck !== null) {
    writeFileSync(args.peerCheck, JSON.stringify(peerCheck(cases)));
    console.log(`wrote ${args.peerCheck} (${cases.length} cases, ${PEER_CHECK_STEPS} steps each)`);
    return;
  }
  const info = machine();
  console.log(`## advbias train step — ${info.cpu} (${info.logicalCpus} logical CPUs), Node ${info.node}, kernels ${info.kernels}, single thread\n`);
  const results: CaseResult[] = [];
  for (const c of cases) results.push(benchCase(c, args.repeats, args.seconds));
  console.log(table(results));
  console.log('\nexp loss, loss-scaled (sphere, η_t = 0.1/√(t+1)), full batch; time of steps 2..T only (no measurements).');
  if (args.json !== null) {
    writeFileSync(args.json, JSON.stringify({ tool: 'advbias', machine: info, date: new Date().toISOString(), results }, null, 2) + '\n');
    console.log(`wrote ${args.json}`);
  }
}

await main();
