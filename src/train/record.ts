/**
 * Which steps enter the history. Experiments are read against log t (docs/THEORY.md §7), so the default is
 * log-spaced: step 0, then round(10^{k/perDecade}) without repeats, and always the last step.
 */
export type RecordSpec = { kind: 'log'; perDecade: number } | { kind: 'every'; interval: number };

/** Default: 20 points per decade. */
export const DEFAULT_RECORD: RecordSpec = { kind: 'log', perDecade: 20 };

/** Sorted, distinct steps in [0, total] to record (0 and total always included). */
export function recordSteps(spec: RecordSpec, total: number): number[] {
  const out = new Set<number>([0, total]);
  if (spec.kind === 'every') {
    for (let t = spec.interval; t < total; t += spec.interval) out.add(t);
  } else {
    for (let k = 0; ; k++) {
      const t = Math.round(Math.pow(10, k / spec.perDecade));
      if (t >= total) break;
      out.add(t);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Parse "log", "log:N" (points per decade) or "every:N". Returns null when the text is not valid. */
export function parseRecordSpec(text: string): RecordSpec | null {
  const t = text.trim();
  if (t === 'log') return DEFAULT_RECORD;
  const m = /^(log|every):([0-9]+)$/.exec(t);
  if (!m) return null;
  const v = Number(m[2]);
  if (!Number.isSafeInteger(v) || v < 1) return null;
  return m[1] === 'log' ? { kind: 'log', perDecade: v } : { kind: 'every', interval: v };
}
