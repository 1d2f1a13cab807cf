/**
 * Robust accuracy under a strong evaluation attack, and the attack gap (docs/THEORY.md §4, last item).
 *
 * The evaluation attack is PGD from the clean point plus `restarts` PGD runs from seeded random
 * points of the ball; an example is robust at ε iff its margin stays > 0 under every try. For binary
 * linear-in-x models the worst case is known in closed form, y⟨β, x⟩ − ε‖β‖_q (docs/THEORY.md §3), and is
 * used instead, so the curve is exact there; `attackGapCurve` measures how far PGD falls short of it.
 */
import type { Model, Workspace } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Attack } from './attack.ts';
import { createAttack, validateAttackConfig } from './index.ts';
import { checkModelData } from './fgm.ts';
import { InputError, NonFiniteError } from '../errors.ts';
import { dualExponent, lpNorm } from '../linalg/norms.ts';
import { kernels } from '../linalg/kernels.ts';
import { Rng } from '../linalg/rng.ts';

/** Options of {@link robustAccuracyCurve} and {@link attackGapCurve}. */
export interface RobustAccuracyOptions {
  /** Perturbation norm p ∈ [1, ∞] (`Infinity` for ∞). The exact path uses its dual q (1/p + 1/q = 1). */
  readonly p: number;
  /** Radii ε ≥ 0 to evaluate, in any order (results come back in this order); ε = 0 gives clean accuracy. */
  readonly epsList: readonly number[];
  /** PGD steps K ≥ 1 per try. */
  readonly steps: number;
  /** PGD step α > 0, the same for every ε; default 2.5ε/K for each ε (Kα = 2.5ε, every point of the ball reachable). */
  readonly stepSize?: number;
  /** Random-start PGD runs R ≥ 0 on top of the run from the clean point (tries per ε: δ = 0, that run, and R more). */
  readonly restarts: number;
  /** Integer seed of the random starts; they depend on this seed only, never on θ. */
  readonly seed: number;
  /** Evaluate only these rows of the data (each in [0, n), at least one); default all n rows. */
  readonly indices?: Int32Array;
  /** Use the closed-form worst case for binary linear-in-x models (default true). */
  readonly exactWhenLinear?: boolean;
  /**
   * Default true: a perturbation that breaks an example at ε′ also breaks it at every listed ε ≥ ε′
   * (it lies in the larger ball), so the per-example worst margin at ε is the minimum over the tries
   * at every listed ε′ ≤ ε. The curve is then non-increasing in ε by construction — PGD on a
   * non-convex model can otherwise find a worse point at a smaller radius. false: each ε stands
   * alone, with exactly its own tries. A no-op on the exact path (its margin decreases in ε).
   */
  readonly monotone?: boolean;
}

/** Result of {@link robustAccuracyCurve}; arrays are aligned with `eps`. */
export interface RobustAccuracyCurve {
  /** The radii, in the order given. */
  eps: number[];
  /** Fraction of the evaluated examples whose worst margin found is > 0. */
  robustAccuracy: number[];
  /** Smallest margin found over the evaluated examples (binary y·f; K-class f_y − max_{j≠y} f_j), at θ's scale. */
  minMargin: number[];
  /** 'exact': closed-form worst case y⟨β, x⟩ − ε‖β‖_q; 'pgd': the PGD tries. */
  attack: 'pgd' | 'exact';
  p: number;
  /** PGD random restarts R used (0 on the exact path, where no PGD runs). */
  restarts: number;
  /** PGD steps K used (0 on the exact path). */
  steps: number;
  /** Number of evaluated examples (indices.length, or n). */
  examples: number;
}

/** Result of {@link attackGapCurve}; arrays are aligned with `eps`. */
export interface AttackGapCurve {
  eps: number[];
  p: number;
  /** min_i (y_i⟨β, x_i⟩ − ε‖β‖_q): the true worst margin. */
  exactMinMargin: number[];
  /** min_i of PGD's worst margin over its tries (as in robustAccuracyCurve). */
  pgdMinMargin: number[];
  /** pgdMinMargin − exactMinMargin ≥ 0 (up to rounding): how far PGD falls short on the worst example. */
  gap: number[];
  /** max_i (PGD margin_i − exact margin_i) ≥ 0: PGD's largest shortfall on any single example. */
  maxExampleGap: number[];
  exactRobustAccuracy: number[];
  pgdRobustAccuracy: number[];
  restarts: number;
  steps: number;
  examples: number;
}

/** The PGD settings and rows an evaluation uses, after validation. */
interface Checked {
  readonly p: number;
  readonly epsList: readonly number[];
  readonly steps: number;
  readonly stepSize: number | undefined;
  readonly restarts: number;
  readonly seed: number;
  readonly exactWhenLinear: boolean;
  readonly monotone: boolean;
  /** The data actually attacked: `data` itself, or a compact copy of the listed rows. */
  readonly rows: Dataset;
}

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function fail(fn: string, field: string, message: string): never {
  throw new InputError(`${fn}: options.${field} ${message}`, field);
}

/**
 * Gathers the rows `indices` of `data` into a compact data set (row k = row indices[k]), so that δ and
 * the PGD scratch are sized by the subset, not by n (a subset of MNIST must not cost n×d floats).
 */
function gatherRows(data: Dataset, indices: Int32Array): Dataset {
  const d = data.d;
  const count = indices.length;
  const X = new Float64Array(count * d);
  const y = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const i = indices[k];
    X.set(data.X.subarray(i * d, i * d + d), k * d);
    y[k] = data.y[i];
  }
  return { name: `${data.name}[${count} rows]`, n: count, d, X, y, binary: data.binary, classes: data.classes };
}

function checkOptions(fn: string, model: Model, theta: Float64Array, data: Dataset, options: RobustAccuracyOptions): Checked {
  if (typeof options !== 'object' || options === null) throw new InputError(`${fn}: options must be an object, got ${show(options)}`, 'options');
  const { p, epsList, steps, stepSize, restarts, seed, indices } = options;
  if (typeof p !== 'number' || !(p >= 1)) fail(fn, 'p', `must be a number ≥ 1 or Infinity, got ${show(p)}`);
  if (!Array.isArray(epsList) || epsList.length === 0) fail(fn, 'epsList', `must be a non-empty array of radii ε ≥ 0, got ${show(epsList)}`);
  epsList.forEach((e, k) => {
    if (typeof e !== 'number' || !Number.isFinite(e) || e < 0) fail(fn, 'epsList', `[${k}] must be a finite number ≥ 0, got ${show(e)}`);
  });
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) fail(fn, 'steps', `must be an integer ≥ 1, got ${show(steps)}`);
  if (stepSize !== undefined && (typeof stepSize !== 'number' || !Number.isFinite(stepSize) || stepSize <= 0)) {
    fail(fn, 'stepSize', `must be a finite number > 0 (or omitted for 2.5ε/K), got ${show(stepSize)}`);
  }
  if (typeof restarts !== 'number' || !Number.isInteger(restarts) || restarts < 0) fail(fn, 'restarts', `must be an integer ≥ 0, got ${show(restarts)}`);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) fail(fn, 'seed', `must be an integer, got ${show(seed)}`);
  const exactWhenLinear = options.exactWhenLinear ?? true;
  if (typeof exactWhenLinear !== 'boolean') fail(fn, 'exactWhenLinear', `must be true or false, got ${show(options.exactWhenLinear)}`);
  const monotone = options.monotone ?? true;
  if (typeof monotone !== 'boolean') fail(fn, 'monotone', `must be true or false, got ${show(options.monotone)}`);
  if (!(theta instanceof Float64Array) || theta.length !== model.numParams) {
    throw new InputError(`${fn}: θ must be a Float64Array of ${model.numParams} parameters for model "${model.kind}", got length ${show((theta as { length?: unknown } | null)?.length)}`, 'theta');
  }
  checkModelData('evaluation', model, data);
  let rows = data;
  if (indices !== undefined) {
    if (!(indices instanceof Int32Array) || indices.length === 0) fail(fn, 'indices', `must be a non-empty Int32Array of row indices, got ${show(indices)}`);
    for (let k = 0; k < indices.length; k++) {
      if (indices[k] < 0 || indices[k] >= data.n) fail(fn, 'indices', `[${k}] = ${indices[k]} is not a row of "${data.name}" (0 ≤ i < ${data.n})`);
    }
    rows = gatherRows(data, indices);
  } else if (data.n === 0) {
    throw new InputError(`${fn}: data "${data.name}" has no examples`, 'data');
  }
  return { p, epsList, steps, stepSize, restarts, seed, exactWhenLinear, monotone, rows };
}

/** True when the closed-form worst case applies: binary data, f = ⟨β(θ), x⟩ with β available. */
function isExactCase(model: Model, data: Dataset): boolean {
  return model.linearInX && data.binary && typeof model.predictor === 'function';
}

/**
 * Margin of row k of `X` (n×d, the row at k·d): binary y·f(θ; x); K-class f_y − max_{j≠y} f_j.
 * `out` holds K entries.
 */
function margin(model: Model, theta: Float64Array, X: Float64Array, k: number, label: number, binary: boolean, out: Float64Array, ws: Workspace): number {
  model.forward(theta, X, k * model.inputDim, out, ws);
  if (binary) return label * out[0];
  let best = -Infinity;
  for (let j = 0; j < model.outputDim; j++) if (j !== label && out[j] > best) best = out[j];
  return out[label] - best;
}

/**
 * Seeds of the R random-start streams, drawn once from `seed`. Restart r always gets stream r, for
 * every ε and whatever R is, so (a) R + 1 restarts run the same tries as R plus one more — robust
 * accuracy can only fall as R grows, deterministically — and (b) every ε uses the same draws: the
 * samplers scale a θ-independent draw by ε, so the start of example k in restart r is ε·u_{rk}
 * (common random numbers across the curve).
 */
function restartSeeds(seed: number, restarts: number): Int32Array {
  const base = new Rng(seed);
  const seeds = new Int32Array(restarts);
  for (let r = 0; r < restarts; r++) seeds[r] = base.nextUint32() | 0;
  return seeds;
}

/** Order in which to visit `epsList`: ascending ε (stable), so worst margins can be carried upward. */
function ascendingOrder(epsList: readonly number[]): number[] {
  return epsList.map((_, k) => k).sort((a, b) => epsList[a] - epsList[b] || a - b);
}

/**
 * Per-example worst margins by PGD, one ε at a time in ascending order, with scratch allocated once:
 * δ (count×d, turned into x + δ in place after each try), the worst margin per example, K outputs.
 */
class PgdEvaluator {
  private readonly delta: Float64Array;
  private readonly out: Float64Array;
  private readonly ws: Workspace;
  private readonly seeds: Int32Array;
  /** Worst margin found so far per example (carried across ε when `monotone`). */
  readonly worst: Float64Array;

  constructor(
    private readonly model: Model,
    private readonly theta: Float64Array,
    private readonly c: Checked,
  ) {
    const { n, d } = c.rows;
    this.delta = new Float64Array(n * d);
    this.out = new Float64Array(model.outputDim);
    this.ws = model.createWorkspace();
    this.seeds = restartSeeds(c.seed, c.restarts);
    this.worst = new Float64Array(n).fill(Infinity);
  }

  /**
   * Lowers `worst` to the smallest margin over the tries at radius ε — δ = 0, PGD from it, R restarts —
   * resetting it first unless `monotone`. ε = 0 is a single clean evaluation: the ball is one point.
   */
  run(eps: number, epsIndex: number): void {
    const { model, theta, c, delta, ws, worst } = this;
    const data = c.rows;
    if (!c.monotone) worst.fill(Infinity);
    // δ = 0 (where the clean-start run begins) is itself a try: PGD's last iterate can land above the
    // clean margin on a non-convex model, and RA(ε) must never exceed clean accuracy.
    this.lower(data.X, eps, epsIndex);
    if (eps === 0) return;
    const base = { kind: 'pgd', p: c.p, eps, steps: c.steps, ...(c.stepSize === undefined ? {} : { stepSize: c.stepSize }) };
    const fromClean: Attack = createAttack(validateAttackConfig(base));
    fromClean.perturb(model, theta, data, null, delta, ws, null);
    this.addInputs();
    this.lower(delta, eps, epsIndex);
    if (c.restarts === 0) return;
    const fromRandom: Attack = createAttack(validateAttackConfig({ ...base, randomStart: true }));
    for (let r = 0; r < c.restarts; r++) {
      fromRandom.perturb(model, theta, data, null, delta, ws, new Rng(this.seeds[r]));
      this.addInputs();
      this.lower(delta, eps, epsIndex);
    }
  }

  /** δ ← x + δ, so that the perturbed inputs can be fed to `forward` row by row without a second n×d buffer. */
  private addInputs(): void {
    const X = this.c.rows.X;
    const delta = this.delta;
    for (let k = 0; k < delta.length; k++) delta[k] += X[k];
  }

  /** worst_k ← min(worst_k, m(θ; Xin_k)); a NaN margin stops the evaluation (it would read as "not robust" silently). */
  private lower(Xin: Float64Array, eps: number, epsIndex: number): void {
    const { model, theta, out, ws, worst } = this;
    const data = this.c.rows;
    for (let k = 0; k < data.n; k++) {
      const m = margin(model, theta, Xin, k, data.y[k], data.binary, out, ws);
      if (Number.isNaN(m)) throw new NonFiniteError('margin', epsIndex, `robust evaluation, ε = ${eps}, example ${k} of "${data.name}"`);
      if (m < worst[k]) worst[k] = m;
    }
  }
}

/** Clean margins y_i⟨β, x_i⟩ and the dual norm ‖β‖_q, for the closed-form worst case. */
function exactParts(model: Model, theta: Float64Array, data: Dataset, p: number): { clean: Float64Array; betaNorm: number } {
  const d = data.d;
  const beta = new Float64Array(d);
  model.predictor!(theta, beta, model.createWorkspace());
  const betaNorm = lpNorm(beta, dualExponent(p), d);
  const clean = new Float64Array(data.n);
  const k = kernels();
  if (Number.isNaN(betaNorm)) throw new NonFiniteError('‖β‖_q', 0, `robust evaluation (exact) on "${data.name}"`);
  for (let i = 0; i < data.n; i++) {
    clean[i] = data.y[i] * k.dot(d, beta, 0, data.X, i * d);
    if (Number.isNaN(clean[i])) throw new NonFiniteError('margin', 0, `robust evaluation (exact), example ${i} of "${data.name}"`);
  }
  return { clean, betaNorm };
}

/** Fraction of entries > 0 and the smallest entry. */
function summarize(m: Float64Array): { accuracy: number; min: number } {
  let robust = 0;
  let min = Infinity;
  for (let k = 0; k < m.length; k++) {
    if (m[k] > 0) robust++;
    if (m[k] < min) min = m[k];
  }
  return { accuracy: robust / m.length, min };
}

/**
 * Robust accuracy as a function of ε: for each ε in `epsList`, the fraction of examples (all, or
 * `indices`) whose margin stays > 0 under the evaluation attack,
 *   RA(ε) = (1/n) · #{i : min_{δ ∈ tries(ε)} m(θ; x_i + δ, y_i) > 0},
 * margins m = y·f (binary) or f_y − max_{j≠y} f_j (K-class); a tie (m = 0) is not robust.
 *
 *  - attack 'exact' (binary linear-in-x models with a predictor, unless `exactWhenLinear` is false):
 *    min_{‖δ‖_p ≤ ε} y⟨β, x + δ⟩ = y⟨β, x⟩ − ε‖β‖_q exactly (docs/THEORY.md §3), so RA(ε) is the true robust
 *    accuracy; no PGD runs and the result reports steps = restarts = 0.
 *  - attack 'pgd': tries(ε) = δ = 0, PGD (K steps, α = `stepSize` or 2.5ε/K) from δ₀ = 0, R runs from
 *    δ₀ uniform in B_p(0, ε) (seeded by `seed` alone, see `restartSeeds`), and with `monotone` the
 *    tries of every listed ε′ ≤ ε. Every try is a feasible perturbation, so RA_pgd(ε) ≥ the true
 *    robust accuracy; more tries can only lower it.
 *
 * ε = 0 gives clean accuracy. Deterministic: the same arguments give bit-identical results, and the
 * random starts do not depend on θ (so δ(cθ) = δ(θ) for c > 0 carries over from PGD).
 * Cost: (1 + R)·K forward/backward passes per example and ε > 0, plus 2 + R forward passes.
 * Scratch (δ for the evaluated rows, worst margins, the model workspace) is allocated once per call.
 * Throws InputError naming the field for invalid options (p < 1, empty `epsList`, ε < 0, steps < 1,
 * restarts < 0, a non-integer seed, indices out of range) or a model/data mismatch, and
 * NonFiniteError when a margin is NaN.
 */
export function robustAccuracyCurve(model: Model, theta: Float64Array, data: Dataset, options: RobustAccuracyOptions): RobustAccuracyCurve {
  const c = checkOptions('robustAccuracyCurve', model, theta, data, options);
  const E = c.epsList.length;
  const robustAccuracy = new Array<number>(E);
  const minMargin = new Array<number>(E);
  const examples = c.rows.n;

  if (c.exactWhenLinear && isExactCase(model, c.rows)) {
    const { clean, betaNorm } = exactParts(model, theta, c.rows, c.p);
    const m = new Float64Array(examples);
    for (let e = 0; e < E; e++) {
      const penalty = c.epsList[e] * betaNorm;
      for (let i = 0; i < examples; i++) m[i] = clean[i] - penalty;
      const s = summarize(m);
      robustAccuracy[e] = s.accuracy;
      minMargin[e] = s.min;
    }
    return { eps: [...c.epsList], robustAccuracy, minMargin, attack: 'exact', p: c.p, restarts: 0, steps: 0, examples };
  }

  const pgd = new PgdEvaluator(model, theta, c);
  for (const e of ascendingOrder(c.epsList)) {
    pgd.run(c.epsList[e], e);
    const s = summarize(pgd.worst);
    robustAccuracy[e] = s.accuracy;
    minMargin[e] = s.min;
  }
  return { eps: [...c.epsList], robustAccuracy, minMargin, attack: 'pgd', p: c.p, restarts: c.restarts, steps: c.steps, examples };
}

/**
 * The attack gap of PGD on a binary linear-in-x model: for each ε, PGD's worst margins (the 'pgd'
 * path of {@link robustAccuracyCurve}, same options and seeds) against the exact worst case
 * y_i⟨β, x_i⟩ − ε‖β‖_q. Every PGD try is feasible, so each gap is ≥ 0 up to rounding:
 *   gap(ε) = min_i m_i^pgd − min_i m_i^exact,   maxExampleGap(ε) = max_i (m_i^pgd − m_i^exact).
 * Both are 0 (to rounding) for p ∈ {1, 2, ∞} with Kα ≥ ε, where PGD from the clean point reaches
 * δ* = −ε y s_p(β); other p generally leave a positive gap (see createPgd). Margins are at θ's
 * scale: divide by ‖θ‖^L for the normalized gap. `exactWhenLinear` is ignored.
 * Throws InputError (field "model") for a model or data set without a closed form, and as
 * {@link robustAccuracyCurve} for invalid options.
 */
export function attackGapCurve(model: Model, theta: Float64Array, data: Dataset, options: RobustAccuracyOptions): AttackGapCurve {
  const c = checkOptions('attackGapCurve', model, theta, data, options);
  if (!isExactCase(model, c.rows)) {
    throw new InputError(
      `attackGapCurve: needs binary data and a linear-in-x model with a predictor β(θ) (linear, deep-linear, diagonal, conv); model "${model.kind}" on ${data.binary ? 'binary' : `${data.classes}-class`} data "${data.name}" has no closed-form worst case`,
      'model',
    );
  }
  const E = c.epsList.length;
  const examples = c.rows.n;
  const { clean, betaNorm } = exactParts(model, theta, c.rows, c.p);
  const exactMinMargin = new Array<number>(E);
  const pgdMinMargin = new Array<number>(E);
  const gap = new Array<number>(E);
  const maxExampleGap = new Array<number>(E);
  const exactRobustAccuracy = new Array<number>(E);
  const pgdRobustAccuracy = new Array<number>(E);
  const exact = new Float64Array(examples);
  const pgd = new PgdEvaluator(model, theta, c);
  for (const e of ascendingOrder(c.epsList)) {
    const penalty = c.epsList[e] * betaNorm;
    for (let i = 0; i < examples; i++) exact[i] = clean[i] - penalty;
    pgd.run(c.epsList[e], e);
    const se = summarize(exact);
    const sp = summarize(pgd.worst);
    let worstShortfall = -Infinity;
    for (let i = 0; i < examples; i++) worstShortfall = Math.max(worstShortfall, pgd.worst[i] - exact[i]);
    exactMinMargin[e] = se.min;
    pgdMinMargin[e] = sp.min;
    gap[e] = sp.min - se.min;
    maxExampleGap[e] = worstShortfall;
    exactRobustAccuracy[e] = se.accuracy;
    pgdRobustAccuracy[e] = sp.accuracy;
  }
  return { eps: [...c.epsList], p: c.p, exactMinMargin, pgdMinMargin, gap, maxExampleGap, exactRobustAccuracy, pgdRobustAccuracy, restarts: c.restarts, steps: c.steps, examples };
}
