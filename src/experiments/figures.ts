/**
 * Figures of an experiment, built from its results only (no experiment logic): one vega-lite spec
 * per figure config, drawn by `src/node/render.ts` (or any vega-lite tool).
 */
import { lineFigure, pathFigure, type FigureResult, type FigureSeries, type PathSeries } from '../report/figures.ts';
import type { ExperimentConfig, FigureConfig } from './schema.ts';
import type { ExperimentResult, RunResult, Params } from './runner.ts';
import { traceValue, pathKey, type SolverPath } from './runner.ts';

const AXIS_TITLES: Record<string, string> = {
  referenceAngleDeg: 'angle to the reference (°)',
  referenceOneMinusCos: '1 − cos to the reference',
  alignmentMin: 'min layer alignment',
  layerShareError: 'max |layer share − 1/L|',
  marginRatio: 'γ̄ divided by its predicted limit',
  adversarialNormalizedMargin: 'normalized adversarial margin γ̄',
  smoothedMargin: 'smoothed margin γ̃',
  logLoss: 'log L̃',
  normalizedMargin: 'normalized clean margin',
  kktStationarity: 'KKT stationarity residual',
  kktComplementarity: 'KKT complementarity residual',
  kktClarkeStationarity: 'KKT stationarity residual, Clarke (slopes at kinks chosen)',
  gradientCosine: 'cos∠(θ, −∇L̃)',
  trainAccuracy: 'training accuracy',
  robustAccuracy: 'robust training accuracy (training attack)',
  predictorKktResidual: 'predictor-space KKT residual (C3)',
};

function matches(params: Params, where: Params | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([k, v]) => String(params[k] === Infinity ? 'inf' : params[k]) === String(v === Infinity ? 'inf' : v));
}

/** Legend name of a run: its label without the parameters fixed by the figure's filter. */
function seriesName(run: RunResult, where: Params | undefined): string {
  const fixed = new Set(Object.keys(where ?? {}));
  const parts = run.label.split(' ').filter((p) => !fixed.has(p.split('=')[0]) && !(fixed.has('depth') && p.startsWith('L=')));
  return parts.join(' ') || run.label;
}

/** A label as the legends show it: `p=inf` → `p=∞`, `eps=` → `ε=`. */
export function prettyLabel(label: string): string {
  return label
    .split(' ')
    .map((t) => t.replace(/^p=inf$/, 'p=∞').replace(/^eps=/, 'ε=').replace(/^epsFraction=/, 'ε/γ_q*='))
    .join(' ');
}

/** The same colour for the same p in every figure (vega-lite's tableau10 blue, orange, red). */
export const P_COLORS: Readonly<Record<string, string>> = { 'p=1': '#4c78a8', 'p=2': '#f58518', 'p=∞': '#e45756' };
/** The same dash pattern for the same depth in every figure: solid, dashed, dotted, dash-dot. */
export const DEPTH_DASHES: Readonly<Record<string, readonly number[]>> = { 'L=1': [1, 0], 'L=2': [7, 3], 'L=3': [2, 2], 'L=4': [8, 3, 2, 3] };

/** Trace metrics whose theory predicts a 1/t rate under loss-scaled steps (docs/THEORY.md §7). */
const ONE_OVER_T_METRICS: ReadonlySet<string> = new Set(['referenceOneMinusCos', 'referenceAngleDeg', 'kktStationarity']);

/**
 * Colour and dash of each drawn run: when the runs differ in depth L, the dash follows L and the
 * colour the rest of the label (just p when the runs differ only in p and L); otherwise colour by label.
 * The depth is read from the run's params or config, so `where: {depth: 3}` figures stay solid.
 */
function styleSeries(runs: RunResult[], names: string[]): { color?: string; dash?: string }[] {
  const depthOf = (r: RunResult): string => String(r.params.depth ?? r.config.depth ?? '');
  const depths = new Set(runs.map(depthOf));
  if (depths.size <= 1) return names.map(() => ({}));
  return runs.map((r, i) => {
    const rest = names[i]
      .split(' ')
      .filter((t) => !t.startsWith('L='))
      .join(' ');
    return { color: rest || `L=${depthOf(r)}`, dash: `L=${depthOf(r)}` };
  });
}

function traceFigure(fig: Extract<FigureConfig, { kind: 'trace' }>, runs: RunResult[]): FigureResult {
  const drawn = runs.filter((r) => matches(r.params, fig.where));
  const names = drawn.map((r) => prettyLabel(seriesName(r, fig.where)));
  const styles = styleSeries(drawn, names);
  const series: FigureSeries[] = drawn.map((r, i) => ({
    name: names[i],
    ...styles[i],
    points: r.history.filter((h) => h.step >= 1).map((h) => ({ x: h.step, y: traceValue(h, fig.metric, r) })),
  }));
  const grouped = styles.some((st) => st.dash !== undefined);
  return lineFigure({
    title: fig.title,
    x: { title: 'step t', scale: 'log' },
    y: { title: AXIS_TITLES[fig.metric] ?? fig.metric, scale: fig.yScale },
    series,
    referenceLines: fig.referenceLine ? [fig.referenceLine] : [],
    ...(grouped ? { colors: P_COLORS, dashes: DEPTH_DASHES, dashTitle: 'depth' } : {}),
    guides: fig.yScale === 'log' && ONE_OVER_T_METRICS.has(fig.metric) ? [{ slope: -1, label: '∝ 1/t' }] : [],
  });
}

function epsPathFigure(fig: Extract<FigureConfig, { kind: 'eps-path' }>, runs: RunResult[], paths: SolverPath[]): FigureResult {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs.filter((r) => matches(r.params, fig.where))) {
    const key = pathKey(r.params);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const trainedKey = fig.angle === 'l2-svm' ? 'angleToL2SvmDeg' : 'angleToLqSvmDeg';
  const solverKey = fig.angle === 'l2-svm' ? 'solverAngleToL2SvmDeg' : 'solverAngleToLqSvmDeg';
  const series: PathSeries[] = [...groups.entries()].map(([name, rs]) => {
    const sorted = [...rs].sort((a, b) => Number(a.config.eps) - Number(b.config.eps));
    // The dense solver path when there is one, else the solver at the trained ε values.
    const dense = paths.find((p) => p.key === name);
    const predicted = dense
      ? dense.points.map((pt) => ({ x: pt.eps, y: fig.angle === 'l2-svm' ? pt.angleToL2SvmDeg : pt.angleToLqSvmDeg }))
      : sorted.map((r) => ({ x: Number(r.config.eps), y: r.metrics[solverKey] ?? null }));
    // The legend omits what the figure's `where` fixes (e.g. model=diagonal on a diagonal-only figure).
    const fixed = new Set(Object.keys(fig.where ?? {}).map((k) => (k === 'depth' ? 'L' : k)));
    const shown = name
      .split(' ')
      .filter((t) => !fixed.has(t.split('=')[0]))
      .join(' ');
    return {
      name: prettyLabel(shown || name || 'run'),
      trained: sorted.map((r) => ({ x: Number(r.config.eps), y: r.metrics[trainedKey] ?? null })),
      predicted,
    };
  });
  return pathFigure({
    title: fig.title,
    x: { title: 'ε' },
    y: { title: fig.angle === 'l2-svm' ? 'angle to the ℓ2-SVM (°)' : 'angle to the ℓq-SVM (°)' },
    series,
  });
}

function robustCurveFigure(fig: Extract<FigureConfig, { kind: 'robust-curve' }>, runs: RunResult[]): FigureResult {
  const series: FigureSeries[] = runs
    .filter((r) => r.evaluation && matches(r.params, fig.where))
    .map((r) => ({ name: prettyLabel(seriesName(r, fig.where)), points: r.evaluation!.eps.map((e, i) => ({ x: e, y: r.evaluation!.robustAccuracy[i] })) }));
  const first = runs.find((r) => r.evaluation)?.evaluation;
  return lineFigure({
    title: fig.title,
    subtitle: first ? `${first.attack === 'exact' ? 'exact worst case' : 'PGD with random restarts'} on ${first.examples} examples of ${first.data}` : undefined,
    x: { title: 'ε' },
    y: { title: 'robust accuracy', domain: [0, 1] },
    series,
    showPoints: true,
  });
}

const METRIC_NAMES: Partial<Record<string, string>> = {
  referenceAngleDeg: 'to prediction',
  angleToKernelDeg: 'to kernel',
  angleToArchitectureBiasDeg: 'to ε = 0 bias',
  angleToLqSvmDeg: 'to ℓq-SVM',
  finalLogLoss: 'log L̃ reached',
  predictorKktResidual: 'predictor-space KKT residual',
  predictorMarginRatio: 'Γ(β) / Γ*',
};

function sweepFigure(fig: Extract<FigureConfig, { kind: 'sweep' }>, runs: RunResult[]): FigureResult {
  const selected = runs.filter((r) => matches(r.params, fig.where) && typeof r.params[fig.x] === 'number');
  // Runs that differ only in the swept parameter form one group (one line per metric and group).
  const groups = new Map<string, RunResult[]>();
  for (const r of selected) {
    const key = fig.groupBy.map((k) => `${k}=${r.params[k] === Infinity ? 'inf' : String(r.params[k])}`).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const series: FigureSeries[] = [];
  for (const [key, rs] of groups) {
    const sorted = [...rs].sort((a, b) => Number(a.params[fig.x]) - Number(b.params[fig.x]));
    for (const m of fig.metrics) {
      const label = METRIC_NAMES[m] ?? m;
      series.push({ name: groups.size > 1 ? `${label} (${prettyLabel(key)})` : label, points: sorted.map((r) => ({ x: Number(r.params[fig.x]), y: r.metrics[m] ?? null })) });
    }
  }
  return lineFigure({ title: fig.title, x: { title: fig.x, scale: fig.xScale }, y: { title: fig.yTitle, scale: fig.yScale }, series, showPoints: true });
}

/** Every figure of an experiment, in config order. */
export function experimentFigures(exp: ExperimentConfig, result: ExperimentResult): { id: string; figure: FigureResult }[] {
  return exp.figures.map((fig) => ({
    id: fig.id,
    figure:
      fig.kind === 'trace'
        ? traceFigure(fig, result.runs)
        : fig.kind === 'robust-curve'
          ? robustCurveFigure(fig, result.runs)
          : fig.kind === 'sweep'
            ? sweepFigure(fig, result.runs)
            : epsPathFigure(fig, result.runs, result.solverPaths),
  }));
}
