/**
 * ℓp norms, dual exponents and the steepest-ascent map s_p (docs/THEORY.md §3).
 *
 * Vectors are `Float64Array`s read as `n` entries starting at `offset` (stride 1).
 * p is a number in [1, ∞]; `Infinity` stands for ∞.
 */

/** Dual exponent q of p: 1/p + 1/q = 1 (p = 1 ↔ q = ∞, p = ∞ ↔ q = 1). */
export function dualExponent(p: number): number {
  if (p === 1) return Infinity;
  if (p === Infinity) return 1;
  return p / (p - 1);
}

/**
 * ‖v‖_p = (Σ|v_j|^p)^{1/p} for p ≥ 1 (and max|v_j| for p = ∞).
 * General p is computed after scaling by max|v_j| so that neither overflow nor underflow occurs.
 */
export function lpNorm(v: ArrayLike<number>, p: number, n: number = v.length, offset = 0): number {
  if (p === 2) {
    let scale = 0;
    for (let j = 0; j < n; j++) {
      const a = Math.abs(v[offset + j]);
      if (a > scale) scale = a;
    }
    if (scale === 0 || !Number.isFinite(scale)) return scale;
    let s = 0;
    for (let j = 0; j < n; j++) {
      const t = v[offset + j] / scale;
      s += t * t;
    }
    return scale * Math.sqrt(s);
  }
  if (p === 1) {
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.abs(v[offset + j]);
    return s;
  }
  let m = 0;
  for (let j = 0; j < n; j++) {
    const a = Math.abs(v[offset + j]);
    if (a > m) m = a;
  }
  if (p === Infinity || m === 0 || !Number.isFinite(m)) return m;
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.pow(Math.abs(v[offset + j]) / m, p);
  return m * Math.pow(s, 1 / p);
}

/**
 * Quasi-norm ‖v‖_r = (Σ|v_j|^r)^{1/r} for any r > 0 (r < 1 is not a norm; used for ‖β‖_{2/L}).
 */
export function rQuasiNorm(v: ArrayLike<number>, r: number, n: number = v.length): number {
  if (r >= 1) return lpNorm(v, r, n);
  let m = 0;
  for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(v[j]));
  if (m === 0) return 0;
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.pow(Math.abs(v[j]) / m, r);
  return m * Math.pow(s, 1 / r);
}

/**
 * Steepest-ascent map s_p(g) = argmax_{‖v‖_p ≤ 1} ⟨v, g⟩, written into `out` (length n at outOffset).
 * ⟨s_p(g), g⟩ = ‖g‖_q. g = 0 gives 0 (never NaN).
 *  - p = ∞: sign(g) (sign(0) = 0);
 *  - p = 2: g/‖g‖₂;
 *  - p = 1: sign(g_j*) e_j*, j* the FIRST index of max |g_j| (deterministic tie rule);
 *  - 1 < p < ∞: sign(g)|g|^{q−1}/‖g‖_q^{q−1}, evaluated after scaling by max|g|.
 */
export function steepestAscent(
  g: ArrayLike<number>,
  p: number,
  out: Float64Array,
  n: number = g.length,
  gOffset = 0,
  outOffset = 0,
): void {
  if (p === Infinity) {
    for (let j = 0; j < n; j++) out[outOffset + j] = Math.sign(g[gOffset + j]) + 0;
    return;
  }
  if (p === 1) {
    let best = -1;
    let bestAbs = 0;
    for (let j = 0; j < n; j++) {
      const a = Math.abs(g[gOffset + j]);
      if (a > bestAbs) {
        bestAbs = a;
        best = j;
      }
      out[outOffset + j] = 0;
    }
    if (best >= 0) out[outOffset + best] = Math.sign(g[gOffset + best]);
    return;
  }
  if (p === 2) {
    const norm = lpNorm(g, 2, n, gOffset);
    if (norm === 0) {
      for (let j = 0; j < n; j++) out[outOffset + j] = 0;
      return;
    }
    for (let j = 0; j < n; j++) out[outOffset + j] = g[gOffset + j] / norm;
    return;
  }
  const q = dualExponent(p);
  let m = 0;
  for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(g[gOffset + j]));
  if (m === 0) {
    for (let j = 0; j < n; j++) out[outOffset + j] = 0;
    return;
  }
  // With h = g/m: s_p(g) = s_p(h) = sign(h)|h|^{q−1}/‖h‖_q^{q−1}.
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.pow(Math.abs(g[gOffset + j]) / m, q);
  const denom = Math.pow(s, (q - 1) / q);
  for (let j = 0; j < n; j++) {
    const h = g[gOffset + j] / m;
    out[outOffset + j] = (Math.sign(h) * Math.pow(Math.abs(h), q - 1)) / denom;
  }
}

/**
 * Parse a norm exponent from user text: "1", "2", "inf"/"Infinity"/"∞", "L1"/"L2"/"Linf" (any case), or any number ≥ 1.
 * Returns NaN for anything else (callers turn that into an error naming the field).
 */
export function parseNormExponent(text: string | number): number {
  if (typeof text === 'number') return text >= 1 ? text : NaN;
  let t = text.trim().toLowerCase();
  // ℓp names as papers and other libraries write them: L1, L2, Linf (also l∞).
  if (/^l(?:[0-9.]+|inf|∞)$/.test(t)) t = t.slice(1);
  if (t === 'inf' || t === 'infinity' || t === '∞') return Infinity;
  if (!/^[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?$/.test(t)) return NaN;
  const v = Number(t);
  return Number.isFinite(v) && v >= 1 ? v : NaN;
}

/** Text form of an exponent: "inf" for ∞. */
export function formatNormExponent(p: number): string {
  return p === Infinity ? 'inf' : String(p);
}
