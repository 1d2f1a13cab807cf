/**
 * Claim C3's reference problem min N(β) s.t. z_i·β − ε‖β‖_q ≥ 1, N(β) = ‖Tβ‖_{2/L}
 * (src/solvers/interpolation-norm.ts): S2 known answers (docs/THEORY.md §8, checked with mpmath), a committed
 * fixture made by an independent solver (cvxopt conelp), the predictor-space KKT residual against
 * the parameter-space one of metrics/kkt.ts at the balanced factorization, the DFT coordinates, and
 * input validation through solve().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../../src/data/dataset.ts';
import { s2 } from '../../src/data/builtin.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { InputError } from '../../src/errors.ts';
import { dftUnitary } from '../../src/linalg/dft.ts';
import { dualExponent, lpNorm, parseNormExponent } from '../../src/linalg/norms.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { kktResiduals } from '../../src/metrics/kkt.ts';
import { createDiagonal } from '../../src/models/diagonal.ts';
import { solve, type SolveOptions } from '../../src/solvers/index.ts';
import {
  C3_CROSS_CHECK_TOLERANCE,
  C3_KKT_TOLERANCE,
  C3_LP_CROSS_CHECK_TOLERANCE,
  applyTransform,
  architectureOfModel,
  c3Margin,
  interpolationNorm,
  isLinearCase,
  predictorKkt,
  predictorTransform,
  zeroSmallCoordinates,
  type InterpolationArchitecture,
  type InterpolationNormResult,
} from '../../src/solvers/interpolation-norm.ts';
import type { ProblemKind } from '../../src/solvers/types.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEG = 180 / Math.PI;

/**
 * S2, diagonal, L = 2, p = 2, ε = 0.75: the maximizer of (cos θ + ½ sin θ − ¾)/(cos θ + sin θ) (only
 * z₁ active), found with mpmath at 30 digits; docs/THEORY.md §8 rounds the angle to 16.8745°.
 */
const S2_L2_P2_ANGLE_DEG = 16.8744942979442939;
const S2_L2_P2_OBJECTIVE = 3.5424208679177969;
/** Relative accuracy of a solver objective against a closed form (SCS polished: observed ≤ 1e-10). */
const OBJECTIVE_REL = 1e-8;
/** Optimal values against the cvxopt fixture (conelp at tolerance 1e-9: observed ≤ 1.1e-8). */
const FIXTURE_VALUE_REL = 1e-7;
/**
 * Directions against the cvxopt fixture, Euclidean distance of unit vectors: conelp's 1e-9 tolerance
 * leaves ~1e-6 (observed ≤ 1.6e-6; its S2 angle 16.874560° is 6.6e-5° off the true 16.874494°).
 */
const FIXTURE_DIRECTION = 1e-4;
/** predictorKkt at an exact solver's S2 solution (observed ≤ 1.6e-10). */
const KKT_AT_SOLUTION_S2 = 1e-8;
/** predictorKkt at the solver's n = 100, d = 20 solutions (SCS's accuracy: observed ≤ 3e-8). */
const KKT_AT_SOLUTION_D20 = 1e-7;
/** Residuals computed two ways from the same float64 inputs (NNLS by active set vs enumeration). */
const SAME_RESIDUAL = 1e-9;
/**
 * Absolute accuracy of kkt.ts's nnlsStationarity near 0: it is √ of a Gram-form difference of O(1)
 * terms, so rounding 1e-16 shows as 1e-8 (observed 1.05e-8 where the exact residual is 2e-16).
 */
const GRAM_FORM_FLOOR = 1e-7;

function asC3(r: unknown): InterpolationNormResult {
  return r as InterpolationNormResult;
}

function angleDeg(v: ArrayLike<number>): number {
  return Math.atan2(v[1], v[0]) * DEG;
}

function signedRows(data: Dataset): Float64Array {
  return Float64Array.from(data.X, (v, k) => v * data.y[Math.floor(k / data.d)]);
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}

function assertOptimalC3(r: InterpolationNormResult, what: string): asserts r is InterpolationNormResult & { direction: Float64Array; beta: Float64Array } {
  assert.equal(r.status, 'optimal', `${what}: ${r.status}: ${r.message}`);
  assert.ok(r.direction && r.beta, `${what}: no solution arrays`);
  assert.equal(r.problem, 'interpolation-norm');
  assert.ok(r.local.length >= 1, `${what}: no local solutions`);
  assertClose(lpNorm(r.direction, 2), 1, TOL.identity, `${what}: ‖direction‖₂`);
  // result.direction is local[0]'s, the margin is 1/N(β) of that β, and min_i g_i(β) = 1.
  assert.deepEqual(Array.from(r.direction), Array.from(r.local[0].direction), `${what}: direction is local[0]`);
  assertClose(r.margin, 1 / r.local[0].objective, TOL.closedForm, `${what}: margin = 1/objective`);
  assert.ok(r.kkt.primalFeasibility <= 1e-12, `${what}: primal ${r.kkt.primalFeasibility}`);
}

function assertAngle(actualDeg: number, expectedDeg: number, what: string): void {
  assert.ok(Math.abs(actualDeg - expectedDeg) <= TOL.directionDegrees, `${what}: angle ${actualDeg}° vs ${expectedDeg}° (tolerance ${TOL.directionDegrees}°)`);
}

// ---------------------------------------------------------------------------------------------
// 1. S2 known answers
// ---------------------------------------------------------------------------------------------

test('S2, diagonal L = 2, p = 2, ε = 0.75: angle 16.8744942979°, objective 3.5424208679 (mpmath)', async () => {
  const r = asC3(await solve('interpolation-norm', s2(), { architecture: 'diagonal', depth: 2, p: 2, eps: 0.75 }));
  assertOptimalC3(r, 'S2 L=2 p=2 ε=0.75');
  assert.equal(r.solver, 'scs');
  assert.equal(r.architecture, 'diagonal');
  assert.equal(r.depth, 2);
  assertAngle(angleDeg(r.direction), S2_L2_P2_ANGLE_DEG, 'direction');
  assertClose(1 / r.margin, S2_L2_P2_OBJECTIVE, OBJECTIVE_REL, '1/margin');
  assert.equal(r.local.length, 1, 'convex at L = 2: one solution');
  assert.ok(r.local[0].kkt.stationarity <= KKT_AT_SOLUTION_S2, `stationarity ${r.local[0].kkt.stationarity}`);
  // The margin is Γ(β) = (min_i z_i·β − ε‖β‖₂)/‖β‖₁ at any scale of the direction.
  assertClose(c3Margin(s2(), 'diagonal', 2, 2, 0.75, r.direction), 1 / S2_L2_P2_OBJECTIVE, OBJECTIVE_REL, 'c3Margin(direction)');
  assert.ok(r.crossCheck, 'L = 2 has the HiGHS cross-check');
  assert.ok(r.crossCheck.relativeObjectiveGap <= C3_CROSS_CHECK_TOLERANCE, `cross-check gap ${r.crossCheck.relativeObjectiveGap}`);
});

test('S2, ε = 0: diagonal 0°, conv 45° at L = 2, 3, 4 (objectives 1 and 2√2/3)', async () => {
  const expected: Record<InterpolationArchitecture, { angle: number; objective: number }> = {
    diagonal: { angle: 0, objective: 1 }, // β = (1, 0): z₁·β = 1, ‖β‖_{2/L} = 1
    conv: { angle: 45, objective: (2 * Math.SQRT2) / 3 }, // β = (2/3)(1, 1): Fβ = (2√2/3, 0)
  };
  for (const architecture of ['diagonal', 'conv'] as const) {
    for (const depth of [2, 3, 4]) {
      const what = `S2 ε=0 ${architecture} L=${depth}`;
      const r = asC3(await solve('interpolation-norm', s2(), { architecture, depth, p: 2, eps: 0 }));
      assertOptimalC3(r, what);
      assert.equal(r.depth, depth);
      // ε = 0 on the diagonal architecture is an LP (HiGHS); conv has complex moduli (SCS).
      const method = architecture === 'diagonal' ? 'highs' : 'scs';
      assert.equal(r.solver, depth === 2 ? method : `${method}-irl1`);
      assertAngle(angleDeg(r.direction), expected[architecture].angle, what);
      assertClose(1 / r.margin, expected[architecture].objective, OBJECTIVE_REL, `${what}: 1/margin`);
      assert.ok(r.kkt.stationarity <= KKT_AT_SOLUTION_S2, `${what}: stationarity ${r.kkt.stationarity}`);
    }
  }
});

test('S2, diagonal L = 4, p = 1 (q = ∞), ε = 0.75: two local KKT points, 0° (N = 4, best) and 45° (N = 16/3)', async () => {
  const r = asC3(await solve('interpolation-norm', s2(), { architecture: 'diagonal', depth: 4, p: 1, eps: 0.75 }));
  assertOptimalC3(r, 'S2 L=4 p=1');
  assert.equal(r.solver, 'highs-irl1', 'diagonal, q = ∞: every reweighted step is an LP');
  assert.equal(r.crossCheck, undefined, 'no cross-check at L ≥ 3');
  assert.equal(r.local.length, 2, `local solutions at ${r.local.map((s) => angleDeg(s.direction)).join(', ')}°`);
  const [best, other] = r.local;
  // β = (4, 0): g₁ = 4 − ¾·4 = 1, N = 4. β = (4/3)(1, 1): g₁ = 2 − 1 = 1, N = (2·(4/3)^{1/2})² = 16/3.
  assertAngle(angleDeg(best.direction), 0, 'best');
  assertClose(best.objective, 4, OBJECTIVE_REL, 'best objective');
  assertAngle(angleDeg(other.direction), 45, 'second');
  assertClose(other.objective, 16 / 3, OBJECTIVE_REL, 'second objective');
  for (const s of r.local) {
    assert.ok(Math.max(s.kkt.stationarity, s.kkt.complementarity) <= C3_KKT_TOLERANCE, `KKT ${JSON.stringify(s.kkt)}`);
    assertClose(s.margin, 1 / s.objective, TOL.closedForm, 'margin = 1/objective');
    assert.ok(s.starts.length >= 1);
  }
  // Every start is accounted for exactly once.
  assert.deepEqual([...best.starts, ...other.starts].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  assertAngle(angleDeg(r.direction), 0, 'result.direction');
  assertClose(r.margin, 0.25, OBJECTIVE_REL, 'margin');
});

// ---------------------------------------------------------------------------------------------
// 2. The cvxopt fixture (depth 2)
// ---------------------------------------------------------------------------------------------

interface FixtureProblem {
  data: 's2' | 'synthetic-n100-d20';
  architecture: InterpolationArchitecture;
  p: string;
  q: string;
  eps: number;
  value: number;
  beta: number[];
  direction: number[];
  status: string;
  angleDeg?: number;
}
interface Fixture {
  fields: Record<string, string>;
  datasets: {
    'synthetic-n100-d20': { input: string; name: string; options: { n: number; d: number; margin: number; seed: number } };
    s2: { X: number[][]; y: number[] };
  };
  problems: FixtureProblem[];
}

const FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/interpolation-norm/reference.cvxopt.json'), 'utf8')) as Fixture;
const SYNTHETIC_SPEC = FIXTURE.datasets['synthetic-n100-d20'];
const SYNTHETIC = syntheticSeparable(SYNTHETIC_SPEC.options);

function fixtureData(name: FixtureProblem['data']): Dataset {
  return name === 's2' ? s2() : SYNTHETIC;
}

test('fixture: schema, and the data it was made from are reproduced exactly', () => {
  for (const f of ['value', 'direction', 'minConstraint']) assert.ok(f in FIXTURE.fields, `fields.${f}`);
  assert.ok(FIXTURE.problems.length >= 20, `${FIXTURE.problems.length} problems`);
  const seen = new Set(FIXTURE.problems.map((p) => `${p.data}/${p.architecture}/${p.p}`));
  for (const data of ['s2', 'synthetic-n100-d20']) for (const arch of ['diagonal', 'conv']) for (const p of ['inf', '1', '2']) assert.ok(seen.has(`${data}/${arch}/${p}`), `${data}/${arch}/p=${p} covered`);
  // synthetic-n100-d20: the generator must still give the X, y the fixture was solved on.
  assert.deepEqual(SYNTHETIC_SPEC.options, { n: 100, d: 20, margin: 0.1, seed: 1 });
  const input = JSON.parse(readFileSync(join(ROOT, SYNTHETIC_SPEC.input), 'utf8')) as { name: string; X: number[][]; y: number[] };
  assert.equal(SYNTHETIC.name, SYNTHETIC_SPEC.name);
  assert.equal(input.name, SYNTHETIC_SPEC.name);
  assert.equal(input.X.length, SYNTHETIC.n);
  for (let i = 0; i < SYNTHETIC.n; i++) {
    assert.equal(SYNTHETIC.y[i], input.y[i], `y[${i}]`);
    assert.equal(input.X[i].length, SYNTHETIC.d);
    for (let j = 0; j < SYNTHETIC.d; j++) assert.equal(SYNTHETIC.X[i * SYNTHETIC.d + j], input.X[i][j], `X[${i}][${j}] (bit-exact)`);
  }
  const S2 = s2();
  const fx = FIXTURE.datasets.s2;
  assert.deepEqual(Array.from(S2.X), fx.X.flat());
  assert.deepEqual(Array.from(S2.y), fx.y);
});

for (const pr of FIXTURE.problems) {
  const name = `fixture: ${pr.data} ${pr.architecture} p=${pr.p} ε=${pr.eps.toPrecision(4)} (L = 2)`;
  test(name, async () => {
    const data = fixtureData(pr.data);
    const p = parseNormExponent(pr.p);
    assert.equal(dualExponent(p), parseNormExponent(pr.q), 'fixture q is the dual of p');
    assert.equal(pr.status, 'optimal');
    const r = asC3(await solve('interpolation-norm', data, { architecture: pr.architecture, depth: 2, p, eps: pr.eps }));
    assertOptimalC3(r, name);
    assert.equal(r.local.length, 1);
    assert.equal(r.p, p, 'result p');
    assert.equal(r.eps, pr.eps);
    const rel = Math.abs(1 / r.margin - pr.value) / pr.value;
    assert.ok(rel <= FIXTURE_VALUE_REL, `optimal value ${1 / r.margin} vs cvxopt ${pr.value}: relative ${rel}`);
    // N(β) of the returned β is the objective (independent of the solver's own bookkeeping).
    const T = predictorTransform(pr.architecture, data.d);
    assertClose(interpolationNorm(T, 2, r.beta), 1 / r.margin, 1e-12, 'N(beta)');
    const dist = distance(r.direction, pr.direction);
    assert.ok(dist <= FIXTURE_DIRECTION, `direction distance ${dist} to cvxopt`);
    if (pr.angleDeg !== undefined) assert.ok(Math.abs(angleDeg(r.direction) - pr.angleDeg) <= 1e-3, `S2 angle ${angleDeg(r.direction)} vs ${pr.angleDeg}`);
    // The KKT residual of our own solution, recomputed.
    const Z = signedRows(data);
    const k = predictorKkt(Z, data.n, data.d, T, 2, dualExponent(p), pr.eps, r.beta);
    const kktTol = pr.data === 's2' ? KKT_AT_SOLUTION_S2 : KKT_AT_SOLUTION_D20;
    assert.ok(Math.max(k.stationarity, k.complementarity) <= kktTol, `predictorKkt at our β: ${k.stationarity}, ${k.complementarity}`);
    assertClose(k.minConstraint, 1, 1e-10, 'min_i g_i(β) = 1');
    // The independent interior-point solution is a KKT point to within the solver tolerance too
    // (its zero coordinates sit at ~1e-10, which the weighted residual sees at ~1e-5 · |c|^{1/2}).
    const kf = predictorKkt(Z, data.n, data.d, T, 2, dualExponent(p), pr.eps, Float64Array.from(pr.beta));
    assert.ok(Math.max(kf.stationarity, kf.complementarity) <= C3_KKT_TOLERANCE, `predictorKkt at cvxopt's β: ${kf.stationarity}, ${kf.complementarity}`);
    // The cross-check ran (q ∈ {1, 2, ∞}) and agrees, with the primary solver and with cvxopt: in the
    // linear case (diagonal, q ∈ {1, ∞} or ε = 0) HiGHS's LP against GLPK's, otherwise SCS against
    // the HiGHS cutting planes.
    const linear = isLinearCase(pr.architecture, dualExponent(p), pr.eps);
    assert.equal(r.solver, linear ? 'highs' : 'scs');
    assert.ok(r.crossCheck, 'crossCheck present');
    assert.equal(r.crossCheck.solver, linear ? 'glpk-lp' : 'highs-cutting-plane');
    const crossTol = linear ? C3_LP_CROSS_CHECK_TOLERANCE : C3_CROSS_CHECK_TOLERANCE;
    assert.ok(r.crossCheck.relativeObjectiveGap <= crossTol, `cross-check gap ${r.crossCheck.relativeObjectiveGap} (tolerance ${crossTol})`);
    assert.ok(Math.abs(r.crossCheck.objective - pr.value) / pr.value <= FIXTURE_VALUE_REL, `cutting-plane objective ${r.crossCheck.objective} vs ${pr.value}`);
    assert.ok(r.crossCheck.lowerBound <= pr.value * (1 + 1e-8), `LP lower bound ${r.crossCheck.lowerBound} above the optimum ${pr.value}`);
    assert.ok(r.crossCheck.directionGap <= FIXTURE_DIRECTION, `cross-check direction gap ${r.crossCheck.directionGap}`);
  });
}

// ---------------------------------------------------------------------------------------------
// 2b. The linear case at n = 150, d = 30 (HiGHS LP, GLPK cross-check) against cvxopt
// ---------------------------------------------------------------------------------------------

interface LpFixtureProblem {
  p: string;
  q: string;
  eps: number;
  fraction: number;
  gammaQ: number;
  value: number;
  lpValueHighs: number;
  valueInteriorPoint?: number;
  beta: number[];
  direction: number[];
  status: string;
  unique: boolean;
}
interface LpFixture {
  data: { input: string; name: string; options: { n: number; d: number; margin: number; seed: number } };
  problems: LpFixtureProblem[];
}

const LP_FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/interpolation-norm/synthetic-n150-d30.lp.json'), 'utf8')) as LpFixture;
const SYNTHETIC_150 = syntheticSeparable(LP_FIXTURE.data.options);
/**
 * The HiGHS LP's value against SciPy's HiGHS simplex on another formulation of the same LP (two
 * simplex vertices, exact up to rounding: observed ≤ 1.2e-11).
 */
const LP_VALUE_REL = 1e-9;
/**
 * predictorKkt at the HiGHS vertex, n = 150, d = 30. The vertex is exact (its duals meet strong
 * duality to ~1e-15); what remains is predictorKkt's own accuracy: the equality on the subgradient at
 * the kinks of ‖·‖_q (Σν = Σλ, |ω| ≤ Σλ) is a penalty in its NNLS before it is restored, which leaves
 * ~1e-8 with ~20 kinked coordinates (observed 2.6e-9 … 2.4e-8; the SCS answers on 100 × 20 reach 3e-8).
 */
const KKT_AT_LP_SOLUTION = 1e-7;

test('LP fixture 150 × 30: the data it was made from are reproduced exactly; ε covers p ∈ {∞, 1} and ε = 0', () => {
  assert.deepEqual(LP_FIXTURE.data.options, { n: 150, d: 30, margin: 0.1, seed: 2 });
  assert.equal(SYNTHETIC_150.name, LP_FIXTURE.data.name);
  const input = JSON.parse(readFileSync(join(ROOT, LP_FIXTURE.data.input), 'utf8')) as { X: number[][]; y: number[]; cases: { p: string; eps: number; gammaQ: number }[] };
  assert.equal(input.X.length, 150);
  for (let i = 0; i < 150; i++) {
    assert.equal(SYNTHETIC_150.y[i], input.y[i], `y[${i}]`);
    for (let j = 0; j < 30; j++) assert.equal(SYNTHETIC_150.X[i * 30 + j], input.X[i][j], `X[${i}][${j}] (bit-exact)`);
  }
  const ps = new Set(LP_FIXTURE.problems.map((pr) => pr.p));
  assert.ok(ps.has('inf') && ps.has('1'), 'p = ∞ and p = 1');
  assert.ok(LP_FIXTURE.problems.some((pr) => pr.eps === 0), 'ε = 0');
  assert.ok(LP_FIXTURE.problems.some((pr) => pr.fraction >= 0.9), 'ε close to γ_q*');
  for (const pr of LP_FIXTURE.problems) assert.ok(pr.eps < pr.gammaQ, `ε ${pr.eps} < γ_q* ${pr.gammaQ}`);
});

for (const pr of LP_FIXTURE.problems) {
  const name = `LP fixture 150 × 30: diagonal L = 2, p = ${pr.p}, ε = ${pr.fraction}·γ_q*: HiGHS optimal, GLPK agrees, cvxopt agrees`;
  test(name, async (t) => {
    const p = parseNormExponent(pr.p);
    const q = dualExponent(p);
    assert.equal(q, parseNormExponent(pr.q));
    assert.ok(isLinearCase('diagonal', q, pr.eps));
    const t0 = performance.now();
    const r = asC3(await solve('interpolation-norm', SYNTHETIC_150, { architecture: 'diagonal', depth: 2, p, eps: pr.eps }));
    t.diagnostic(`solve: ${(performance.now() - t0).toFixed(0)} ms (γ_q*, the HiGHS LP, the KKT check and the GLPK cross-check)`);
    assertOptimalC3(r, name);
    assert.equal(r.solver, 'highs');
    assert.equal(r.local.length, 1);
    // The cross-check: GLPK on the scale-free formulation.
    assert.ok(r.crossCheck, 'crossCheck present');
    assert.equal(r.crossCheck.solver, 'glpk-lp');
    assert.ok(r.crossCheck.relativeObjectiveGap <= C3_LP_CROSS_CHECK_TOLERANCE, `GLPK gap ${r.crossCheck.relativeObjectiveGap}`);
    // The independent references.
    const value = 1 / r.margin;
    assert.ok(Math.abs(value - pr.value) / pr.value <= FIXTURE_VALUE_REL, `value ${value} vs cvxopt ${pr.value}`);
    assert.ok(Math.abs(value - pr.lpValueHighs) / pr.lpValueHighs <= LP_VALUE_REL, `value ${value} vs SciPy highs-ds ${pr.lpValueHighs}`);
    if (pr.valueInteriorPoint !== undefined) assert.ok(Math.abs(value - pr.valueInteriorPoint) / pr.value <= 1e-6, `value ${value} vs SciPy interior-point ${pr.valueInteriorPoint} (its tol 1e-8)`);
    assert.ok(Math.abs(r.crossCheck.objective - pr.value) / pr.value <= FIXTURE_VALUE_REL, `GLPK ${r.crossCheck.objective} vs cvxopt ${pr.value}`);
    assert.ok(pr.unique, 'the fixture checked that β is unique');
    const dist = distance(r.direction, pr.direction);
    assert.ok(dist <= FIXTURE_DIRECTION, `direction distance ${dist} to cvxopt`);
    assert.ok(r.crossCheck.directionGap <= FIXTURE_DIRECTION, `GLPK direction gap ${r.crossCheck.directionGap}`);
    // N(β) = ‖β‖₁ and min_i g_i(β) = 1 recomputed; the KKT residual and the multipliers.
    const T = predictorTransform('diagonal', 30);
    assertClose(interpolationNorm(T, 2, r.beta), value, 1e-12, 'N(beta)');
    const Z = signedRows(SYNTHETIC_150);
    const k = predictorKkt(Z, 150, 30, T, 2, q, pr.eps, r.beta);
    assertClose(k.minConstraint, 1, 1e-10, 'min_i g_i(β) = 1');
    assert.ok(Math.max(k.stationarity, k.complementarity) <= KKT_AT_LP_SOLUTION, `predictorKkt at the LP vertex: ${k.stationarity}, ${k.complementarity}`);
    assert.ok(Math.max(r.kkt.stationarity, r.kkt.complementarity) <= KKT_AT_LP_SOLUTION, `reported KKT ${JSON.stringify(r.kkt)}`);
    assert.ok(r.multipliers && r.multipliers.length === 150 && r.multipliers.every((v) => v >= 0), 'λ ≥ 0, one per example');
  });
}

test('linear case: ε ≥ γ_q* is eps-too-large, inseparable data not-separable, a zero example degenerate (L = 2 and 3)', async () => {
  for (const p of [Infinity, 1]) {
    const gammaQ = LP_FIXTURE.problems.find((pr) => parseNormExponent(pr.p) === p)!.gammaQ;
    for (const depth of [2, 3]) {
      const r = asC3(await solve('interpolation-norm', SYNTHETIC_150, { architecture: 'diagonal', depth, p, eps: gammaQ }));
      assert.equal(r.status, 'eps-too-large', `p=${p} L=${depth}: ${r.status}: ${r.message}`);
      assert.equal(r.direction, null);
      assert.deepEqual(r.local, []);
    }
  }
  const make = (name: string, X: number[][], y: number[]): Dataset => ({ name, n: X.length, d: X[0].length, X: Float64Array.from(X.flat()), y: Int32Array.from(y), binary: true, classes: 2 });
  const clash = make('clash', [[1, 0], [1, 0]], [1, -1]);
  const zero = make('zero', [[1, 0], [0, 0]], [1, 1]);
  for (const p of [Infinity, 1]) {
    for (const eps of [0, 0.1]) {
      for (const depth of [2, 3]) {
        const what = `p=${p} ε=${eps} L=${depth}`;
        const a = asC3(await solve('interpolation-norm', clash, { architecture: 'diagonal', depth, p, eps }));
        assert.equal(a.status, 'not-separable', `${what}: ${a.message}`);
        assert.equal(a.direction, null);
        const b = asC3(await solve('interpolation-norm', zero, { architecture: 'diagonal', depth, p, eps }));
        assert.equal(b.status, 'degenerate', `${what}: ${b.message}`);
        assert.equal(b.direction, null);
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 3. predictorKkt
// ---------------------------------------------------------------------------------------------

test('predictorKkt ≈ 0 at solver solutions (any scale), > 1e-3 at a feasible point 5° away, scale-invariant', async () => {
  const S2 = s2();
  const Z = signedRows(S2);
  const cases: { architecture: InterpolationArchitecture; depth: number; p: number; eps: number }[] = [
    { architecture: 'diagonal', depth: 2, p: 2, eps: 0.75 },
    { architecture: 'conv', depth: 2, p: 2, eps: 0.75 },
    { architecture: 'diagonal', depth: 2, p: Infinity, eps: 0.25 },
    { architecture: 'conv', depth: 2, p: 1, eps: 0.25 },
    { architecture: 'diagonal', depth: 4, p: 1, eps: 0.75 },
  ];
  for (const c of cases) {
    const r = asC3(await solve('interpolation-norm', S2, c));
    const what = JSON.stringify(c);
    assertOptimalC3(r, what);
    const T = predictorTransform(c.architecture, 2);
    const q = dualExponent(c.p);
    for (const s of r.local) {
      for (const scale of [1, 7.3, 1e-3]) {
        const k = predictorKkt(Z, 2, 2, T, c.depth, q, c.eps, s.beta.map((v) => v * scale));
        assert.ok(k.stationarity <= KKT_AT_SOLUTION_S2 && k.complementarity <= KKT_AT_SOLUTION_S2, `${what} at ${angleDeg(s.direction)}° ×${scale}: ${k.stationarity}, ${k.complementarity}`);
        assertClose(k.objective, s.objective, 1e-12, `${what}: objective at scale ${scale}`);
        assertClose(k.margin, 1 / s.objective, 1e-12, `${what}: margin`);
      }
    }
  }
  // The L = 2, p = 2, ε = 0.75 optimum rotated by ±1° and ±5°: feasible, clearly not stationary,
  // and the residual does not depend on the scale of β.
  const T = predictorTransform('diagonal', 2);
  let previous = 0;
  for (const delta of [1, 5]) {
    for (const sign of [-1, 1]) {
      const a = (S2_L2_P2_ANGLE_DEG + sign * delta) / DEG;
      const beta = Float64Array.of(Math.cos(a), Math.sin(a));
      const k = predictorKkt(Z, 2, 2, T, 2, 2, 0.75, beta);
      assert.ok(k.minConstraint > 0, 'feasible direction');
      assert.ok(k.objective > S2_L2_P2_OBJECTIVE, `objective ${k.objective} above the optimum`);
      assert.ok(k.stationarity > 1e-3 * delta, `${sign * delta}°: stationarity ${k.stationarity}`);
      if (delta === 5) assert.ok(k.stationarity > previous, 'the residual grows with the distance to the optimum');
      else previous = Math.max(previous, k.stationarity);
      const k2 = predictorKkt(Z, 2, 2, T, 2, 2, 0.75, beta.map((v) => 7.3 * v));
      assertClose(k2.stationarity, k.stationarity, 1e-12, 'stationarity(7.3β)');
      assertClose(k2.complementarity, k.complementarity, 1e-12, 'complementarity(7.3β)');
      assertClose(k2.objective, k.objective, 1e-12, 'objective(7.3β)');
      assertClose(k2.minConstraint, 7.3 * k.minConstraint, 1e-12, 'minConstraint is that of β as given');
    }
  }
});

test('predictorKkt: stationarity Infinity when min_i g_i(β) ≤ 0 or β = 0', () => {
  const S2 = s2();
  const Z = signedRows(S2);
  for (const architecture of ['diagonal', 'conv'] as const) {
    const T = predictorTransform(architecture, 2);
    // z₂·(1, 3) = 0 exactly; z₂·(0, 1) = −1; (1, 0) at ε = 2 > γ: g₁ = 1 − 2 < 0.
    for (const [beta, q, eps] of [
      [[1, 3], 2, 0],
      [[0, 1], 2, 0],
      [[1, 0], 2, 2],
      [[1, 0], 1, 1], // g₁ = 1 − ‖(1, 0)‖₁ = 0
      [[0, 0], 2, 0],
    ] as [number[], number, number][]) {
      const k = predictorKkt(Z, 2, 2, T, 2, q, eps, beta);
      assert.equal(k.stationarity, Infinity, `${architecture} β=${beta} q=${q} ε=${eps}`);
      assert.equal(k.multipliers, null);
    }
    // Just feasible: finite.
    assert.ok(Number.isFinite(predictorKkt(Z, 2, 2, T, 2, 2, 0, [1, 2.999]).stationarity));
  }
});

/** The balanced factorization of β (no zero entries) as a unit-norm parameter vector of createDiagonal. */
function balancedTheta(beta: ArrayLike<number>, L: number): Float64Array {
  const d = beta.length;
  const theta = new Float64Array(L * d);
  for (let j = 0; j < d; j++) {
    const a = Math.pow(Math.abs(beta[j]), 1 / L);
    theta[j] = Math.sign(beta[j]) * a;
    for (let l = 1; l < L; l++) theta[l * d + j] = a;
  }
  const nrm = lpNorm(theta, 2);
  return theta.map((v) => v / nrm);
}

/**
 * min_{λ ≥ 0} ½‖a − Aλ‖² + w·Σλ_i pen_i by enumerating supports (n ≤ 10); returns ‖a − Aλ*‖/‖a‖.
 * Columns A_i = cols[i]. An implementation independent of nnlsGram's active-set method.
 */
function penalizedNnlsBruteForce(a: number[], cols: number[][], pen: number[], w: number): number {
  const n = cols.length;
  let bestObjective = Infinity;
  let bestResidual = NaN;
  const dot = (u: number[], v: number[]): number => u.reduce((s, x, t) => s + x * v[t], 0);
  for (let mask = 0; mask < 1 << n; mask++) {
    const idx = [...Array(n).keys()].filter((i) => mask & (1 << i));
    const k = idx.length;
    const M = idx.map((i) => [...idx.map((j) => dot(cols[i], cols[j])), dot(cols[i], a) - w * pen[i]]);
    let ok = true;
    for (let c = 0; c < k && ok; c++) {
      let piv = c;
      for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
      if (Math.abs(M[piv][c]) < 1e-13) ok = false;
      else {
        [M[c], M[piv]] = [M[piv], M[c]];
        for (let r = 0; r < k; r++) {
          if (r === c) continue;
          const f = M[r][c] / M[c][c];
          for (let t = c; t <= k; t++) M[r][t] -= f * M[c][t];
        }
      }
    }
    if (!ok) continue;
    const lam = idx.map((_, r) => M[r][k] / M[r][r]);
    if (lam.some((v) => v < 0)) continue;
    const res = a.map((v, t) => v - idx.reduce((s, i, r) => s + lam[r] * cols[i][t], 0));
    const objective = 0.5 * dot(res, res) + w * idx.reduce((s, i, r) => s + lam[r] * pen[i], 0);
    if (objective < bestObjective) {
      bestObjective = objective;
      bestResidual = Math.sqrt(dot(res, res) / dot(a, a));
    }
  }
  return bestResidual;
}

/** Both residuals at β (diagonal, q = p = 2) and the brute-force predictor-space NNLS at penalty weights 1, 1/L, 0. */
function bothResiduals(data: Dataset, L: number, eps: number, beta: Float64Array) {
  const { n, d } = data;
  const Z = signedRows(data);
  const pred = predictorKkt(Z, n, d, predictorTransform('diagonal', d), L, 2, eps, beta);
  // Parameter space (docs/THEORY.md §4): the exact p = 2 worst case δ_i* = −ε y_i β/‖β‖₂, held fixed.
  const nb = lpNorm(beta, 2);
  const Xadv = Float64Array.from(data.X, (v, k) => v - (eps * data.y[Math.floor(k / d)] * beta[k % d]) / nb);
  const model = createDiagonal({ inputDim: d, depth: L });
  const param = kktResiduals(model, balancedTheta(beta, L), data, Xadv, Int32Array.from({ length: n }, (_, i) => i));
  // Predictor space by hand: β̃ = β/min_i g_i, target a_j = sign(β̃_j)|β̃_j|^{1/L}, weights
  // W_j = |β̃_j|^{1−1/L}, columns W ⊙ (z_i − ε β̃/‖β̃‖₂), penalties g_i(β̃) − 1.
  const g = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += Z[i * d + j] * beta[j];
    return s - eps * nb;
  });
  const m0 = Math.min(...g);
  const bt = Array.from(beta, (v) => v / m0);
  const a = bt.map((v) => Math.sign(v) * Math.pow(Math.abs(v), 1 / L));
  const W = bt.map((v) => Math.pow(Math.abs(v), 1 - 1 / L));
  const cols = Array.from({ length: n }, (_, i) => bt.map((v, j) => W[j] * (Z[i * d + j] - (eps * v) / (nb / m0))));
  const pen = g.map((v) => v / m0 - 1);
  const brute = (w: number): number => penalizedNnlsBruteForce(a, cols, pen, w);
  return { pred, param, brute, m0 };
}

/**
 * predictorKkt's complementarity penalty relative to ½‖W(∇_cΦ − TGλ)‖², divided by L, and metrics/kkt.ts's
 * relative to ½‖θ̃ − Gλ‖² = (L/2)‖W(∇_cΦ − TGλ)‖² at the balanced factorization (each predictor
 * coordinate appears L times among the factors): the same problem in predictor units, so the penalized
 * residuals coincide (as do the plain NNLS ones).
 */

test('predictorKkt against metrics/kkt.ts at the balanced factorization of a diagonal network (p = 2, exact δ*)', () => {
  // (i) Where complementarity is irrelevant they coincide: S2 at β ∝ (3, 4), where z₁·β = z₂·β (both
  // constraints active at every ε, so the penalty vanishes), ε = 0 and ε = 0.75, L = 2, 3.
  const S2 = s2();
  for (const L of [2, 3]) {
    for (const eps of [0, 0.75]) {
      const { pred, param, brute } = bothResiduals(S2, L, eps, Float64Array.of(3, 4));
      const what = `S2 β=(3,4) L=${L} ε=${eps}`;
      assert.ok(pred.stationarity > 0.1, `${what}: not a KKT point (${pred.stationarity})`);
      assertClose(param.stationarity, pred.stationarity, SAME_RESIDUAL, `${what}: kkt.ts stationarity`);
      assertClose(param.nnlsStationarity, pred.stationarity, SAME_RESIDUAL, `${what}: kkt.ts plain NNLS`);
      assertClose(brute(1), pred.stationarity, SAME_RESIDUAL, `${what}: brute force`);
      assert.ok(Math.abs(pred.complementarity) <= 1e-12 && Math.abs(param.complementarity) <= 1e-12, `${what}: complementarity`);
    }
  }
  // (ii) In general (random β near the planted direction, all examples candidates): kkt.ts's
  // stationarity is the predictor-space NNLS with penalty weight 1/L, its nnlsStationarity the plain
  // NNLS, and predictorKkt the same NNLS with weight 1/L — so predictorKkt = kkt.ts ≥
  // plain, with equality at the plain NNLS when its solution sits on the active constraints.
  const small = syntheticSeparable({ n: 8, d: 5, margin: 0.5, seed: 3 });
  const rng = new Rng(5);
  let checked = 0;
  let differ = 0;
  for (let t = 0; t < 6; t++) {
    const beta = Float64Array.from(small.plantedDirection, (v) => v + 0.2 * rng.normal());
    for (const L of [2, 3]) {
      for (const eps of [0, 0.1]) {
        const { pred, param, brute, m0 } = bothResiduals(small, L, eps, beta);
        if (!(m0 > 0)) {
          assert.equal(pred.stationarity, Infinity);
          assert.ok(Number.isNaN(param.stationarity));
          continue;
        }
        checked++;
        const what = `synthetic t=${t} L=${L} ε=${eps}`;
        assert.ok(pred.stationarity > 1e-3, `${what}: β is not a KKT point`);
        assertClose(param.stationarity, brute(1 / L), SAME_RESIDUAL, `${what}: kkt.ts = predictor NNLS with weight 1/L`);
        // kkt.ts takes the plain NNLS minimum from the Gram form √(1 − 2μᵀb + μᵀKμ): near 0 that
        // cancellation leaves ~√(1e-16) = 1e-8 absolute.
        const plain = brute(0);
        assert.ok(Math.abs(param.nnlsStationarity - plain) <= Math.max(SAME_RESIDUAL * plain, GRAM_FORM_FLOOR), `${what}: kkt.ts plain NNLS ${param.nnlsStationarity} = predictor plain NNLS ${plain}`);
        assertClose(pred.stationarity, brute(1 / L), SAME_RESIDUAL, `${what}: predictorKkt = predictor NNLS with weight 1/L`);
        assertClose(pred.stationarity, param.stationarity, SAME_RESIDUAL, `${what}: predictorKkt = kkt.ts stationarity`);
        assert.ok(param.stationarity >= param.nnlsStationarity * (1 - SAME_RESIDUAL), `${what}: plain NNLS is a lower bound`);
        if (pred.stationarity > param.nnlsStationarity * 1.01) differ++;
      }
    }
  }
  assert.ok(checked >= 12, `${checked} feasible cases`);
  // The penalty matters (the penalized residual is not the plain NNLS one) in many of these cases.
  assert.ok(differ >= 3, `${differ} cases where the penalized residual exceeds the plain NNLS by > 1%`);
});

// ---------------------------------------------------------------------------------------------
// 4. DFT coordinates
// ---------------------------------------------------------------------------------------------

test('applyTransform: identity for diagonal, the unitary DFT of linalg/dft.ts for conv; interpolationNorm from it', () => {
  const rng = new Rng(11);
  for (const d of [1, 2, 3, 7, 8, 20, 64]) {
    const beta = Float64Array.from({ length: d }, () => rng.normal());
    const ref = dftUnitary(beta);
    const c = applyTransform(predictorTransform('conv', d), beta);
    let err = 0;
    for (let k = 0; k < d; k++) err = Math.max(err, Math.abs(c.re[k] - ref.re[k]), Math.abs(c.im[k] - ref.im[k]));
    assert.ok(err <= 1e-13 * Math.max(1, lpNorm(beta, 2)), `d=${d}: max |c − dftUnitary| = ${err}`);
    const diag = applyTransform(predictorTransform('diagonal', d), beta);
    assert.deepEqual(Array.from(diag.re), Array.from(beta));
    assert.ok(diag.im.every((v) => v === 0));
    for (const L of [2, 3, 4]) {
      const mods = Array.from(ref.re, (v, k) => Math.hypot(v, ref.im[k]));
      const expected = Math.pow(mods.reduce((s, m) => s + Math.pow(m, 2 / L), 0), L / 2);
      assertClose(interpolationNorm(predictorTransform('conv', d), L, beta), expected, 1e-12, `conv N, d=${d}, L=${L}`);
      const expectedDiag = Math.pow(Array.from(beta).reduce((s, v) => s + Math.pow(Math.abs(v), 2 / L), 0), L / 2);
      assertClose(interpolationNorm(predictorTransform('diagonal', d), L, beta), expectedDiag, 1e-12, `diagonal N, d=${d}, L=${L}`);
    }
  }
});

/** Real β with DFT moduli |c_0| = amp[0], |c_k| = |c_{d−k}| = amp[k] (phases phase[k]). */
function fromModuli(d: number, amp: number[], phase: number[]): Float64Array {
  const beta = new Float64Array(d);
  for (let n = 0; n < d; n++) {
    let s = amp[0];
    for (let k = 1; k < amp.length; k++) {
      const nyquist = 2 * k === d;
      s += (nyquist ? 1 : 2) * amp[k] * Math.cos((2 * Math.PI * k * n) / d + (nyquist ? 0 : phase[k]));
    }
    beta[n] = s / Math.sqrt(d);
  }
  return beta;
}

test('zeroSmallCoordinates: conv zeroes mirrored pairs (k, d − k) together, keeps the rest and β real; diagonal zeroes entries', () => {
  for (const [d, amp, small] of [
    [8, [1, 0.7, 1e-9, 0.4, 1e-10], [2, 4, 6]], // k = 2 (with 6) and the Nyquist k = 4
    [7, [0.5, 1, 3e-8, 0.2], [2, 5]],
    [9, [2e-9, 0.3, 0.9, 5e-9, 0.6], [0, 3, 6]], // k = 0 too
  ] as [number, number[], number[]][]) {
    const phase = amp.map((_, k) => 0.3 + 0.7 * k);
    const beta = fromModuli(d, amp, phase);
    const T = predictorTransform('conv', d);
    const c = applyTransform(T, beta);
    const mod = Array.from(c.re, (v, k) => Math.hypot(v, c.im[k]));
    for (let k = 0; k < d; k++) assertClose(mod[k], amp[Math.min(k, d - k)], 1e-12, `d=${d}: constructed |c_${k}|`);
    assert.equal(zeroSmallCoordinates(T, beta, 1e-12), null, `d=${d}: nothing below 1e-12`);
    const out = zeroSmallCoordinates(T, beta, 1e-6);
    assert.ok(out, `d=${d}: something to zero`);
    assert.equal(out.length, d);
    const c2 = applyTransform(T, out);
    const ref = dftUnitary(out);
    for (let k = 0; k < d; k++) {
      const m2 = Math.hypot(c2.re[k], c2.im[k]);
      if (small.includes(k)) assert.ok(m2 <= 1e-15, `d=${d}: c_${k} zeroed (|c| = ${m2})`);
      else {
        assertClose(c2.re[k], c.re[k], 1e-13, `d=${d}: Re c_${k} kept`);
        assertClose(c2.im[k], c.im[k], 1e-13, `d=${d}: Im c_${k} kept`);
      }
      // β real ⇔ the coefficients are conjugate-symmetric: equal moduli on mirrored pairs.
      const mirror = (d - k) % d;
      assertClose(m2, Math.hypot(c2.re[mirror], c2.im[mirror]), 1e-13, `d=${d}: |c_${k}| = |c_${mirror}|`);
      assertClose(c2.re[k], c2.re[mirror], 1e-13, `d=${d}: Re c_${k} = Re c_${mirror}`);
      assertClose(c2.im[k], -c2.im[mirror], 1e-13, `d=${d}: Im c_${k} = −Im c_${mirror}`);
      assertClose(Math.hypot(ref.re[k], ref.im[k]), m2, 1e-13, `d=${d}: dftUnitary agrees`);
    }
  }
  const T = predictorTransform('diagonal', 4);
  const beta = Float64Array.of(1, 1e-9, -0.5, -2e-8);
  assert.deepEqual(Array.from(zeroSmallCoordinates(T, beta, 1e-6) ?? []), [1, 0, -0.5, 0]);
  assert.equal(zeroSmallCoordinates(T, beta, 1e-10), null);
});

test('architectureOfModel: diagonal and diagonal-pm → diagonal, conv → conv, others → null', () => {
  assert.equal(architectureOfModel('diagonal'), 'diagonal');
  assert.equal(architectureOfModel('diagonal-pm'), 'diagonal');
  assert.equal(architectureOfModel('conv'), 'conv');
  for (const k of ['linear', 'deep-linear', 'relu-mlp', 'relu-cnn']) assert.equal(architectureOfModel(k), null, k);
});

// ---------------------------------------------------------------------------------------------
// 5. Input errors and ε ≥ γ_q*
// ---------------------------------------------------------------------------------------------

async function assertInputError(problem: ProblemKind, opts: SolveOptions, field: string): Promise<void> {
  await assert.rejects(solve(problem, s2(), opts), (e: unknown) => {
    assert.ok(e instanceof InputError, `${JSON.stringify(opts)}: ${String(e)}`);
    assert.equal(e.field, field, `${JSON.stringify(opts)}: field of "${e.message}"`);
    return true;
  });
}

test('solve(interpolation-norm): invalid input is an InputError naming the field', async () => {
  const base = { architecture: 'diagonal', p: 2, eps: 0.25 } as const;
  await assertInputError('interpolation-norm', { ...base, depth: 1 }, 'depth');
  await assertInputError('interpolation-norm', { ...base, depth: 0 }, 'depth');
  await assertInputError('interpolation-norm', { ...base, depth: 2.5 }, 'depth');
  await assertInputError('interpolation-norm', { ...base, architecture: 'diag' as InterpolationArchitecture }, 'architecture');
  await assertInputError('interpolation-norm', { p: 2, eps: 0.25 }, 'architecture');
  await assertInputError('interpolation-norm', { ...base, eps: -0.1 }, 'eps');
  await assertInputError('interpolation-norm', { ...base, eps: Infinity }, 'eps');
  await assertInputError('interpolation-norm', { architecture: 'diagonal', p: 2 }, 'eps');
  await assertInputError('interpolation-norm', { ...base, p: 0.5 }, 'p');
  await assertInputError('interpolation-norm', { ...base, q: 2 }, 'q');
  await assertInputError('interpolation-norm', { ...base, depth: 3, starts: 0 }, 'starts');
  // The other problems take none of the interpolation-norm options.
  await assertInputError('adversarial-svm', { p: 2, eps: 0.25, depth: 2 }, 'depth');
  await assertInputError('adversarial-svm', { p: 2, eps: 0.25, architecture: 'diagonal' }, 'architecture');
  await assertInputError('svm', { depth: 2 }, 'depth');
  await assertInputError('threshold', { p: 2, starts: 4 }, 'starts');
  await assertInputError('interpolation', { p: 2, eps: 0.25, seed: 1 }, 'seed');
});

test('solve(interpolation-norm): ε ≥ γ_q* gives status eps-too-large and no solution', async () => {
  // S2, p = 2: γ₂* = √5/2 ≈ 1.118.
  for (const [architecture, depth] of [['diagonal', 2], ['conv', 2], ['diagonal', 3]] as const) {
    const r = asC3(await solve('interpolation-norm', s2(), { architecture, depth, p: 2, eps: 2 }));
    assert.equal(r.status, 'eps-too-large', `${architecture} L=${depth}: ${r.status}: ${r.message}`);
    assert.equal(r.direction, null);
    assert.equal(r.beta, null);
    assert.deepEqual(r.local, []);
    assert.equal(r.crossCheck, undefined);
    assert.match(r.message, /γ_q\* = 1\.118/);
  }
});
