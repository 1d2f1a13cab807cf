/**
 * The adversarial SVM (B), the interpolation-norm SVM (D), the general-q SVM and the solver
 * dispatcher, checked against docs/THEORY.md §8's deep-linear table on S2, a brute-force 2-D maximization,
 * the ℓ2/ℓq-SVM limits, and a committed fixture made by an independent solver (cvxopt).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Dataset } from '../../src/data/dataset.ts';
import { S2_POINTS, s1, s2 } from '../../src/data/builtin.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { InputError } from '../../src/errors.ts';
import { dualExponent, lpNorm, steepestAscent } from '../../src/linalg/norms.ts';
import { directionError } from '../../src/metrics/direction.ts';
import { adversarialSvm, interpolationSvm, interpolationSvmDirect } from '../../src/solvers/adversarial.ts';
import { referenceFor, solve, type SolveOptions } from '../../src/solvers/index.ts';
import { svmL2, svmLinf1 } from '../../src/solvers/svm.ts';
import { svmQ } from '../../src/solvers/svm-q.ts';
import { robustThreshold } from '../../src/solvers/threshold.ts';
import type { KktResiduals, ProblemKind, SolverResult } from '../../src/solvers/types.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

const SYNTHETIC = { n: 100, d: 20, margin: 0.1, seed: 1 } as const;
const DEG = 180 / Math.PI;

function dataset(name: string, points: number[][], labels?: number[]): Dataset {
  return {
    name,
    n: points.length,
    d: points[0]?.length ?? 2,
    X: Float64Array.from(points.flat()),
    y: Int32Array.from(labels ?? points.map(() => 1)),
    binary: true,
    classes: 2,
  };
}

function unitAt(deg: number): Float64Array {
  return Float64Array.of(Math.cos(deg / DEG), Math.sin(deg / DEG));
}

function maxKkt(k: KktResiduals): number {
  return Math.max(k.primalFeasibility, k.dualFeasibility, k.complementarity, k.stationarity);
}

function assertOptimal(r: SolverResult, what: string): asserts r is SolverResult & { direction: Float64Array; beta: Float64Array; multipliers: Float64Array } {
  assert.equal(r.status, 'optimal', `${what}: ${r.status}: ${r.message}`);
  assert.ok(r.direction && r.beta && r.multipliers, `${what}: missing solution arrays`);
  assert.ok(maxKkt(r.kkt) <= TOL.solverKkt, `${what}: KKT residuals ${JSON.stringify(r.kkt)} above ${TOL.solverKkt}`);
  assertClose(lpNorm(r.direction, 2), 1, TOL.identity, `${what}: ‖direction‖₂`);
}

function assertDirection(u: ArrayLike<number>, v: ArrayLike<number>, what: string): void {
  const e = directionError(u, v);
  assert.ok(e.angleDeg <= TOL.directionDegrees, `${what}: angle ${e.angleDeg}° (tolerance ${TOL.directionDegrees}°)`);
}

/** Identities every optimal (B) answer satisfies (docs/THEORY.md §5): margin 1/‖β‖₂, Σλ = ‖β‖₂, λ ≥ 0. */
function assertBIdentities(r: SolverResult & { beta: Float64Array; multipliers: Float64Array }, eps: number, q: number, what: string): void {
  const n2 = lpNorm(r.beta, 2);
  assertClose(r.margin, 1 / n2, TOL.closedForm, `${what}: margin = 1/‖β_B‖₂`);
  let sum = 0;
  for (const l of r.multipliers) {
    assert.ok(l >= 0, `${what}: negative multiplier ${l}`);
    sum += l;
  }
  // ⟨β_B, β_B/‖β_B‖₂⟩ = Σλ_i (z_i·β_B − ε‖β_B‖_q) = Σλ_i by complementarity and Euler's identity.
  assertClose(sum, n2, TOL.solverAgreement, `${what}: Σλ_i = ‖β_B‖₂`);
  assert.equal(r.eps, eps);
  assert.equal(r.q, q);
}

// ---------------------------------------------------------------------------------------------
// A brute-force 2-D reference: maximize a quasi-concave φ(u) over the unit circle
// ---------------------------------------------------------------------------------------------

/** Value and θ-derivative of each piece h_i of φ(θ) = min_i h_i(θ), u = (cos θ, sin θ). */
type Pieces = (theta: number) => { value: number; slope: number }[];

/**
 * argmax_θ min_i h_i(θ) by a grid of 2¹⁶ angles, then bisection on the sign of the active piece's
 * derivative inside the best grid cell. Why not golden section on φ alone: at a smooth maximum
 * φ(θ*) − φ(θ) ≈ c(θ − θ*)² drops below rounding for |θ − θ*| ≲ 1e-8 rad ≈ 6e-7°, too close to the
 * 1e-6° target; the derivative's sign resolves θ* to a few ulps, at a kink maximum as well (the
 * active piece rises on the left of the kink and falls on its right).
 */
function maximizeOnCircle(pieces: Pieces): { theta: number; value: number } {
  const phi = (t: number): { value: number; slope: number } => pieces(t).reduce((a, b) => (b.value < a.value ? b : a));
  const N = 1 << 16;
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < N; k++) {
    const v = phi(-Math.PI + (2 * Math.PI * k) / N).value;
    if (v > bestValue) {
      bestValue = v;
      best = k;
    }
  }
  let lo = -Math.PI + (2 * Math.PI * (best - 1)) / N;
  let hi = -Math.PI + (2 * Math.PI * (best + 1)) / N;
  assert.ok(phi(lo).slope > 0 && phi(hi).slope < 0, 'brute force: the best grid cell does not bracket the maximum');
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (phi(mid).slope > 0) lo = mid;
    else hi = mid;
  }
  const theta = (lo + hi) / 2;
  return { theta, value: phi(theta).value };
}

/** ‖u‖_q and d/dθ ‖u(θ)‖_q = ∇‖u‖_q·u′ (∇‖u‖_q = s_p(u), p the dual of q). */
function qNormAndSlope(theta: number, q: number): { norm: number; slope: number } {
  const u = Float64Array.of(Math.cos(theta), Math.sin(theta));
  const g = new Float64Array(2);
  steepestAscent(u, dualExponent(q), g);
  return { norm: lpNorm(u, q), slope: -g[0] * Math.sin(theta) + g[1] * Math.cos(theta) };
}

/** u*(ε, p) on S2 by brute force: max over unit u of min_i z_i·u − ε‖u‖_q (q smooth: 1 < q < ∞). */
function bruteForceB(q: number, eps: number): { theta: number; value: number } {
  return maximizeOnCircle((t) => {
    const nq = qNormAndSlope(t, q);
    return S2_POINTS.map(([a, b]) => ({
      value: a * Math.cos(t) + b * Math.sin(t) - eps * nq.norm,
      slope: -a * Math.sin(t) + b * Math.cos(t) - eps * nq.slope,
    }));
  });
}

/** The ℓq-SVM on S2 by brute force: max over unit u of min_i z_i·u/‖u‖_q (= γ_q). */
function bruteForceSvmQ(q: number): { theta: number; value: number } {
  return maximizeOnCircle((t) => {
    const nq = qNormAndSlope(t, q);
    return S2_POINTS.map(([a, b]) => {
      const m = a * Math.cos(t) + b * Math.sin(t);
      const dm = -a * Math.sin(t) + b * Math.cos(t);
      return { value: m / nq.norm, slope: (dm * nq.norm - m * nq.slope) / nq.norm ** 2 };
    });
  });
}

// ---------------------------------------------------------------------------------------------
// docs/THEORY.md §8: the deep-linear table on S2
// ---------------------------------------------------------------------------------------------

const GAMMA2 = Math.sqrt(5) / 2;

/** Rows of the table: p, ε values covering every regime, expected angle (degrees) and γ*(ε). */
const TABLE: { p: number; eps: number[]; angle: (e: number) => number; margin: (e: number) => number }[] = [
  { p: 2, eps: [0, 0.1, 0.25, 0.5, 0.75, 1, 1.1, 1.118], angle: () => Math.atan(0.5) * DEG, margin: (e) => GAMMA2 - e },
  {
    p: Infinity,
    eps: [0, 0.1, 0.25, 0.4, 0.49, 0.5, 0.51, 0.6, 0.75, 0.9, 0.99],
    angle: (e) => (e <= 0.5 ? Math.atan((0.5 - e) / (1 - e)) * DEG : 0),
    margin: (e) => (e <= 0.5 ? Math.hypot(1 - e, 0.5 - e) : 1 - e),
  },
  {
    p: 1,
    eps: [0, 0.1, 0.25, 0.4, 0.49, 0.5, 0.51, 0.75, 1, 1.25, 1.45, 1.49],
    angle: (e) => (e <= 0.5 ? Math.atan(0.5 / (1 - e)) * DEG : 45),
    margin: (e) => (e <= 0.5 ? Math.hypot(1 - e, 0.5) : (1.5 - e) / Math.SQRT2),
  },
];

describe('adversarialSvm: docs/THEORY.md §8 deep-linear table on S2', () => {
  for (const row of TABLE) {
    const q = dualExponent(row.p);
    for (const eps of row.eps) {
      it(`p = ${row.p}, ε = ${eps}: direction ${row.angle(eps).toFixed(4)}°, γ*(ε) = ${row.margin(eps).toFixed(5)}`, async () => {
        const r = await adversarialSvm(s2(), row.p, eps);
        assertOptimal(r, `p=${row.p} ε=${eps}`);
        assert.equal(r.problem, 'adversarial-svm');
        assertDirection(r.direction, unitAt(row.angle(eps)), `p=${row.p} ε=${eps}`);
        assertClose(r.margin, row.margin(eps), TOL.solverAgreement, `p=${row.p} ε=${eps}: γ*(ε)`);
        assertBIdentities(r, eps, q, `p=${row.p} ε=${eps}`);
      });
    }
  }

  it('the worked examples: p = ∞, ε = 0.25 → 18.4349°, γ* = 0.79057; p = 1, ε = 0.25 → 33.6901°', async () => {
    const a = await adversarialSvm(s2(), Infinity, 0.25);
    assertOptimal(a, 'p=∞');
    assert.equal((Math.atan2(a.direction[1], a.direction[0]) * DEG).toFixed(4), '18.4349');
    assert.equal(a.margin.toFixed(5), '0.79057');
    const b = await adversarialSvm(s2(), 1, 0.25);
    assertOptimal(b, 'p=1');
    assert.equal((Math.atan2(b.direction[1], b.direction[0]) * DEG).toFixed(4), '33.6901');
  });

  it('mirrored S2 (every constraint twice) and S1 give the same answers', async () => {
    for (const [p, eps] of [
      [Infinity, 0.25],
      [Infinity, 0.75],
      [1, 0.75],
      [2, 0.5],
      [3, 0.5],
    ] as const) {
      const row = TABLE.find((t) => t.p === p);
      const r = await adversarialSvm(s2({ mirrored: true }), p, eps);
      assertOptimal(r, `mirrored p=${p} ε=${eps}`);
      const plain = await adversarialSvm(s2(), p, eps);
      assertOptimal(plain, `plain p=${p} ε=${eps}`);
      assertDirection(r.direction, plain.direction, `mirrored p=${p} ε=${eps}`);
      assertClose(r.margin, plain.margin, TOL.solverAgreement, `mirrored p=${p} ε=${eps}: margin`);
      if (row) assertDirection(r.direction, unitAt(row.angle(eps)), `mirrored p=${p} ε=${eps} vs table`);
      // S1: every p and admissible ε gives (1, 1)/√2 (docs/THEORY.md §8).
      const one = await adversarialSvm(s1(), p, eps / 4);
      assertOptimal(one, `S1 p=${p}`);
      assertDirection(one.direction, unitAt(45), `S1 p=${p} ε=${eps / 4}`);
    }
  });
});

describe('adversarialSvm: thresholds, limits and statuses', () => {
  it('ε ≥ γ_q* gives eps-too-large with a message naming ε and γ_q*', async () => {
    for (const p of [2, Infinity, 1, 3]) {
      const th = await robustThreshold(s2(), p);
      assert.equal(th.status, 'optimal');
      for (const eps of [th.margin, th.margin * 1.5, 10]) {
        const r = await adversarialSvm(s2(), p, eps);
        assert.equal(r.status, 'eps-too-large', `p=${p} ε=${eps}: ${r.status}`);
        assert.equal(r.direction, null);
        assert.ok(Number.isNaN(r.margin));
        assert.ok(r.message.includes(String(eps)) && r.message.includes(String(th.margin)), r.message);
      }
    }
  });

  it('p = 2 gives the ℓ2-SVM direction for every ε < γ₂*, on S2 and on synthetic data', async () => {
    for (const data of [s2(), syntheticSeparable(SYNTHETIC)]) {
      const l2 = await svmL2(data);
      assert.equal(l2.status, 'optimal');
      const th = await robustThreshold(data, 2);
      for (const f of [0, 0.3, 0.7, 0.99]) {
        const r = await adversarialSvm(data, 2, f * th.margin, { gammaQ: th.margin });
        assertOptimal(r, `${data.name} f=${f}`);
        assertDirection(r.direction, l2.direction!, `${data.name} ε = ${f}·γ₂*`);
        // γ*(ε) = γ₂* − ε for p = 2.
        assertClose(r.margin, th.margin - f * th.margin, TOL.solverAgreement, `${data.name} f=${f}: γ*(ε)`);
      }
    }
  });

  it('ε → 0 approaches the ℓ2-SVM and ε = 0 is the ℓ2-SVM (synthetic data, p = ∞, 1, 3)', async () => {
    const data = syntheticSeparable(SYNTHETIC);
    const l2 = await svmL2(data);
    for (const p of [Infinity, 1, 3]) {
      const th = await robustThreshold(data, p);
      let previous = Infinity;
      for (const f of [1e-1, 1e-2, 1e-3]) {
        const r = await adversarialSvm(data, p, f * th.margin, { gammaQ: th.margin });
        assertOptimal(r, `p=${p} f=${f}`);
        const e = directionError(r.direction, l2.direction!).angleDeg;
        // The path is Lipschitz in ε: a tenfold smaller ε gives a several-fold smaller angle.
        assert.ok(e < previous / 5, `p=${p}: angle ${e}° at ε = ${f}·γ_q* not below ${previous}°/5`);
        previous = e;
      }
      const r0 = await adversarialSvm(data, p, 0, { gammaQ: th.margin });
      assertOptimal(r0, `p=${p} ε=0`);
      assertDirection(r0.direction, l2.direction!, `p=${p} ε = 0`);
      assertClose(r0.margin, l2.margin, TOL.solverAgreement, `p=${p} ε=0: margin`);
    }
  });

  it('ε ↑ γ_q* approaches the ℓq-SVM direction (S2: p = 3, 1.5 smoothly; p = ∞, 1 reached at ε = 0.5)', async () => {
    for (const p of [3, 1.5]) {
      const q = dualExponent(p);
      const lq = await svmQ(s2(), q);
      assert.equal(lq.status, 'optimal', lq.message);
      const th = await robustThreshold(s2(), p);
      let previous = Infinity;
      for (const gap of [1e-1, 1e-2, 1e-3, 1e-4]) {
        const r = await adversarialSvm(s2(), p, (1 - gap) * th.margin, { gammaQ: th.margin });
        assertOptimal(r, `p=${p} gap=${gap}`);
        const e = directionError(r.direction, lq.direction!).angleDeg;
        assert.ok(e < previous / 5, `p=${p}: angle ${e}° at ε = (1 − ${gap})γ_q* not below ${previous}°/5`);
        previous = e;
      }
    }
    // The kink regimes: from ε = 0.5 on, (B)'s direction IS the ℓ1-SVM (p = ∞) / ℓ∞-SVM (p = 1) one.
    for (const [p, q] of [
      [Infinity, 1],
      [1, Infinity],
    ] as const) {
      const lq = await svmLinf1(s2(), q);
      assert.equal(lq.status, 'optimal');
      for (const eps of [0.5, 0.75, 0.99]) {
        const r = await adversarialSvm(s2(), p, eps);
        assertOptimal(r, `p=${p} ε=${eps}`);
        assertDirection(r.direction, lq.direction!, `p=${p} ε=${eps} vs ℓ${q}-SVM`);
      }
    }
  });

  it('general p (3 and 1.5) on S2 agrees with a brute-force 2-D maximization', async () => {
    for (const p of [3, 1.5]) {
      const q = dualExponent(p);
      const th = await robustThreshold(s2(), p);
      assert.equal(th.status, 'optimal');
      for (const f of [0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
        const eps = f * th.margin;
        const r = await adversarialSvm(s2(), p, eps, { gammaQ: th.margin });
        assertOptimal(r, `p=${p} ε=${eps}`);
        const bf = bruteForceB(q, eps);
        assertDirection(r.direction, unitAt(bf.theta * DEG), `p=${p} ε=${eps} vs brute force`);
        assertClose(r.margin, bf.value, TOL.solverAgreement, `p=${p} ε=${eps}: γ*(ε) vs brute force`);
        assertBIdentities(r, eps, q, `p=${p} ε=${eps}`);
      }
    }
  });

  it('not-separable and degenerate data, and bad inputs', async () => {
    const clash = dataset('clash', [
      [1, 0],
      [1, 0],
    ], [1, -1]);
    assert.equal((await adversarialSvm(clash, Infinity, 0.1)).status, 'not-separable');
    assert.equal((await interpolationSvm(clash, 2, 0.1)).status, 'not-separable');
    const zero = dataset('zero', [
      [1, 0],
      [0, 0],
    ]);
    assert.equal((await adversarialSvm(zero, 2, 0.1)).status, 'degenerate');
    for (const [p, eps, field] of [
      [0.5, 0.1, 'p'],
      [Number.NaN, 0.1, 'p'],
      [2, -0.1, 'eps'],
      [2, Number.NaN, 'eps'],
      [2, Infinity, 'eps'],
    ] as const) {
      await assert.rejects(adversarialSvm(s2(), p, eps), (e: unknown) => e instanceof InputError && e.field === field);
    }
    const multi = { ...s2(), binary: false, classes: 3 };
    await assert.rejects(adversarialSvm(multi, 2, 0.1, { gammaQ: 1 }), InputError);
  });
});

// ---------------------------------------------------------------------------------------------
// (D)
// ---------------------------------------------------------------------------------------------

describe('interpolationSvm: (D) with μ = εΣλ_i', () => {
  const cases: [Dataset, number, number][] = [
    [s2(), Infinity, 0.25],
    [s2(), Infinity, 0.75],
    [s2(), 1, 0.25],
    [s2(), 1, 1],
    [s2(), 2, 0.5],
    [s2(), 3, 0.5],
    [syntheticSeparable(SYNTHETIC), Infinity, 0.02],
  ];
  for (const [data, p, eps] of cases) {
    it(`${data.name}, p = ${p}, ε = ${eps}: β_D = β_B/(1 + ε‖β_B‖_q), μ = ε‖β_B‖₂, and (D) solved directly agrees`, async () => {
      const q = dualExponent(p);
      const b = await adversarialSvm(data, p, eps);
      assertOptimal(b, 'B');
      const r = await interpolationSvm(data, p, eps);
      assertOptimal(r, 'D');
      assert.equal(r.problem, 'interpolation');
      assert.ok(r.message.includes('solved directly'), r.message);
      let sum = 0;
      for (const l of b.multipliers) sum += l;
      assertClose(r.mu!, eps * sum, TOL.closedForm, 'μ = εΣλ_i');
      assertClose(r.mu!, eps / b.margin, TOL.solverAgreement, 'μ = ε‖β_B‖₂ = ε/γ*(ε)');
      const c = 1 / (1 + eps * lpNorm(b.beta, q));
      for (let j = 0; j < data.d; j++) assertClose(r.beta[j], c * b.beta[j], TOL.closedForm, `β_D[${j}]`);
      assertDirection(r.direction, b.direction, 'β_D ∥ β_B');
      assertClose(r.margin, b.margin, TOL.solverAgreement, '1/(‖β_D‖₂ + μ‖β_D‖_q) = γ*(ε)');
      // (D) solved on its own for the same μ, without the polish: agreement at SCS's accuracy.
      const direct = await interpolationSvmDirect(data, p, r.mu!);
      assert.equal(direct.status, 'optimal', direct.message);
      let diff = 0;
      for (let j = 0; j < data.d; j++) diff = Math.max(diff, Math.abs(direct.beta![j] - r.beta[j]));
      assert.ok(diff <= TOL.conicUnpolished * lpNorm(r.beta, Infinity), `β_D vs (D) direct: max gap ${diff}`);
      assertClose(direct.margin, r.margin, TOL.conicUnpolished, '(D) direct margin');
      assert.ok(directionError(direct.direction!, r.direction).oneMinusCos <= TOL.solverDirectionCos, '(D) direct direction');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Second method: committed cvxopt fixture on the synthetic set
// ---------------------------------------------------------------------------------------------

interface FixtureInput {
  options: typeof SYNTHETIC;
  n: number;
  d: number;
  X: number[][];
  y: number[];
  cases: { p: string; gammaQ: number; eps: number }[];
}
interface FixtureOutput {
  solver: string;
  cases: { p: string; eps: number; gammaQ: number; status: string; direction: number[]; margin: number; multipliers: number[] }[];
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/adversarial/${name}`, import.meta.url), 'utf8')) as T;
}

describe('adversarialSvm vs cvxopt (scripts/fixtures/make_adversarial_fixtures.py) on synthetic n = 100, d = 20', () => {
  const input = readFixture<FixtureInput>('synthetic-n100-d20.input.json');
  const output = readFixture<FixtureOutput>('synthetic-n100-d20.cvxopt.json');
  const data = syntheticSeparable(SYNTHETIC);

  it('the fixture data are bit-identical to syntheticSeparable', () => {
    assert.deepEqual(input.options, SYNTHETIC);
    assert.equal(input.n, data.n);
    assert.equal(input.d, data.d);
    for (let i = 0; i < data.n; i++) {
      assert.equal(input.y[i], data.y[i]);
      for (let j = 0; j < data.d; j++) assert.equal(input.X[i][j], data.X[i * data.d + j], `X[${i}][${j}]`);
    }
  });

  for (const c of output.cases) {
    it(`p = ${c.p}, ε = γ_q*/2: 1 − cos < ${TOL.solverDirectionCos}, γ*(ε) and multipliers agree`, async () => {
      const p = c.p === 'inf' ? Infinity : Number(c.p);
      assert.equal(c.status, 'optimal');
      const th = await robustThreshold(data, p);
      assertClose(th.margin, c.gammaQ, TOL.solverAgreement, 'γ_q*: robustThreshold vs cvxopt');
      assertClose(c.eps, th.margin / 2, TOL.solverAgreement, 'fixture ε = γ_q*/2');
      const r = await adversarialSvm(data, p, c.eps);
      assertOptimal(r, `p=${c.p}`);
      const e = directionError(r.direction, c.direction);
      assert.ok(e.oneMinusCos < TOL.solverDirectionCos, `1 − cos = ${e.oneMinusCos}`);
      assertClose(r.margin, c.margin, TOL.solverAgreement, 'γ*(ε) vs cvxopt');
      for (let i = 0; i < data.n; i++) assertClose(r.multipliers[i], c.multipliers[i], TOL.interiorPointMultipliers, `λ[${i}] vs cvxopt`);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// svmQ
// ---------------------------------------------------------------------------------------------

describe('svmQ: the ℓq-SVM for 1 < q < ∞', () => {
  for (const q of [1.5, 3, 2]) {
    it(`q = ${q} on S2 agrees with a brute-force 2-D maximization`, async () => {
      const r = await svmQ(s2(), q);
      assertOptimal(r, `q=${q}`);
      assert.equal(r.problem, 'svm');
      const bf = bruteForceSvmQ(q);
      assertDirection(r.direction, unitAt(bf.theta * DEG), `q=${q}`);
      assertClose(r.margin, bf.value, TOL.solverAgreement, `q=${q}: γ_q`);
      assertClose(r.margin, 1 / lpNorm(r.beta, q), TOL.closedForm, 'margin = 1/‖β‖_q');
      let sum = 0;
      for (const l of r.multipliers) sum += l;
      // Σλ_i = ‖β_q‖_q in the min ‖β‖_q form (Euler: ⟨∇‖β‖_q, β⟩ = ‖β‖_q).
      assertClose(sum, lpNorm(r.beta, q), TOL.solverAgreement, 'Σλ_i = ‖β‖_q');
    });
  }

  it('q = 2 agrees with svmL2 on synthetic data; q → 1, ∞ give sensible statuses', async () => {
    const data = syntheticSeparable(SYNTHETIC);
    const r = await svmQ(data, 2);
    assertOptimal(r, 'q=2');
    const l2 = await svmL2(data);
    assert.ok(directionError(r.direction, l2.direction!).oneMinusCos < TOL.solverDirectionCos);
    assertClose(r.margin, l2.margin, TOL.solverAgreement, 'γ₂');
    for (const q of [1, 0.5, Infinity, Number.NaN]) await assert.rejects(svmQ(data, q), (e: unknown) => e instanceof InputError && e.field === 'q');
    const clash = dataset('clash', [
      [1, 0],
      [1, 0],
    ], [1, -1]);
    assert.equal((await svmQ(clash, 3)).status, 'not-separable');
  });
});

// ---------------------------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------------------------

describe('solve and referenceFor', () => {
  it('dispatches every problem', async () => {
    const a = await solve('svm', s2(), { q: 2 });
    const b = await svmL2(s2());
    assert.equal(a.solver, b.solver);
    assertDirection(a.direction!, b.direction!, 'svm q=2');
    assert.equal((await solve('svm', s2())).solver, b.solver);
    assertDirection((await solve('svm', s2(), { q: 1 })).direction!, unitAt(0), 'svm q=1');
    assertDirection((await solve('svm', s2(), { q: Infinity })).direction!, unitAt(45), 'svm q=∞');
    assert.equal((await solve('svm', s2(), { q: 3 })).solver, 'scs');
    assertClose((await solve('threshold', s2(), { p: Infinity })).margin, 1, TOL.solverAgreement, 'γ₁*');
    assertClose((await solve('threshold', s2(), { p: 1 })).margin, 1.5, TOL.solverAgreement, 'γ_∞*');
    const adv = await solve('adversarial-svm', s2(), { p: Infinity, eps: 0.25 });
    assertDirection(adv.direction!, unitAt(Math.atan(0.25 / 0.75) * DEG), 'adversarial-svm');
    const itp = await solve('interpolation', s2(), { p: 1, eps: 0.25 });
    assert.equal(itp.problem, 'interpolation');
    assert.ok(itp.mu! > 0);
    // p defaults to ∞ for the adversarial problems; an eps key holding undefined counts as absent.
    assert.equal((await solve('threshold', s2(), { p: undefined, eps: undefined })).p, Infinity);
  });

  it('rejects bad options with an InputError naming the field', async () => {
    const bad: [ProblemKind, SolveOptions, string][] = [
      ['svm', { q: 0.5 }, 'q'],
      ['svm', { q: Number.NaN }, 'q'],
      ['svm', { p: 2 }, 'p'],
      ['svm', { eps: 0.1 }, 'eps'],
      ['threshold', { p: 0 }, 'p'],
      ['threshold', { q: 2 }, 'q'],
      ['threshold', { p: 2, eps: 0.1 }, 'eps'],
      ['adversarial-svm', { p: 2 }, 'eps'],
      ['adversarial-svm', { p: 2, eps: -1 }, 'eps'],
      ['interpolation', { p: 2 }, 'eps'],
      ['interpolation', { p: 0.9, eps: 0.1 }, 'p'],
      ['bogus' as ProblemKind, {}, 'problem'],
    ];
    for (const [problem, opts, field] of bad) {
      await assert.rejects(solve(problem, s2(), opts), (e: unknown) => e instanceof InputError && e.field === field, `${problem} ${JSON.stringify(opts)}`);
    }
  });

  it('referenceFor: (B) for linear and deep-linear models, the ℓ2-SVM for clean training, null for C3 and ReLU', async () => {
    const l2 = await svmL2(s2());
    for (const kind of ['linear', 'deep-linear']) {
      const clean = await referenceFor({ kind, linearInX: true }, { kind: 'none', p: Infinity, eps: 0.25 }, s2());
      assertDirection(clean!.direction!, l2.direction!, `${kind} clean`);
      const zero = await referenceFor({ kind, linearInX: true }, { kind: 'pgd', p: Infinity, eps: 0 }, s2());
      assertDirection(zero!.direction!, l2.direction!, `${kind} ε = 0`);
      const fgsm = await referenceFor({ kind, linearInX: true }, { kind: 'fgsm', p: 2, eps: 0.25 }, s2());
      assert.equal(fgsm!.problem, 'adversarial-svm');
      assert.equal(fgsm!.p, Infinity, 'FGSM is ℓ∞ whatever p says');
      assertDirection(fgsm!.direction!, unitAt(Math.atan(0.25 / 0.75) * DEG), `${kind} fgsm`);
      const pgd = await referenceFor({ kind, linearInX: true }, { kind: 'pgd', p: 1, eps: 0.75 }, s2());
      assertDirection(pgd!.direction!, unitAt(45), `${kind} pgd ℓ1`);
    }
    for (const kind of ['diagonal', 'diagonal-pm', 'conv']) {
      assert.equal(await referenceFor({ kind, linearInX: true }, { kind: 'exact', p: 2, eps: 0.1 }, s2()), null);
    }
    assert.equal(await referenceFor({ kind: 'relu-mlp', linearInX: false }, { kind: 'exact', p: 2, eps: 0.1 }, s2()), null);
  });
});
