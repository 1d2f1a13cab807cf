/**
 * Issue 11, part 1: does the default schedule converge without tuning at every data scale?
 * (docs/BENCHMARKS.md, "Default schedule").
 *
 * Grid: models deep-linear L = 3, diagonal L = 2, conv L = 2 (width and init: the CLI defaults) ×
 * attacks exact and PGD-10, p = ∞ and 2 × seeded Gaussian sets (`synthetic:`; n ∈ [50, 500],
 * d ∈ [10, 50], planted margin ∈ [0.05, 0.3], drawn from the data seed) × data scale 0.1, 1, 10
 * (X multiplied; ε scales with it). ε = 0.1·margin·scale for p = 2 and 0.1·margin·scale/√d for
 * p = ∞, so that every set stays adversarially separable. Reference: `--reference auto` (the
 * adversarial SVM, or the C3 interpolation-norm solution for diagonal and conv). Full batch,
 * exponential loss, seed 0.
 *
 * For each schedule (the default, i.e. `parseTrainConfig({})`'s, and with --compare the old default
 * loss-scaled η₀ = 0.1/√(t+1)), the steps and wall time until 1 − cos(β, u*) < 1e-4 and < 1e-6, and
 * 1 − cos after T steps (checked every CHECK_EVERY steps and at log-spaced steps).
 *
 * Usage: node --import tsx bench/default-schedule.bench.ts [--steps 30000] [--sets 2] [--compare]
 *          [--only deep-linear,conv] [--attacks exact-inf,pgd-2] [--scales 0.1,1,10] [--json FILE]
 *          [--override JSON]  (settings merged into every config, e.g. '{"lr":0.05}')
 *          [--export FILE]   (the exact-attack cases of every model, as JSON for
 *                             bench/peer_torch_schedule.py: data, ε, u*, θ₀ = ρ₀θ̂₀ in the model's
 *                             layout and β(θ₀); the peer trains the same network from that θ₀)
 * Timings never go into tests.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseTrainConfig, type TrainConfig } from '../src/train/config.ts';
import { modelFromConfig, attackFromConfig, scheduleFromConfig } from '../src/train/from-config.ts';
import { autoReference } from '../src/train/reference.ts';
import { createStepper } from '../src/train/step.ts';
import { MarginEvaluator } from '../src/metrics/margins.ts';
import { syntheticSeparable } from '../src/data/synthetic.ts';
import { Rng } from '../src/linalg/rng.ts';
import type { Dataset } from '../src/data/dataset.ts';

/** How often 1 − cos is checked once below 1e-4 (it is checked every step before). */
const CHECK_EVERY = 10;
const THRESHOLDS = [1e-4, 1e-6] as const;
/** ε as a fraction of the planted margin (ℓ2; divided by √d for ℓ∞). */
const EPS_FRACTION = 0.1;

const args = process.argv.slice(2);
const opt = (name: string): string | null => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : null;
};
const T = Number(opt('--steps') ?? 30000);
const SETS = Number(opt('--sets') ?? 2);
const MODELS = (opt('--only') ?? 'deep-linear,diagonal,conv').split(',');
const ATTACKS = (opt('--attacks') ?? 'exact-inf,exact-2,pgd-inf,pgd-2').split(',');
const SCALES = (opt('--scales') ?? '0.1,1,10').split(',').map(Number);
const COMPARE = args.includes('--compare');
/** Settings merged into every run's config (e.g. '{"lr":0.05}'), to try a candidate default. */
const OVERRIDE = JSON.parse(opt('--override') ?? '{}') as Record<string, unknown>;
/** Where the exact-attack cases go for bench/peer_torch_schedule.py (--export FILE). */
const exportOut = opt('--export');

/** The seeded data sets of the grid: (n, d, margin) drawn uniformly from the ranges. */
function gridSets(count: number): { n: number; d: number; margin: number; seed: number }[] {
  const rng = new Rng(11);
  const out = [];
  for (let k = 0; k < count; k++) {
    const n = 50 + Math.floor(rng.uniform() * 451);
    const d = 10 + Math.floor(rng.uniform() * 41);
    const margin = Math.round((0.05 + rng.uniform() * 0.25) * 1000) / 1000;
    out.push({ n, d, margin, seed: 100 + k });
  }
  return out;
}

function scaled(data: Dataset, scale: number): Dataset {
  return { ...data, name: `${data.name}×${scale}`, X: data.X.map((v) => v * scale) };
}

interface Outcome {
  hits: (number | null)[];
  ms: (number | null)[];
  final: number;
  totalMs: number;
}

/** Runs `config` for T steps on `data`; steps and ms until each threshold, and 1 − cos at T. */
function run(config: TrainConfig, data: Dataset, u: Float64Array): Outcome {
  const model = modelFromConfig(config, data);
  const stepper = createStepper({ model, data, attack: attackFromConfig(config), loss: config.loss, schedule: scheduleFromConfig(config), initScale: config.initScale });
  const ev = new MarginEvaluator(model, data);
  const beta = new Float64Array(data.d);
  const oneMinusCos = (theta: Float64Array): number => {
    ev.predictor(theta, beta);
    let a = 0;
    let b = 0;
    for (let j = 0; j < data.d; j++) {
      a += beta[j] * u[j];
      b += beta[j] * beta[j];
    }
    return 1 - a / Math.sqrt(b);
  };
  const state = { ...stepper.init(config.seed) } as Parameters<typeof stepper.stepInto>[2];
  const hits: (number | null)[] = THRESHOLDS.map(() => null);
  const ms: (number | null)[] = THRESHOLDS.map(() => null);
  let measureMs = 0;
  const t0 = performance.now();
  for (let t = 1; t <= T; t++) {
    stepper.stepInto(state, null, state);
    if (hits[0] === null || t % CHECK_EVERY === 0 || t === T) {
      const m0 = performance.now();
      const e = oneMinusCos(state.thetaHat);
      measureMs += performance.now() - m0;
      THRESHOLDS.forEach((th, k) => {
        if (hits[k] === null && e < th) {
          hits[k] = t;
          ms[k] = performance.now() - t0 - measureMs;
        }
      });
    }
  }
  return { hits, ms, final: oneMinusCos(state.thetaHat), totalMs: performance.now() - t0 - measureMs };
}

const fmtHit = (h: number | null, ms: number | null): string => (h === null ? `> ${T}` : `${h} (${(ms! / 1000).toFixed(2)} s)`);

const rows: Record<string, unknown>[] = [];
const exported: Record<string, unknown>[] = [];
console.log(`T = ${T}; sets ${JSON.stringify(gridSets(SETS))}`);
console.log('| model | attack | n, d, margin | scale | schedule | steps (time) to 1−cos < 1e-4 | to 1e-6 | 1−cos at T |');
console.log('|---|---|---|---|---|---|---|---|');
for (const set of gridSets(SETS)) {
  const base = syntheticSeparable(set);
  for (const scale of SCALES) {
    const data = scaled(base, scale);
    for (const modelKind of MODELS) {
      for (const a of ATTACKS) {
        const [attack, p] = a.split('-');
        const eps = (EPS_FRACTION * set.margin * scale) / (p === 'inf' ? Math.sqrt(set.d) : 1);
        const depth = modelKind === 'deep-linear' ? 3 : 2;
        const common = { data: 'bench', model: modelKind, depth, attack, p, eps, steps: T, ...OVERRIDE };
        const configs: [string, TrainConfig][] = [['default', parseTrainConfig(common)]];
        if (COMPARE) configs.push(['loss-scaled 0.1/√(t+1)', parseTrainConfig({ ...common, schedule: 'loss-scaled', lr: 0.1 })]);
        let u: Float64Array;
        try {
          u = (await autoReference(configs[0][1], data)).direction!;
        } catch (e) {
          console.log(`| ${modelKind} L=${depth} | ${a} | ${set.n}, ${set.d}, ${set.margin} | ${scale} | — | reference failed: ${(e as Error).message.slice(0, 80)} | | |`);
          continue;
        }
        if (exportOut && attack === 'exact') {
          // θ₀ of the run (seed 0) in original parameters θ₀ = ρ₀·θ̂₀, in the model's own layout
          // (deep-linear: W_1..W_L row-major; diagonal and conv: u_1..u_L, d entries each), so that
          // the peer starts where advbias starts; beta0 = the model's predictor at θ₀, for the
          // peer's check of its parametrization.
          const c0 = configs[0][1];
          const m0 = modelFromConfig(c0, data);
          const s0 = createStepper({ model: m0, data, attack: attackFromConfig(c0), loss: c0.loss, schedule: scheduleFromConfig(c0), initScale: c0.initScale }).init(c0.seed);
          const theta0 = Float64Array.from(s0.thetaHat, (v) => v * Math.exp(s0.logRho));
          const beta0 = new Float64Array(data.d);
          new MarginEvaluator(m0, data).predictor(theta0, beta0);
          exported.push({ model: modelKind, ...set, scale, attack, p, eps, depth, width: c0.width, n: data.n, d: data.d, X: Array.from(data.X), y: Array.from(data.y), reference: Array.from(u), theta0: Array.from(theta0), beta0: Array.from(beta0) });
        }
        for (const [name, config] of configs) {
          const r = run(config, data, u);
          const row = { model: modelKind, depth, attack: a, ...set, scale, eps, schedule: name, hits: r.hits, ms: r.ms, final: r.final, totalMs: r.totalMs };
          rows.push(row);
          console.log(`| ${modelKind} L=${depth} | ${a} | ${set.n}, ${set.d}, ${set.margin} | ${scale} | ${name} | ${fmtHit(r.hits[0], r.ms[0])} | ${fmtHit(r.hits[1], r.ms[1])} | ${r.final.toExponential(1)} |`);
        }
      }
    }
  }
}
const bad = rows.filter((r) => r.schedule === 'default' && (r.hits as (number | null)[])[0] === null);
console.log(`default schedule: ${rows.filter((r) => r.schedule === 'default').length - bad.length} of ${rows.filter((r) => r.schedule === 'default').length} runs reach 1 − cos < 1e-4 within ${T} steps`);
const jsonOut = opt('--json');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ T, rows }, null, 1));
if (exportOut) writeFileSync(exportOut, JSON.stringify({ cases: exported }));
