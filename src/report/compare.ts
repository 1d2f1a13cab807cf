/**
 * The figure of `advbias runs compare`: the histories of several stored runs overlaid, one line per
 * run, a metric against the step t on a log axis. Reads the stored histories only. No Node API.
 */
import { InputError } from '../errors.ts';
import { historyMetricNames, rowMetrics, stepOf } from '../store/run-tables.ts';
import { lineFigure, type FigureResult, type FigureSeries } from './figures.ts';

/** One run to draw: its id and label (the legend entry) and its history rows. */
export interface CompareRun {
  readonly id: number;
  readonly label: string;
  readonly history: readonly unknown[];
}

/**
 * The default metric, in this order of preference, the first that every run's history holds: the
 * direction error against a reference, else the normalized adversarial margin γ̄ (every run has it).
 */
export const COMPARE_DEFAULT_METRICS = ['referenceAngleDeg', 'adversarialNormalizedMargin'] as const;

/** The metric `runs compare` draws when --metric is not given (see {@link COMPARE_DEFAULT_METRICS}). */
export function defaultCompareMetric(runs: readonly CompareRun[]): string {
  const names = runs.map((r) => new Set(historyMetricNames(r.history)));
  return COMPARE_DEFAULT_METRICS.find((m) => names.every((n) => n.has(m))) ?? COMPARE_DEFAULT_METRICS[COMPARE_DEFAULT_METRICS.length - 1];
}

/** Options of {@link compareFigure}. */
export interface CompareOptions {
  /** A numeric field of the history rows, nested ones dotted (`kkt.stationarity`). */
  readonly metric: string;
  /** Log scale on the y axis (values ≤ 0 are dropped with a note). Default false. */
  readonly logY?: boolean;
  /** Second title line, e.g. the store the runs come from. */
  readonly subtitle?: string;
}

/**
 * One line per run: `metric` against the step t ≥ 1 (log axis; step 0 has no place on it), the
 * legend `#id label`. Throws an InputError naming --metric when a run's history lacks the metric,
 * with the metrics it has.
 */
export function compareFigure(runs: readonly CompareRun[], options: CompareOptions): FigureResult {
  const { metric } = options;
  const series: FigureSeries[] = runs.map((r) => {
    if (!historyMetricNames(r.history).includes(metric))
      throw new InputError(`--metric "${metric}": run ${r.id} has no such metric in its history; it has ${historyMetricNames(r.history).join(', ') || 'none'}`, 'metric');
    return {
      name: `#${r.id} ${r.label}`.trimEnd(),
      points: r.history.filter((row) => stepOf(row) >= 1).map((row) => ({ x: stepOf(row), y: rowMetrics(row).get(metric) ?? null })),
    };
  });
  return lineFigure({
    title: `${metric} against the step t`,
    subtitle: options.subtitle,
    x: { title: 'step t', scale: 'log' },
    y: { title: metric, scale: options.logY ? 'log' : 'linear' },
    series,
    legendTitle: 'run',
  });
}
