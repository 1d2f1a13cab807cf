/**
 * The figures of the shipped experiments, drawn from made-up results (no training): readable text
 * (no raw ^{…}/_{…} markup, nothing cut with "…"), colour by p and dash by depth L, and a 1/t guide
 * on log–log direction-error and KKT traces.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { expandRuns, type ExperimentResult, type RunResult } from '../../src/experiments/runner.ts';
import { experimentFigures, DEPTH_DASHES, P_COLORS } from '../../src/experiments/figures.ts';
import { parseExperiment, type ExperimentConfig } from '../../src/experiments/schema.ts';
import { loadExperiments } from '../../src/node/experiments.ts';
import { renderFigure } from '../../src/node/render.ts';
import type { Measurement } from '../../src/metrics/measure.ts';
import type { FigureSpec } from '../../src/report/figures.ts';

/** A made-up history: every trace metric present and positive, falling like 1/t where it is an error. */
function history(depth: number): Measurement[] {
  const rows: Measurement[] = [];
  for (let t = 1; t <= 1e4; t *= 10) {
    rows.push({
      step: t,
      logLoss: -t,
      cleanLogLoss: -t,
      normalizedMargin: 0.5,
      adversarialNormalizedMargin: 0.4 - 0.1 / t,
      smoothedMargin: 0.3,
      trainAccuracy: 1,
      robustAccuracy: 1,
      logParameterNorm: Math.log(t + 1),
      stepSize: 0.1,
      referenceAngleDeg: 10 / t,
      referenceOneMinusCos: 1e-2 / t,
      alignment: { rank1: Array(depth).fill(1 - 1 / t), adjacent: Array(Math.max(depth - 1, 0)).fill(1 - 1 / t), layerShares: Array(depth).fill(1 / depth + 0.1 / t), predictor: 1 - 1 / t },
      kkt: { stationarity: 1 / t, complementarity: 0.1 / t, gradientCosine: 1 - 1 / t, examples: 2, support: 1, nnlsStationarity: 1 / t },
      predictorKkt: { stationarity: 1 / t, complementarity: 0.1 / t, margin: 0.5 },
    } as unknown as Measurement);
  }
  return rows;
}

/** Made-up results for every run of an experiment (quick variant, so that grids stay small). */
function fakeResult(exp: ExperimentConfig): ExperimentResult {
  const runs: RunResult[] = expandRuns(exp, true).map((spec) => {
    const depth = Number(spec.raw.depth ?? 1);
    const config = { model: 'deep-linear', depth, eps: 0.1, p: 'inf', ...spec.raw };
    return {
      label: spec.label,
      params: spec.params,
      config,
      final: history(depth).at(-1)!,
      history: history(depth),
      reference: { problem: 'adversarial-svm', status: 'optimal', solver: 'test', direction: [1, 0], margin: 1, kkt: { primalFeasibility: 0, dualFeasibility: 0, complementarity: 0, stationarity: 0 } },
      l2Svm: null,
      lqSvm: null,
      threshold: 1,
      monotonicity: null,
      evaluation: { data: 's2', eps: [0, 0.1], robustAccuracy: [1, 0.5], attack: 'pgd', examples: 2, reportEps: 0.1 },
      metrics: { angleToL2SvmDeg: 1, angleToLqSvmDeg: 2, solverAngleToL2SvmDeg: 1, solverAngleToLqSvmDeg: 2, referenceAngleDeg: 0.1, angleToKernelDeg: 3, finalLogLoss: -5, predictorKktResidual: 1e-4, predictorMarginRatio: 1 },
      seconds: 0,
    } as unknown as RunResult;
  });
  return { id: exp.id, claim: exp.claim, title: exp.title, quick: true, runs, table: [], pass: true, seconds: 0, solverPaths: [] };
}

/** Every string in a spec: titles, axis and legend titles, label expressions, data labels. */
function specStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) specStrings(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) specStrings(v, out);
  return out;
}

type Layer = { mark: { type: string; strokeDash?: number[] }; encoding?: Record<string, { field?: string; scale?: { domain: string[]; range: unknown[] } }>; data: { values: Record<string, unknown>[] } };
const layers = (spec: FigureSpec): Layer[] => (spec as unknown as { layer: Layer[] }).layer;
const isGuide = (l: Layer): boolean => l.mark.type === 'line' && l.mark.strokeDash !== undefined && l.data.values.some((r) => r.label === '∝ 1/t');

const shipped = loadExperiments();

test('no raw ^{…} or _{…} markup in any text of any shipped figure', () => {
  let figures = 0;
  for (const exp of shipped) {
    for (const { id, figure } of experimentFigures(exp, fakeResult(exp))) {
      figures++;
      for (const s of specStrings(figure.spec)) assert.ok(!/[\^_]\{/.test(s), `${exp.id}/${id}: "${s}"`);
    }
  }
  assert.ok(figures >= 20, `${figures} figures checked`);
});

test('no text of any shipped figure is cut with "…" when rendered', async () => {
  for (const exp of shipped) {
    for (const { id, figure } of experimentFigures(exp, fakeResult(exp))) {
      const { svg } = await renderFigure(figure.spec);
      const texts = [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/gs)].flatMap((m) => m[1].split(/<tspan[^>]*>/).map((t) => t.replace(/<\/tspan>/g, '')));
      for (const t of texts) assert.ok(!t.includes('…'), `${exp.id}/${id}: "${t}"`);
    }
  }
});

test('trace figures over several depths: dash by L, colour by p, the same patterns in every figure', () => {
  const exp = shipped.find((e) => e.id === 'c1-direction-s2')!;
  const result = fakeResult(exp);
  assert.ok(new Set(result.runs.map((r) => r.params.depth)).size > 1 && new Set(result.runs.map((r) => String(r.params.p))).size > 1, 'the runs vary in L and p');
  const figs = experimentFigures(exp, result).filter(({ id }) => ['direction-error', 'margin-ratio'].includes(id));
  assert.equal(figs.length, 2);
  for (const { id, figure } of figs) {
    const data = layers(figure.spec)[0];
    assert.equal(data.encoding!.strokeDash?.field, 'dash', `${id}: dash encodes a field`);
    assert.equal(data.encoding!.color?.field, 'color', `${id}: colour encodes a field`);
    const run = (label: string) => result.runs.find((r) => r.label.split(' ').sort().join(' ') === label.replace('p=∞', 'p=inf').replace(/ε=/g, 'eps=').split(' ').sort().join(' '))!;
    assert.ok(data.data.values.length > 0);
    for (const row of data.data.values as Record<string, string>[]) {
      const r = run(row.series);
      assert.ok(r, `${id}: a run for series ${row.series}`);
      assert.equal(row.dash, `L=${r.params.depth}`, `${id}: the dash of ${row.series} is its depth`);
      assert.equal(row.color, `p=${r.params.p === 'inf' ? '∞' : r.params.p}`, `${id}: the colour of ${row.series} is its p`);
    }
    const dash = data.encoding!.strokeDash!.scale!;
    dash.domain.forEach((L, i) => assert.deepEqual(dash.range[i], DEPTH_DASHES[L], `${id}: ${L} has its fixed pattern`));
    const color = data.encoding!.color!.scale!;
    color.domain.forEach((p, i) => assert.equal(color.range[i], P_COLORS[p], `${id}: ${p} has its fixed colour`));
  }
});

test('a figure of one depth is not dashed; runs without p or L are coloured by label', () => {
  const exp = parseExperiment(
    {
      id: 'x',
      claim: 'MY-CLAIM',
      title: 'x',
      description: 'x',
      base: { data: 's2', model: 'deep-linear', depth: 2 },
      runs: [{ run: 'first' }, { run: 'second' }],
      figures: [{ kind: 'trace', id: 'f', title: 'f', metric: 'referenceAngleDeg', yScale: 'log' }],
      expectations: [{ id: 'e', description: 'e', metric: 'referenceAngleDeg', op: '<', value: 1 }],
    },
    'x',
  );
  const [{ figure }] = experimentFigures(exp, fakeResult(exp));
  const data = layers(figure.spec)[0];
  assert.equal(data.encoding!.strokeDash, undefined);
  assert.equal(data.encoding!.color?.field, 'series');
  assert.deepEqual(data.encoding!.color?.scale?.domain, ['first', 'second']);
});

test('1/t guide lines on log–log direction-error and KKT traces, and only there', () => {
  const withGuide: string[] = [];
  for (const exp of shipped) {
    for (const fig of exp.figures) {
      if (fig.kind !== 'trace') continue;
      const { figure } = experimentFigures({ ...exp, figures: [fig] }, fakeResult(exp))[0];
      const has = layers(figure.spec).some(isGuide);
      const expected = fig.yScale === 'log' && ['referenceOneMinusCos', 'referenceAngleDeg', 'kktStationarity'].includes(fig.metric);
      assert.equal(has, expected, `${exp.id}/${fig.id} (${fig.metric}, ${fig.yScale})`);
      if (has) withGuide.push(`${exp.id}/${fig.id}`);
    }
  }
  for (const id of ['c1-direction-s2/direction-error', 'c1-direction-synthetic/direction-error', 'c2-toy/kkt-stationarity']) assert.ok(withGuide.includes(id), id);
});
