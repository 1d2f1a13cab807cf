import { InputError } from '../errors.ts';
import type { Measurement } from '../metrics/measure.ts';

/** An integer flag ≥ min, or an InputError naming the flag. */
export function intFlag(name: string, text: string, min: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new InputError(`invalid --${name} "${text}": must be an integer ≥ ${min}`, name);
  return v;
}

/** JSON.stringify with non-finite numbers written as null (JSON has no NaN/Infinity) — documented in the README. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}

/** CSV columns of the history, in order. */
export const HISTORY_COLUMNS = [
  'step',
  'logLoss',
  'cleanLogLoss',
  'normalizedMargin',
  'adversarialNormalizedMargin',
  'smoothedMargin',
  'trainAccuracy',
  'robustAccuracy',
  'logParameterNorm',
  'stepSize',
  'exactAdversarialNormalizedMargin',
  'exactRobustAccuracy',
  'attackGap',
  'referenceAngleDeg',
  'referenceOneMinusCos',
  'alignmentRank1Min',
  'alignmentAdjacentMin',
  'alignmentPredictor',
  'kktStationarity',
  'kktComplementarity',
  'gradientCosine',
  'kktClarkeStationarity',
  'kktKinks',
] as const;

/** Header line of the history CSV. */
export function csvHeader(): string {
  return HISTORY_COLUMNS.join(',') + '\n';
}

/** One history row as a CSV line; full float64 precision (shortest round-trip form); empty when absent. */
export function csvRow(m: Measurement): string {
  const values: Record<string, number | undefined> = {
    ...m,
    alignmentRank1Min: m.alignment ? Math.min(...m.alignment.rank1) : undefined,
    alignmentAdjacentMin: m.alignment && m.alignment.adjacent.length > 0 ? Math.min(...m.alignment.adjacent) : undefined,
    alignmentPredictor: m.alignment?.predictor,
    kktStationarity: m.kkt?.stationarity,
    kktComplementarity: m.kkt?.complementarity,
    gradientCosine: m.kkt?.gradientCosine,
    kktClarkeStationarity: m.kkt?.clarkeStationarity,
    kktKinks: m.kkt?.kinks,
  } as unknown as Record<string, number | undefined>;
  return HISTORY_COLUMNS.map((c) => (values[c] === undefined ? '' : String(values[c]))).join(',') + '\n';
}
