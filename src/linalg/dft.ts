/**
 * Plain O(d²) unitary discrete Fourier transform, for tests and reference solvers (Fourier-space
 * norms of convolutional predictors, docs/THEORY.md §4). Not a hot path: it allocates its result.
 */

/**
 * Unitary DFT of a real vector: (F x)[ω] = (1/√d) Σ_{n<d} x[n]·e^{−2πi ω n / d}, ω = 0..d−1.
 *
 * F is unitary (‖F x‖₂ = ‖x‖₂, F⁻¹ = F*), and for real x, (F x)[d−ω] = conj((F x)[ω]).
 * The angle uses (ω·n) mod d so that the twiddles stay accurate for large d.
 *
 * @param x real input, d = x.length entries (d ≥ 1).
 * @returns real and imaginary parts, d entries each.
 */
export function dftUnitary(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const d = x.length;
  const re = new Float64Array(d);
  const im = new Float64Array(d);
  const norm = 1 / Math.sqrt(d);
  const cos = new Float64Array(d);
  const sin = new Float64Array(d);
  for (let m = 0; m < d; m++) {
    const a = (2 * Math.PI * m) / d;
    cos[m] = Math.cos(a);
    sin[m] = Math.sin(a);
  }
  for (let w = 0; w < d; w++) {
    let sr = 0;
    let si = 0;
    let m = 0; // (w·n) mod d, advanced incrementally without overflow
    for (let n = 0; n < d; n++) {
      sr += x[n] * cos[m];
      si -= x[n] * sin[m];
      m += w;
      if (m >= d) m -= d;
    }
    re[w] = sr * norm;
    im[w] = si * norm;
  }
  return { re, im };
}
