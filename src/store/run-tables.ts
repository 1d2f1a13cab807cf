/**
 * Stored runs as tables: the config columns a researcher sorts by, the scalar fields of a final
 * measurement, and a history as long rows (one per step and metric). Pure functions of what the
 * store holds (no Node API); `advbias runs export` and `runs compare` print and plot them.
 */
import type { StoredRun } from './run-store.ts';

/**
 * Config fields exported as columns, in this order, by `runs export --format csv` (the seed has its
 * own column among the run's metadata).
 */
export const CONFIG_COLUMNS = ['model', 'depth', 'width', 'p', 'eps', 'attack', 'steps', 'schedule', 'lr', 'data'] as const;

/**
 * The config a run was trained with: the resolved config of its result (`result.config`, written
 * by `train` and `reproduce` with every default filled in) over the config it was begun with (an
 * experiment's plan may leave defaults out).
 */
export function effectiveConfig(run: Pick<StoredRun, 'config' | 'result'>): Record<string, unknown> {
  const plain = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) ? (v as Record<string, unknown>) : {});
  return { ...plain(run.config), ...plain(plain(run.result).config) };
}

/** Scalar fields of a document, nested objects flattened with dotted names; arrays left out. */
export function scalarFields(doc: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || ArrayBuffer.isView(doc)) return out;
  for (const [k, v] of Object.entries(doc)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out.set(name, v);
    else if (typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) scalarFields(v, name, out);
  }
  return out;
}

/**
 * The numeric metrics of one history row, by dotted name (`referenceAngleDeg`, `kkt.stationarity`,
 * `alignment.predictor`); `step` is the row's position, not a metric. Non-finite values are kept.
 */
export function rowMetrics(row: unknown): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of scalarFields(row)) if (k !== 'step' && typeof v === 'number') out.set(k, v);
  return out;
}

/** The metric names present in at least one row of a history, in order of first appearance. */
export function historyMetricNames(history: readonly unknown[]): string[] {
  const names = new Set<string>();
  for (const row of history) for (const k of rowMetrics(row).keys()) names.add(k);
  return [...names];
}

/** The step of a history row, or NaN when it has none. */
export function stepOf(row: unknown): number {
  const s = (row as { step?: unknown } | null)?.step;
  return typeof s === 'number' ? s : NaN;
}

/** One value of a long history table. */
export interface HistoryCell {
  step: number;
  metric: string;
  value: number;
}

/** A history as long rows: for every row, every numeric metric (in the row's field order). */
export function historyLong(history: readonly unknown[]): HistoryCell[] {
  const out: HistoryCell[] = [];
  for (const row of history) {
    const step = stepOf(row);
    for (const [metric, value] of rowMetrics(row)) out.push({ step, metric, value });
  }
  return out;
}

/** A table cell as text: numbers in their shortest round-trip form (NaN, ±Infinity and −0 as such), arrays as JSON, absent as ''. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  // String(−0) is "0": the sign would be lost.
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) return `[${Array.from(v as ArrayLike<unknown>).map(cellText).join(',')}]`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One CSV field: quoted when it holds a comma, a quote or a line break. */
export function csvCell(v: unknown): string {
  const s = cellText(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
