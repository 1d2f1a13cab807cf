import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Dataset } from '../../src/data/dataset.ts';
import { s1, s2 } from '../../src/data/builtin.ts';
import { syntheticSeparable } from '../../src/data/synthetic.ts';
import { InputError } from '../../src/errors.ts';
import { lpNorm, steepestAscent, dualExponent } from '../../src/linalg/norms.ts';
import { SVM_KKT_TOLERANCE, svmKkt, svmL2, svmL2Dual, svmLinf1, type SvmLpSolver } from '../../src/solvers/svm.ts';
import { robustThreshold } from '../../src/solvers/threshold.ts';
import type { KktResiduals, SolverResult } from '../../src/solvers/types.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

const SYNTHETIC = { n: 100, d: 20, margin: 0.1, seed: 1 } as const;
const LP_SOLVERS: readonly SvmLpSolver[] = ['highs', 'glpk'];

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

/** Angle of a 2-D direction in degrees. */
function degrees(u: ArrayLike<number>): number {
  return (Math.atan2(u[1], u[0]) * 180) / Math.PI;
}

/** 1 − cos∠(u, v) as ‖û − v̂‖²/2: no cancellation, resolves values down to ~1e-32. */
function oneMinusCos(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const nu = lpNorm(u, 2);
  const nv = lpNorm(v, 2);
  let s = 0;
  for (let j = 0; j < u.length; j++) s += (u[j] / nu - v[j] / nv) ** 2;
  return s / 2;
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

/** The four ℓq-SVM solvers of this module as (label, q, run). */
function allSolvers(data: Dataset): [string, number, () => Promise<SolverResult>][] {
  return [
    ['quadprog', 2, () => svmL2(data)],
    ['dual-cd', 2, () => svmL2Dual(data)],
    ...LP_SOLVERS.flatMap((solver): [string, number, () => Promise<SolverResult>][] => [
      [`${solver} q=1`, 1, () => svmLinf1(data, 1, { solver })],
      [`${solver} q=∞`, Infinity, () => svmLinf1(data, Infinity, { solver })],
    ]),
  ];
}

describe('ℓq-SVMs on the reference sets (docs/THEORY.md §8)', () => {
  // S2: ℓ2 direction atan(1/2) = 26.5651°, margin √5/2; ℓ1 (q = 1) 0°, γ₁* = 1; ℓ∞ (q = ∞) 45°, γ_∞* = 1.5.
  const s2Answers = new Map<number, { angle: number; margin: number }>([
    [2, { angle: (Math.atan(0.5) * 180) / Math.PI, margin: Math.sqrt(5) / 2 }],
    [1, { angle: 0, margin: 1 }],
    [Infinity, { angle: 45, margin: 1.5 }],
  ]);
  // S1: direction (1, 1)/√2 for every q, with β* = (½, ½) in all three problems: both constraints are
  // tight there (0.5·½ + 1.5·½ = 1), so margins 1/‖β*‖_q = √2 (q = 2), 1 (q = 1), 2 (q = ∞).
  const s1Margins = new Map<number, number>([
    [2, Math.SQRT2],
    [1, 1],
    [Infinity, 2],
  ]);

  for (const [label, q, run] of allSolvers(s2())) {
    it(`S2, ${label}: direction and margin`, async () => {
      const r = await run();
      assertOptimal(r, `S2 ${label}`);
      const want = s2Answers.get(q)!;
      assert.ok(Math.abs(degrees(r.direction) - want.angle) <= TOL.directionDegrees, `S2 ${label}: angle ${degrees(r.direction)}° vs ${want.angle}°`);
      assertClose(r.margin, want.margin, TOL.closedForm, `S2 ${label}: margin`);
      assert.equal(r.problem, 'svm');
      assert.equal(r.q, q);
    });
  }

  for (const mirrored of [true, false]) {
    for (const [label, q, run] of allSolvers(s1({ mirrored }))) {
      it(`S1 (mirrored: ${mirrored}), ${label}: direction 45° and margin`, async () => {
        const r = await run();
        assertOptimal(r, `S1 ${label}`);
        assert.ok(Math.abs(degrees(r.direction) - 45) <= TOL.directionDegrees, `S1 ${label}: angle ${degrees(r.direction)}°`);
        assertClose(r.margin, s1Margins.get(q)!, TOL.closedForm, `S1 ${label}: margin`);
      });
    }
  }

  it('S2: the multiplier normalizations (β = Σλz for q = 2; Σλ = ‖β‖_q for the LPs)', async () => {
    const data = s2();
    for (const r of [await svmL2(data), await svmL2Dual(data)]) {
      assertOptimal(r, r.solver);
      // ½‖β‖² form: β* = Σλ_i z_i = (0.8, 0.4) with λ = (0.8, 0) (only z₁ is a support vector).
      assertClose(r.multipliers[0], 0.8, TOL.closedForm, `${r.solver}: λ₁`);
      assertClose(r.multipliers[1], 0, TOL.closedForm, `${r.solver}: λ₂`);
      assertClose(r.beta[0], 0.8, TOL.closedForm, `${r.solver}: β₁`);
      assertClose(r.beta[1], 0.4, TOL.closedForm, `${r.solver}: β₂`);
    }
    for (const solver of LP_SOLVERS) {
      for (const q of [1, Infinity]) {
        const r = await svmLinf1(data, q, { solver });
        assertOptimal(r, `${solver} q=${q}`);
        const sum = r.multipliers.reduce((a, b) => a + b, 0);
        assertClose(sum, lpNorm(r.beta, q), TOL.closedForm, `${solver} q=${q}: Σλ = ‖β‖_q`);
      }
    }
  });
});

describe('ℓq-SVMs on a seeded synthetic set (n = 100, d = 20)', () => {
  const data = syntheticSeparable(SYNTHETIC);

  it('quadprog and the dual method agree (1 − cos < 1e-10, margins to 1e-9), both pass KKT', async () => {
    const a = await svmL2(data);
    const b = await svmL2Dual(data);
    assertOptimal(a, 'quadprog');
    assertOptimal(b, 'dual-cd');
    assert.equal(b.solver, 'dual-cd');
    const c = oneMinusCos(a.direction, b.direction);
    assert.ok(c < TOL.solverDirectionCos, `1 − cos = ${c}`);
    assertClose(a.margin, b.margin, TOL.solverAgreement, 'ℓ2 margin');
    // The margin is at least the planted one (the planted direction separates with margin ≥ γ).
    assert.ok(a.margin >= SYNTHETIC.margin);
  });

  for (const q of [1, Infinity]) {
    it(`HiGHS and GLPK agree on the optimal value of the q = ${q} SVM and both pass KKT`, async () => {
      const [h, g] = await Promise.all(LP_SOLVERS.map((solver) => svmLinf1(data, q, { solver })));
      assertOptimal(h, 'highs');
      assertOptimal(g, 'glpk');
      assertClose(lpNorm(h.beta, q), lpNorm(g.beta, q), TOL.solverAgreement, `min ‖β‖_${q}`);
      assertClose(h.margin, g.margin, TOL.solverAgreement, `γ_${q}`);
      // Each solver's multipliers also certify the other's β (KKT holds for any pair of optima).
      assert.ok(maxKkt(svmKkt(data, q, h.beta, g.multipliers)) <= TOL.solverKkt, 'highs β with glpk λ');
      assert.ok(maxKkt(svmKkt(data, q, g.beta, h.multipliers)) <= TOL.solverKkt, 'glpk β with highs λ');
    });
  }

  it('the ℓ2 margin lies between the ℓ1 and ℓ∞ ones scaled by the norm equivalences', async () => {
    // ‖β‖_∞ ≤ ‖β‖₂ ≤ ‖β‖₁ ⇒ γ₁ ≤ γ₂ ≤ γ_∞ (γ_q = 1/min ‖β‖_q over the same feasible set).
    const [g1, g2, gInf] = await Promise.all([svmLinf1(data, 1), svmL2(data), svmLinf1(data, Infinity)]);
    assert.ok(g1.margin <= g2.margin && g2.margin <= gInf.margin, `${g1.margin} ≤ ${g2.margin} ≤ ${gInf.margin}`);
  });
});

describe('agreement with the committed Python reference (cvxopt, SciPy)', () => {
  const dir = new URL('../fixtures/svm/', import.meta.url);
  const exported = JSON.parse(readFileSync(new URL('synthetic-n100-d20.json', dir), 'utf8')) as { X: number[][]; y: number[]; options: typeof SYNTHETIC };
  interface Reference {
    l2: { margin: number; beta: number[] };
    l1: { value: number; margin: number };
    linf: { value: number; margin: number };
  }
  const reference = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8')) as { sets: Record<'synthetic' | 's2', Reference> };

  it('the exported data are bit-identical to syntheticSeparable', () => {
    assert.deepEqual(exported.options, SYNTHETIC);
    const data = syntheticSeparable(SYNTHETIC);
    assert.deepEqual(Float64Array.from(exported.X.flat()), data.X);
    assert.deepEqual(Int32Array.from(exported.y), data.y);
  });

  for (const [key, make] of [
    ['synthetic', () => syntheticSeparable(SYNTHETIC)],
    ['s2', () => s2()],
  ] as const) {
    it(`${key}: ℓ2 direction and margin match cvxopt; ℓ1/ℓ∞ values match linprog`, async () => {
      const data = make();
      const ref = reference.sets[key];
      for (const r of [await svmL2(data), await svmL2Dual(data)]) {
        assertOptimal(r, r.solver);
        assertClose(r.margin, ref.l2.margin, TOL.solverAgreement, `${key} ${r.solver}: ℓ2 margin vs cvxopt`);
        const c = oneMinusCos(r.direction, ref.l2.beta);
        assert.ok(c < TOL.solverDirectionCos, `${key} ${r.solver}: 1 − cos vs cvxopt = ${c}`);
      }
      for (const solver of LP_SOLVERS) {
        for (const [q, want] of [
          [1, ref.l1],
          [Infinity, ref.linf],
        ] as const) {
          const r = await svmLinf1(data, q, { solver });
          assertOptimal(r, `${key} ${solver} q=${q}`);
          assertClose(lpNorm(r.beta, q), want.value, TOL.solverAgreement, `${key} ${solver}: min ‖β‖_${q} vs linprog`);
          assertClose(r.margin, want.margin, TOL.solverAgreement, `${key} ${solver}: γ_${q} vs linprog`);
        }
      }
    });
  }
});

describe('statuses of inputs that define no SVM', () => {
  const cases: [string, Dataset, SolverResult['status'], RegExp][] = [
    ['the same x with both labels', dataset('both-labels', [[1, 2], [3, 1], [1, 2]], [1, 1, -1]), 'not-separable', /examples 0 and 2/],
    // 2z₁ + z₂ + z₃ = 0: the origin is in the convex hull, no pair of points is opposite.
    ['0 in the convex hull of the z_i', dataset('hull', [[1, 0], [-1, 1], [-1, -1]]), 'not-separable', /not separable/],
    ['a zero example', dataset('zero', [[1, 2], [0, 0]]), 'degenerate', /example 1 .*zero vector/],
    ['no examples', { name: 'empty', n: 0, d: 2, X: new Float64Array(0), y: new Int32Array(0), binary: true, classes: 2 }, 'degenerate', /no examples/],
  ];
  for (const [what, data, status, message] of cases) {
    for (const [label, , run] of allSolvers(data)) {
      it(`${what}: ${label} → ${status}`, async () => {
        const r = await run();
        assert.equal(r.status, status, r.message);
        assert.match(r.message, message);
        assert.equal(r.direction, null);
        assert.equal(r.beta, null);
        assert.equal(r.multipliers, null);
        assert.ok(Number.isNaN(r.margin));
      });
    }
  }

  it('duplicate examples are fine: same solution as without them, multipliers summing to the same', async () => {
    const plain = s2();
    const dup = dataset('s2-duplicates', [[1, 0.5], [3, -1], [1, 0.5], [1, 0.5]]);
    for (const [label, q, run] of allSolvers(dup)) {
      const r = await run();
      assertOptimal(r, `duplicates ${label}`);
      assert.match(r.message, /not unique/);
      const ref = q === 2 ? await svmL2(plain) : await svmLinf1(plain, q);
      assertClose(r.margin, ref.margin, TOL.closedForm, `duplicates ${label}: margin`);
      // The multipliers of the three copies of z₁ add up to the single z₁'s.
      const group = r.multipliers[0] + r.multipliers[2] + r.multipliers[3];
      assertClose(group, ref.multipliers![0], TOL.closedForm, `duplicates ${label}: λ of the z₁ group`);
    }
  });

  it('rejects bad arguments with InputError', async () => {
    await assert.rejects(svmLinf1(s2(), 2), InputError);
    await assert.rejects(svmLinf1(s2(), 1, { solver: 'cplex' as SvmLpSolver }), InputError);
    await assert.rejects(svmL2Dual(s2(), { sweeps: -1 }), InputError);
    const kClass: Dataset = { ...s2(), binary: false, classes: 3, y: Int32Array.from([0, 2]) };
    await assert.rejects(svmL2(kClass), InputError);
    assert.throws(() => svmKkt(s2(), 0.5, [1, 0], [1, 0]), InputError);
    assert.throws(() => svmKkt(s2(), 2, [1, 0, 0], [1, 0]), InputError);
  });
});

describe('svmKkt', () => {
  it('accepts every optimal vertex of a non-unique ℓ1/ℓ∞ SVM and rejects non-optimal points', () => {
    // One example z = (1, 0): min ‖β‖_∞ s.t. β₁ ≥ 1 is solved by every β = (1, t), |t| ≤ 1, with λ = 1.
    const single = dataset('single', [[1, 0]]);
    for (const t of [-1, -0.3, 0, 0.7, 1]) {
      assert.ok(maxKkt(svmKkt(single, Infinity, [1, t], [1])) <= TOL.solverKkt, `q = ∞, β = (1, ${t})`);
    }
    assert.ok(svmKkt(single, Infinity, [1.2, 0], [1]).complementarity > SVM_KKT_TOLERANCE, 'β = (1.2, 0) is feasible, not optimal');
    assert.ok(svmKkt(single, Infinity, [1, 0], [0.5]).stationarity > SVM_KKT_TOLERANCE, 'λ too small');
    // z = (1, 1): min ‖β‖₁ s.t. β₁ + β₂ ≥ 1 is solved by every β ≥ 0 with β₁ + β₂ = 1, with λ = 1.
    const diagonal = dataset('diagonal', [[1, 1]]);
    for (const t of [0, 0.3, 1]) {
      assert.ok(maxKkt(svmKkt(diagonal, 1, [t, 1 - t], [1])) <= TOL.solverKkt, `q = 1, β = (${t}, ${1 - t})`);
    }
    assert.ok(svmKkt(diagonal, 1, [1.5, -0.5], [1]).stationarity > SVM_KKT_TOLERANCE, 'β = (1.5, −0.5) is feasible, not optimal');
  });

  it('takes either multiplier form; a scaled β* fails complementarity', async () => {
    const data = s2();
    const r = await svmL2(data);
    assertOptimal(r, 'quadprog');
    const norm = lpNorm(r.beta, 2);
    const lamNorm = r.multipliers.map((v) => v / norm);
    assert.ok(maxKkt(svmKkt(data, 2, r.beta, lamNorm, 'norm')) <= TOL.solverKkt);
    assert.ok(maxKkt(svmKkt(data, 2, r.beta, r.multipliers, 'half-squared')) <= TOL.solverKkt);
    assert.ok(svmKkt(data, 2, r.beta, r.multipliers, 'norm').stationarity > SVM_KKT_TOLERANCE, 'wrong form is caught');
    const scaled = r.beta.map((v) => 1.01 * v);
    assert.ok(svmKkt(data, 2, scaled, r.multipliers).complementarity > SVM_KKT_TOLERANCE);
    const shrunk = r.beta.map((v) => 0.99 * v);
    assert.ok(svmKkt(data, 2, shrunk, r.multipliers).primalFeasibility > SVM_KKT_TOLERANCE);
  });

  it('handles a general q (q = 3) with its closed form for one example', () => {
    // One example z: min ‖β‖_q s.t. z·β ≥ 1 gives β* = v/‖z‖_p, v = argmax_{‖v‖_q ≤ 1} ⟨v, z⟩
    // (so ⟨v, z⟩ = ‖z‖_p, p = dual(q)), with λ = ‖β*‖_q = 1/‖z‖_p.
    const q = 3;
    const z = [2, -1, 0.5];
    const data = dataset('one', [z]);
    const v = new Float64Array(3);
    steepestAscent(z, q, v);
    const zp = lpNorm(z, dualExponent(q));
    const beta = v.map((x) => x / zp);
    assert.ok(maxKkt(svmKkt(data, q, beta, [1 / zp])) <= TOL.solverKkt);
    // Moving along (0.01, 0.02, 0) ⊥ z keeps z·β = 1 (feasible, tight) but leaves the optimum.
    const tilted = Float64Array.from(beta);
    tilted[0] += 0.01;
    tilted[1] += 0.02;
    const k = svmKkt(data, q, tilted, [1 / zp]);
    assert.ok(k.primalFeasibility <= TOL.solverKkt && k.stationarity > SVM_KKT_TOLERANCE, JSON.stringify(k));
  });
});

describe('robustThreshold', () => {
  it('γ_q* on S2 for p = 2, ∞, 1: √5/2, 1, 1.5', async () => {
    for (const [p, want] of [
      [2, Math.sqrt(5) / 2],
      [Infinity, 1],
      [1, 1.5],
    ] as const) {
      const r = await robustThreshold(s2(), p);
      assertOptimal(r, `threshold p=${p}`);
      assert.equal(r.problem, 'threshold');
      assert.equal(r.p, p);
      assert.equal(r.q, dualExponent(p));
      assertClose(r.margin, want, TOL.closedForm, `γ* for p = ${p}`);
      // β normalized to ‖β‖_q = 1 attains min_i z_i·β = γ_q*; the weights sum to 1.
      const q = dualExponent(p);
      assertClose(lpNorm(r.beta, q), 1, TOL.closedForm, `‖β‖_q for p = ${p}`);
      const data = s2();
      const minMargin = Math.min(...[0, 1].map((i) => data.X[2 * i] * r.beta[0] + data.X[2 * i + 1] * r.beta[1]));
      assertClose(minMargin, want, TOL.closedForm, `min_i z_i·β for p = ${p}`);
      assertClose(r.multipliers.reduce((a, b) => a + b, 0), 1, TOL.closedForm, `Σλ for p = ${p}`);
    }
  });

  it('reports not-separable data', async () => {
    const r = await robustThreshold(dataset('hull', [[1, 0], [-1, 1], [-1, -1]]), 2);
    assert.equal(r.status, 'not-separable');
    assert.equal(r.problem, 'threshold');
    assert.match(r.message, /every ε ≥ 0 is too large/);
  });
});
