import { lpNorm } from '../linalg/norms.ts';

/** β/‖β‖₂ written into `out` (zero stays zero). */
export function unitVector(beta: ArrayLike<number>, out: Float64Array): Float64Array {
  const nrm = lpNorm(beta, 2);
  for (let j = 0; j < out.length; j++) out[j] = nrm === 0 ? 0 : beta[j] / nrm;
  return out;
}

/**
 * Direction error between β and a reference u (docs/THEORY.md §4): 1 − cos computed as ‖β̂ − û‖²/2, free of
 * cancellation (resolves values down to ~1e−32), and the angle 2·asin(‖β̂ − û‖/2) in degrees, which
 * is accurate for tiny and for large angles alike.
 */
export function directionError(beta: ArrayLike<number>, reference: ArrayLike<number>): { oneMinusCos: number; angleDeg: number } {
  if (beta.length !== reference.length) throw new RangeError(`direction has ${beta.length} entries, reference has ${reference.length}`);
  const nb = lpNorm(beta, 2);
  const nr = lpNorm(reference, 2);
  if (nb === 0 || nr === 0) return { oneMinusCos: NaN, angleDeg: NaN };
  let s = 0;
  for (let j = 0; j < beta.length; j++) {
    const t = beta[j] / nb - reference[j] / nr;
    s += t * t;
  }
  const chord = Math.sqrt(s);
  return { oneMinusCos: s / 2, angleDeg: (2 * Math.asin(Math.min(1, chord / 2)) * 180) / Math.PI };
}
