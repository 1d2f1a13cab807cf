/**
 * Euclidean projections onto ℓp balls and uniform sampling from them (docs/THEORY.md §3, PGD).
 *
 * Every projection computes Π(v) = argmin_{‖w − c‖_p ≤ ε} ‖w − v‖₂, in place on `v` (n entries at
 * `vOffset`), for a centre `c` (n entries at `cOffset`; null means the origin) and a radius ε ≥ 0.
 * A point already in the ball is left bit-for-bit untouched. Inner kernels: arguments are trusted.
 * No allocation per call, except a sort buffer for ℓ1 that is cached once per dimension n.
 */
import type { Rng } from './rng.ts';
import { dualExponent, lpNorm } from './norms.ts';

/** Reads c_j, treating a null centre as the origin. */
function centre(c: ArrayLike<number> | null, cOffset: number, j: number): number {
  return c === null ? 0 : c[cOffset + j];
}

/**
 * ℓ∞ ball: coordinate-wise clip, Π(v)_j = c_j + clamp(v_j − c_j, −ε, ε).
 * The clip acts on the offset v − c (not on v against c ± ε) so that a coordinate pushed past the
 * boundary lands at offset exactly ±ε before c is added back.
 */
export function projectLinf(v: Float64Array, c: ArrayLike<number> | null, eps: number, n: number, vOffset = 0, cOffset = 0): void {
  for (let j = 0; j < n; j++) {
    const cj = centre(c, cOffset, j);
    const u = v[vOffset + j] - cj;
    if (u > eps) v[vOffset + j] = cj + eps;
    else if (u < -eps) v[vOffset + j] = cj - eps;
  }
}

/** ℓ2 ball: radial scaling, Π(v) = c + (v − c)·ε/‖v − c‖₂ when ‖v − c‖₂ > ε. */
export function projectL2(v: Float64Array, c: ArrayLike<number> | null, eps: number, n: number, vOffset = 0, cOffset = 0): void {
  // ‖v − c‖₂ with the same max-scaling as lpNorm, so that huge or tiny offsets neither overflow nor underflow.
  let m = 0;
  for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(v[vOffset + j] - centre(c, cOffset, j)));
  if (m === 0) return;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const t = (v[vOffset + j] - centre(c, cOffset, j)) / m;
    s += t * t;
  }
  const norm = m * Math.sqrt(s);
  if (norm <= eps) return;
  const scale = eps / norm;
  for (let j = 0; j < n; j++) {
    const cj = centre(c, cOffset, j);
    v[vOffset + j] = cj + (v[vOffset + j] - cj) * scale;
  }
}

/** Sort buffers for the ℓ1 projection, one per dimension n (a run uses one or two dimensions). */
const sortBuffers = new Map<number, Float64Array>();

function sortBuffer(n: number): Float64Array {
  let b = sortBuffers.get(n);
  if (b === undefined) {
    b = new Float64Array(n);
    sortBuffers.set(n, b);
  }
  return b;
}

/**
 * ℓ1 ball: exact sort-based projection (Duchi, Shalev-Shwartz, Singer & Chandra, ICML 2008).
 * With u = v − c and ‖u‖₁ > ε: sort a = |u| descending (a₁ ≥ a₂ ≥ …), ρ = max{j : a_j > (Σ_{r≤j} a_r − ε)/j},
 * τ = (Σ_{r≤ρ} a_r − ε)/ρ, and Π(v)_j = c_j + sign(u_j)·max(|u_j| − τ, 0). O(n log n).
 */
export function projectL1(v: Float64Array, c: ArrayLike<number> | null, eps: number, n: number, vOffset = 0, cOffset = 0): void {
  let l1 = 0;
  for (let j = 0; j < n; j++) l1 += Math.abs(v[vOffset + j] - centre(c, cOffset, j));
  if (l1 <= eps) return;
  if (eps === 0) {
    // The ball is the single point c; the threshold formula below would find no ρ (a₁ − a₁ = 0).
    for (let j = 0; j < n; j++) v[vOffset + j] = centre(c, cOffset, j);
    return;
  }
  const a = sortBuffer(n);
  for (let j = 0; j < n; j++) a[j] = Math.abs(v[vOffset + j] - centre(c, cOffset, j));
  a.sort(); // typed-array sort is numeric ascending; read it from the end for descending order
  let cumsum = 0;
  let tau = 0;
  for (let k = 1; k <= n; k++) {
    const ak = a[n - k];
    cumsum += ak;
    const t = (cumsum - eps) / k;
    // The condition a_k > t holds for k = 1..ρ and fails after (Duchi et al., Lemma 2), so the last k
    // that passes gives τ. k = 1 always passes because ‖u‖₁ > ε > 0 makes a₁ > a₁ − ε.
    if (ak > t) tau = t;
    else break;
  }
  for (let j = 0; j < n; j++) {
    const cj = centre(c, cOffset, j);
    const u = v[vOffset + j] - cj;
    const shrunk = Math.abs(u) - tau;
    v[vOffset + j] = shrunk > 0 ? cj + Math.sign(u) * shrunk : cj;
  }
}

/** Newton iterations allowed per coordinate; monotone convergence from above needs far fewer. */
const MAX_INNER_NEWTON = 200;
/** Outer (multiplier) iterations; safeguarded Newton typically needs < 15, bisection ≤ ~1100. */
const MAX_OUTER = 2000;

/**
 * Per-coordinate solve for the ℓp projection onto the unit ball (1 < p < ∞), with a ≥ 0 given.
 *
 * KKT for min ½(t − a)² + (μ/p)·t^p: t + μ t^{p−1} = a, t ∈ [0, a]. The map is written as a convex
 * increasing equation so that Newton started above the root decreases monotonically to it:
 *  - p ≥ 2: φ(t) = t + μ t^{p−1} (convex in t); the root t is returned as it is;
 *  - p < 2: with s = t^{p−1}, r = 1/(p−1) > 1: ψ(s) = s^r + μ s (convex in s); returns s.
 * The start min(a, (a/μ)^{1/(p−1)}) (resp. min(a^{p−1}, a/μ)) is above the root because each of the
 * two terms alone already reaches a. Iteration stops as soon as the iterate stops decreasing, i.e. at
 * the floating-point fixed point.
 */
function innerSolve(a: number, mu: number, p: number): number {
  if (a === 0) return 0;
  if (p >= 2) {
    const e = p - 1;
    let t = mu > 0 ? Math.min(a, Math.pow(a / mu, 1 / e)) : a;
    if (mu === 0) return t;
    for (let it = 0; it < MAX_INNER_NEWTON; it++) {
      const te = Math.pow(t, e - 1); // t^{p−2}
      const f = t + mu * te * t - a;
      if (f <= 0) return t;
      const next = t - f / (1 + mu * e * te);
      if (!(next < t)) return t;
      t = next > 0 ? next : t / 2; // a step to ≤ 0 cannot happen in exact arithmetic; stay positive
    }
    return t;
  }
  const r = 1 / (p - 1);
  let s = mu > 0 ? Math.min(Math.pow(a, p - 1), a / mu) : Math.pow(a, p - 1);
  if (mu === 0) return s;
  for (let it = 0; it < MAX_INNER_NEWTON; it++) {
    const sr1 = Math.pow(s, r - 1); // s^{r−1}
    const f = sr1 * s + mu * s - a;
    if (f <= 0) return s;
    const next = s - f / (r * sr1 + mu);
    if (!(next < s)) return s;
    s = next > 0 ? next : s / 2;
  }
  return s;
}

/**
 * Evaluates h(μ) = Σ_j t_j(μ)^p (= ‖t(μ)‖_p^p, decreasing in μ) and h'(μ) for the unit-ball problem
 * with data a (n entries of the scratch `a`), writing t_j(μ) into `t`.
 * Derivatives: p ≥ 2: dt/dμ = −t^{p−1}/(1 + μ(p−1)t^{p−2}); p < 2 (s-form, t = s^r, t^p = s^q):
 * ds/dμ = −s/(r s^{r−1} + μ), so dh/dμ = q s^{q−1} ds/dμ.
 */
function evalH(a: Float64Array, t: Float64Array, n: number, mu: number, p: number, out: { h: number; dh: number }): void {
  let h = 0;
  let dh = 0;
  if (p >= 2) {
    const e = p - 1;
    for (let j = 0; j < n; j++) {
      const tj = innerSolve(a[j], mu, p);
      t[j] = tj;
      if (tj === 0) continue;
      const tpm2 = Math.pow(tj, e - 1);
      const tpm1 = tpm2 * tj;
      h += tpm1 * tj;
      dh -= (p * tpm1 * tpm1) / (1 + mu * e * tpm2);
    }
  } else {
    const r = 1 / (p - 1);
    const q = p * r;
    for (let j = 0; j < n; j++) {
      const sj = innerSolve(a[j], mu, p);
      if (sj === 0) {
        t[j] = 0;
        continue;
      }
      const sr1 = Math.pow(sj, r - 1);
      t[j] = sr1 * sj;
      const sq1 = Math.pow(sj, q - 1);
      h += sq1 * sj;
      dh -= (q * sq1 * sj) / (r * sr1 + mu);
    }
  }
  out.h = h;
  out.dh = dh;
}

/** Scratch for the general-p projection: |v − c| scaled by 1/ε and the solution t, cached per n. */
const lpScratch = new Map<number, { a: Float64Array; t: Float64Array }>();
const hEval = { h: 0, dh: 0 };

/**
 * ℓp ball for 1 < p < ∞ by a root find (p = 1 and p = ∞ are forwarded to the exact forms; p = 2 runs
 * the general solver, which is how it is tested against the radial form — `projectBall` uses radial).
 *
 * With u = v − c, â = |u|/ε, the projection onto the unit ball has Π_j = sign(u_j)·t_j where
 * t_j + μ t_j^{p−1} = â_j (KKT of min ½‖t − â‖² s.t. Σ t_j^p ≤ 1, μ = p·λ ≥ 0), and μ solves
 * h(μ) = Σ t_j(μ)^p = 1. h is continuous and strictly decreasing; the root lies in
 * [max(0, max â − 1), ‖â‖_q]: at the root every t_j ≤ 1, i.e. μ ≥ â_j − 1, and t_j ≤ (â_j/μ)^{1/(p−1)}
 * gives h(μ) ≤ μ^{−q}‖â‖_q^q ≤ 1 at μ = ‖â‖_q. The bracket also keeps t ≤ 1, so t^{p−1} cannot
 * overflow for large p. μ is found by Newton's method safeguarded by bisection on that bracket,
 * to a relative width of a few ulps; each t_j by monotone Newton (see `innerSolve`). A final rescale
 * by 1/‖t‖_p when ‖t‖_p > 1 (by rounding only, O(1e−16)) guarantees the result is in the ball.
 */
export function projectLp(v: Float64Array, c: ArrayLike<number> | null, eps: number, n: number, p: number, vOffset = 0, cOffset = 0): void {
  if (p === 1) return projectL1(v, c, eps, n, vOffset, cOffset);
  if (p === Infinity) return projectLinf(v, c, eps, n, vOffset, cOffset);
  let m = 0;
  for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(v[vOffset + j] - centre(c, cOffset, j)));
  if (m === 0) return;
  if (eps === 0) {
    for (let j = 0; j < n; j++) v[vOffset + j] = centre(c, cOffset, j);
    return;
  }
  let sc = lpScratch.get(n);
  if (sc === undefined) {
    sc = { a: new Float64Array(n), t: new Float64Array(n) };
    lpScratch.set(n, sc);
  }
  const { a, t } = sc;
  for (let j = 0; j < n; j++) a[j] = Math.abs(v[vOffset + j] - centre(c, cOffset, j)) / eps;
  if (lpNorm(a, p, n) <= 1) return;

  let lo = Math.max(0, m / eps - 1);
  let hi = lpNorm(a, dualExponent(p), n);
  let mu = lo;
  for (let it = 0; it < MAX_OUTER; it++) {
    evalH(a, t, n, mu, p, hEval);
    const g = hEval.h - 1;
    if (g === 0) break;
    if (g > 0) lo = mu;
    else hi = mu;
    if (!(hi - lo > 4 * Number.EPSILON * hi)) break;
    let next = mu - g / hEval.dh;
    // Newton outside the open bracket (or NaN from dh = 0): bisect instead.
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (next === mu) break;
    mu = next;
  }
  // t holds t(μ) at the last evaluated μ; that μ is within a few ulps of the root.
  const norm = lpNorm(t, p, n);
  const scale = norm > 1 ? eps / norm : eps;
  for (let j = 0; j < n; j++) {
    const cj = centre(c, cOffset, j);
    const u = v[vOffset + j] - cj;
    v[vOffset + j] = cj + Math.sign(u) * t[j] * scale;
  }
}

/** Euclidean projection onto B_p(c, ε) for any p ∈ [1, ∞], dispatching to the forms above. */
export function projectBall(p: number, v: Float64Array, c: ArrayLike<number> | null, eps: number, n: number, vOffset = 0, cOffset = 0): void {
  if (p === Infinity) projectLinf(v, c, eps, n, vOffset, cOffset);
  else if (p === 2) projectL2(v, c, eps, n, vOffset, cOffset);
  else if (p === 1) projectL1(v, c, eps, n, vOffset, cOffset);
  else projectLp(v, c, eps, n, p, vOffset, cOffset);
}

/**
 * Gamma(k, 1) variate for shape k > 0 (Marsaglia & Tsang 2000; for k < 1 the boost
 * Gamma(k) = Gamma(k + 1)·U^{1/k}).
 */
function gamma(rng: Rng, k: number): number {
  if (k < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return gamma(rng, k + 1) * Math.pow(u, 1 / k);
  }
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Exp(1) variate by inversion (u = 0 is redrawn so that −log u is finite). */
function exponential(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.uniform();
  return -Math.log(u);
}

/** A fair random sign ±1. */
function randomSign(rng: Rng): number {
  return rng.uniform() < 0.5 ? -1 : 1;
}

/**
 * A uniformly distributed point of the ball B_p(0, ε) ⊂ R^n, written to out[offset … offset + n − 1].
 *
 *  - p = ∞: independent coordinates ε(2U − 1), U ~ U[0, 1).
 *  - p = 2: ε·U^{1/n}·g/‖g‖₂ with g ~ N(0, I_n) (Gaussian direction, radius with density ∝ r^{n−1}).
 *  - p = 1: ε·(σ_j E_j)/(Σ_{k≤n} E_k + E_{n+1}) with E_k ~ Exp(1), σ_j fair signs: (E_1 … E_n)/Σ_{k≤n+1}E_k
 *    is uniform on the simplex {x ≥ 0, Σx ≤ 1} (the last coordinate is the slack), and random signs
 *    reflect it into the 2^n orthants of the ℓ1 ball.
 *  - other p: Barthe, Guédon, Mendelson & Naor (Ann. Probab. 2005): with Y_j i.i.d. of density
 *    ∝ exp(−|y|^p) (|Y_j| = G_j^{1/p}, G_j ~ Gamma(1/p, 1), random sign) and Z ~ Exp(1) independent,
 *    Y/(Σ|Y_j|^p + Z)^{1/p} is uniform in B_p(0, 1). (The p = 1 construction above is this one.)
 *
 * Uses only `rng`, so the point is a deterministic function of its state. ε = 0 gives 0.
 */
export function sampleBall(rng: Rng, p: number, eps: number, out: Float64Array, n: number, offset = 0): void {
  if (p === Infinity) {
    for (let j = 0; j < n; j++) out[offset + j] = eps * (2 * rng.uniform() - 1);
    return;
  }
  if (p === 2) {
    let norm = 0;
    while (norm === 0) {
      for (let j = 0; j < n; j++) out[offset + j] = rng.normal();
      norm = lpNorm(out, 2, n, offset);
    }
    const radius = eps * Math.pow(rng.uniform(), 1 / n);
    for (let j = 0; j < n; j++) out[offset + j] *= radius / norm;
    return;
  }
  if (p === 1) {
    let total = exponential(rng); // E_{n+1}, the slack coordinate
    for (let j = 0; j < n; j++) {
      const e = exponential(rng);
      out[offset + j] = randomSign(rng) * e;
      total += e;
    }
    for (let j = 0; j < n; j++) out[offset + j] *= eps / total;
    return;
  }
  let total = exponential(rng); // Z
  for (let j = 0; j < n; j++) {
    const g = gamma(rng, 1 / p); // |Y_j|^p
    out[offset + j] = randomSign(rng) * Math.pow(g, 1 / p);
    total += g;
  }
  const scale = eps / Math.pow(total, 1 / p);
  for (let j = 0; j < n; j++) out[offset + j] *= scale;
}
