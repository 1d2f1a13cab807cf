/**
 * Typed builders of vega-lite specs from plain arrays. They only arrange numbers that a result
 * already holds (no experiment logic here) and return JSON data that `src/node/render.ts` renders to
 * SVG and PNG, or that any vega-lite tool can open. No Node API: this module also runs in the browser.
 */
import type { TopLevelSpec } from 'vega-lite';
import { InputError } from '../errors.ts';

/** A vega-lite top-level spec, as the builders return it and `renderFigure` takes it. */
export type FigureSpec = TopLevelSpec;

type LayerSpec = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

/** Where `$schema` points; a label for editors and tools only, never fetched when rendering. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Default size of the whole figure in CSS pixels (title, axes and legend included). */
export const DEFAULT_WIDTH = 560;
/** @see DEFAULT_WIDTH */
export const DEFAULT_HEIGHT = 340;

/** A field name that vega-lite reads literally: no dots, brackets or spaces (those mean nested access). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Data columns the builders use themselves. */
const SERIES_FIELD = 'series';
const LABEL_FIELD = 'label';

/** One axis of a figure. */
export interface AxisOptions {
  /** Axis title, e.g. `'step t'` or `'direction error (°)'`. */
  readonly title: string;
  /** Column name of this coordinate in the spec's data (letters, digits, `_`). Default `'x'` / `'y'`. */
  readonly field?: string;
  /** `'linear'` or `'log'` (base 10; values ≤ 0 are dropped with a note). Default `'linear'`. */
  readonly scale?: 'linear' | 'log';
  /**
   * Fixed `[min, max]` of the axis. Default: the extent of the data and reference lines, rounded
   * to nice ticks; a linear axis does not force 0 in.
   */
  readonly domain?: readonly [number, number];
}

/** One point; `null` (how result files write NaN and ±∞), NaN and ±∞ are dropped with a note. */
export interface FigurePoint {
  readonly x: number | null;
  readonly y: number | null;
}

/** A named series of points; the name is its legend entry and picks its colour. */
export interface FigureSeries {
  readonly name: string;
  readonly points: readonly FigurePoint[];
}

/** A horizontal dashed rule at `y`, labelled at its right end (e.g. a predicted limit). */
export interface ReferenceLine {
  readonly y: number;
  readonly label: string;
}

/** What every builder takes besides its series. */
export interface FigureBaseOptions {
  /** Figure title, drawn on top. */
  readonly title: string;
  /** Second title line in smaller type. Default: none (`pathFigure`: which marks are which). */
  readonly subtitle?: string;
  readonly x: AxisOptions;
  readonly y: AxisOptions;
  /** Horizontal dashed rules. Default `[]`. */
  readonly referenceLines?: readonly ReferenceLine[];
  /** Width of the whole figure in CSS pixels. Default {@link DEFAULT_WIDTH}. */
  readonly width?: number;
  /** Height of the whole figure in CSS pixels. Default {@link DEFAULT_HEIGHT}. */
  readonly height?: number;
  /** Legend title. Default: none. */
  readonly legendTitle?: string;
}

/** Options of {@link lineFigure}. */
export interface LineFigureOptions extends FigureBaseOptions {
  /** Curves, one colour each in the order given (vega-lite's `tableau10`). */
  readonly series: readonly FigureSeries[];
  /** Also mark every point on the curves. Default `false`. */
  readonly showPoints?: boolean;
}

/** One curve of an ε-path: what training reached and what the solver predicts, in one colour. */
export interface PathSeries {
  readonly name: string;
  /** Measured after training, drawn as points. */
  readonly trained: readonly FigurePoint[];
  /** The solver's prediction, drawn as a line. */
  readonly predicted: readonly FigurePoint[];
}

/** Options of {@link pathFigure}. */
export interface PathFigureOptions extends FigureBaseOptions {
  readonly series: readonly PathSeries[];
}

/** A spec and what the builder did to the data on the way (dropped points), one sentence each. */
export interface FigureResult {
  readonly spec: FigureSpec;
  readonly notes: string[];
}

interface Axis {
  readonly title: string;
  readonly field: string;
  readonly scale: 'linear' | 'log';
  readonly domain?: readonly [number, number];
}

function resolveAxis(axis: AxisOptions, defaultField: string, name: 'x' | 'y'): Axis {
  const field = axis.field ?? defaultField;
  if (!FIELD_NAME.test(field) || field === SERIES_FIELD || field === LABEL_FIELD) {
    throw new InputError(
      `${name}.field: '${field}' is not allowed (letters, digits and _, starting with a letter; not '${SERIES_FIELD}' or '${LABEL_FIELD}')`,
      `${name}.field`,
    );
  }
  const scale = axis.scale ?? 'linear';
  if (scale !== 'linear' && scale !== 'log') {
    throw new InputError(`${name}.scale: '${String(scale)}' is not allowed ('linear' or 'log')`, `${name}.scale`);
  }
  const domain = axis.domain;
  if (domain !== undefined) {
    const [lo, hi] = domain;
    const valid = Number.isFinite(lo) && Number.isFinite(hi) && lo < hi && (scale === 'linear' || lo > 0);
    if (!valid) {
      throw new InputError(
        `${name}.domain: [${lo}, ${hi}] is not allowed (finite, min < max${scale === 'log' ? ', min > 0 on a log axis' : ''})`,
        `${name}.domain`,
      );
    }
  }
  return { title: axis.title, field, scale, domain };
}

function checkSize(value: number | undefined, fallback: number, name: string): number {
  const size = value ?? fallback;
  if (!Number.isInteger(size) || size < 50) {
    throw new InputError(`${name}: ${size} is not allowed (an integer number of pixels ≥ 50)`, name);
  }
  return size;
}

function checkNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new InputError(`series: the name '${name}' is used twice`, 'series');
    seen.add(name);
  }
}

/** Why a value cannot be drawn on an axis, or `undefined` when it can. */
function rejection(value: number | null, scale: 'linear' | 'log'): 'missing' | 'non-positive' | undefined {
  if (value === null || !Number.isFinite(value)) return 'missing';
  if (scale === 'log' && value <= 0) return 'non-positive';
  return undefined;
}

type Row = Record<string, string | number>;

/**
 * The drawable points of one series as data rows; every dropped point is counted in `notes`,
 * e.g. "series 'GD': dropped 2 of 40 points with x ≤ 0 (log x axis)".
 */
function rows(
  what: string,
  series: string,
  points: readonly FigurePoint[],
  x: Axis,
  y: Axis,
  notes: string[],
): Row[] {
  const out: Row[] = [];
  const dropped = { missing: 0, xNonPositive: 0, yNonPositive: 0 };
  for (const point of points) {
    const rx = rejection(point.x, x.scale);
    const ry = rejection(point.y, y.scale);
    if (rx === 'missing' || ry === 'missing') dropped.missing++;
    else if (rx === 'non-positive') dropped.xNonPositive++;
    else if (ry === 'non-positive') dropped.yNonPositive++;
    else out.push({ [SERIES_FIELD]: series, [x.field]: point.x as number, [y.field]: point.y as number });
  }
  const of = `of ${points.length} points`;
  if (dropped.missing > 0) notes.push(`${what}: dropped ${dropped.missing} ${of} with a missing or non-finite coordinate`);
  if (dropped.xNonPositive > 0) notes.push(`${what}: dropped ${dropped.xNonPositive} ${of} with x ≤ 0 (log x axis)`);
  if (dropped.yNonPositive > 0) notes.push(`${what}: dropped ${dropped.yNonPositive} ${of} with y ≤ 0 (log y axis)`);
  if (out.length === 0) notes.push(`${what}: nothing to draw`);
  return out;
}

/** Most labelled decades on a log axis; wider ranges label every k-th decade. */
const MAX_LOG_TICKS = 10;
/** Decades labelled as plain numbers (0.01 … 1000) when the whole axis stays within them. */
const PLAIN_DECADES = { min: -2, max: 3 };
const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
};

/** `10⁻³`-style label of the decade 10^e. */
function powerOfTen(e: number): string {
  return `10${[...String(e)].map((c) => SUPERSCRIPT[c]).join('')}`;
}

/**
 * Axis of a log scale: ticks, grid and labels at whole decades only (vega's default log labels are
 * crowded, 90 50 10 6 2 …), labelled 0.01 … 1000 when the axis stays in that range and 10ᵉ otherwise.
 * `extent` is [min, max] of what is drawn (all > 0); when it spans less than a decade, vega's own
 * ticks are kept (`~g` labels) and the scale is not rounded out (see {@link scaleSpec}).
 */
function logAxisSpec(title: string, extent: readonly [number, number] | undefined) {
  if (extent === undefined || !spansDecade(extent)) return { title, format: '~g' };
  const lo = Math.floor(Math.log10(extent[0]) + 1e-9);
  const hi = Math.ceil(Math.log10(extent[1]) - 1e-9);
  const stride = Math.ceil((hi - lo + 1) / MAX_LOG_TICKS);
  const exponents: number[] = [];
  for (let e = hi; e >= lo; e -= stride) exponents.unshift(e);
  const plain = lo >= PLAIN_DECADES.min && hi <= PLAIN_DECADES.max;
  const label = (e: number) => (plain ? String(Number(`1e${e}`)) : powerOfTen(e));
  // A chain of comparisons at the geometric midpoints: the tick values are exact decades, so each
  // falls between two midpoints whatever its last bit.
  let labelExpr = `'${label(exponents[exponents.length - 1])}'`;
  for (let i = exponents.length - 2; i >= 0; i--) {
    labelExpr = `datum.value < ${10 ** (exponents[i] + 0.5)} ? '${label(exponents[i])}' : ${labelExpr}`;
  }
  return { title, values: exponents.map((e) => Number(`1e${e}`)), labelExpr, labelFlush: false };
}

/** Whether a log axis over `extent` shows a whole decade (max/min ≥ 10, with rounding slack). */
function spansDecade(extent: readonly [number, number]): boolean {
  return Math.log10(extent[1] / extent[0]) >= 1 - 1e-9;
}

function axisSpec(axis: Axis, extent: readonly [number, number] | undefined) {
  return axis.scale === 'log' ? logAxisSpec(axis.title, axis.domain ?? extent) : { title: axis.title };
}

/**
 * Linear scales do not force 0 in. Log scales round out to whole decades when the data span one,
 * and otherwise stay at the data's extent (rounding 0.06–0.15 out to 0.01–1 would flatten it).
 */
function scaleSpec(axis: Axis, extent: readonly [number, number] | undefined) {
  const domain = axis.domain ? { domain: [...axis.domain] } : {};
  if (axis.scale === 'linear') return { type: 'linear' as const, zero: false, ...domain };
  const nice = axis.domain === undefined && extent !== undefined && spansDecade(extent);
  return { type: 'log' as const, nice, ...domain };
}

/** [min, max] of a column over rows and extra values, or `undefined` when there is nothing. */
function extentOf(field: string, groups: readonly (readonly Row[])[], extra: readonly number[] = []): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const v of extra) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  for (const group of groups) {
    for (const row of group) {
      const v = row[field] as number;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return min <= max ? [min, max] : undefined;
}

interface Layout {
  readonly x: Axis;
  readonly y: Axis;
  readonly names: readonly string[];
  readonly legendTitle: string | undefined;
  /** What is drawn, for the log-axis ticks. */
  readonly xExtent: [number, number] | undefined;
  readonly yExtent: [number, number] | undefined;
}

/** Encodings shared by every data layer: x, y and the series colour (one domain, fixed order). */
function xyColorEncoding({ x, y, names, legendTitle, xExtent, yExtent }: Layout) {
  return {
    x: { field: x.field, type: 'quantitative' as const, scale: scaleSpec(x, xExtent), axis: axisSpec(x, xExtent) },
    y: { field: y.field, type: 'quantitative' as const, scale: scaleSpec(y, yExtent), axis: axisSpec(y, yExtent) },
    color: {
      field: SERIES_FIELD,
      type: 'nominal' as const,
      scale: { domain: [...names], scheme: 'tableau10' },
      legend: { title: legendTitle ?? null },
    },
  };
}

/** The reference lines a y axis can show, as rows; the others are named in `notes`. */
function referenceRows(lines: readonly ReferenceLine[], y: Axis, notes: string[]): Row[] {
  const kept: Row[] = [];
  for (const line of lines) {
    const why = rejection(line.y, y.scale);
    if (why === undefined) kept.push({ [y.field]: line.y, [LABEL_FIELD]: line.label });
    else notes.push(`reference line '${line.label}': dropped (y = ${line.y} ${why === 'missing' ? 'is not finite' : 'is ≤ 0 on a log y axis'})`);
  }
  return kept;
}

function referenceLayers(kept: Row[], y: Axis): LayerSpec[] {
  if (kept.length === 0) return [];
  const yEncoding = { field: y.field, type: 'quantitative' as const };
  return [
    {
      data: { values: kept },
      mark: { type: 'rule', strokeDash: [6, 4], color: '#555', strokeWidth: 1.25 },
      encoding: { y: yEncoding },
    },
    {
      data: { values: kept },
      mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -4, dy: -3, color: '#333', fontSize: 11 },
      encoding: { y: yEncoding, x: { value: 'width' }, text: { field: LABEL_FIELD, type: 'nominal' } },
    },
  ];
}

/** Resolves the axes and checks names; the data layers' rows come back through `layout`. */
function prepare(options: FigureBaseOptions & { readonly series: readonly { readonly name: string }[] }) {
  const x = resolveAxis(options.x, 'x', 'x');
  const y = resolveAxis(options.y, 'y', 'y');
  const names = options.series.map((s) => s.name);
  checkNames(names);
  const notes: string[] = [];
  const references = referenceRows(options.referenceLines ?? [], y, notes);
  const layout = (groups: readonly (readonly Row[])[]): Layout => ({
    x,
    y,
    names,
    legendTitle: options.legendTitle,
    xExtent: extentOf(x.field, groups),
    yExtent: extentOf(y.field, [...groups, references]),
  });
  // Marks are clipped only to a fixed domain: otherwise points at the data's edge would be cut in half.
  const clip = x.domain !== undefined || y.domain !== undefined;
  return { x, y, notes, references, layout, clip };
}

function topLevel(options: FigureBaseOptions, subtitle: string | undefined, layer: LayerSpec[]): FigureSpec {
  const width = checkSize(options.width, DEFAULT_WIDTH, 'width');
  const height = checkSize(options.height, DEFAULT_HEIGHT, 'height');
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: subtitle === undefined ? { text: options.title } : { text: options.title, subtitle },
    width,
    height,
    // `fit` + `padding`: width and height are the size of the whole picture, so a PNG is exactly
    // width × height (times its pixel ratio), whatever the axis labels and legend take.
    autosize: { type: 'fit', contains: 'padding' },
    padding: 8,
    background: 'white',
    // A title far wider than the figure is cut with an ellipsis (`limit`) rather than shrinking the
    // plot (with `fit`, vega makes room for the whole title by narrowing the plot area). Without a
    // canvas, vega estimates text as 0.8 em per character, about 4/3 of DejaVu Sans's real width, hence
    // the 4/3. Legend labels are cut at 200 px for the same reason. (A legend below the plot made `fit`
    // push the title out of the picture.)
    config: { font: 'sans-serif', title: { fontSize: 15, subtitleFontSize: 11, anchor: 'start', limit: Math.round(((width - 24) * 4) / 3) }, legend: { labelLimit: 200 } },
    layer,
  };
}

/**
 * Curves against x, e.g. the direction error, layer alignment or normalized margin γ̄ against the
 * step t on a log axis, with predicted limits as dashed reference lines.
 *
 * Points that a log axis cannot show (≤ 0) and missing values (null, NaN, ±∞) are dropped and
 * counted in `notes`; nothing here throws on data. Invalid options (bad field names, sizes, domains,
 * duplicate series names) throw an {@link InputError} naming the option.
 */
export function lineFigure(options: LineFigureOptions): FigureResult {
  const { x, y, notes, references, layout, clip } = prepare(options);
  const values = options.series.flatMap((s) => rows(`series '${s.name}'`, s.name, s.points, x, y, notes));
  const layer: LayerSpec[] = [
    {
      data: { values },
      mark: { type: 'line', strokeWidth: 1.75, clip, point: options.showPoints ?? false },
      encoding: xyColorEncoding(layout([values])),
    },
    ...referenceLayers(references, y),
  ];
  return { spec: topLevel(options, options.subtitle, layer), notes };
}

/** Default subtitle of {@link pathFigure}: says which marks are which, since colour is the series. */
export const PATH_SUBTITLE = 'points: adversarial training · lines: solver prediction';

/**
 * An ε-path: for each series, the angle (or any quantity) reached by training at several ε as
 * points and the solver's prediction as a line, in the series' colour. Dropping rules and errors as
 * in {@link lineFigure}; the subtitle defaults to {@link PATH_SUBTITLE}.
 */
export function pathFigure(options: PathFigureOptions): FigureResult {
  const { x, y, notes, references, layout, clip } = prepare(options);
  const predicted = options.series.flatMap((s) => rows(`series '${s.name}' (predicted)`, s.name, s.predicted, x, y, notes));
  const trained = options.series.flatMap((s) => rows(`series '${s.name}' (trained)`, s.name, s.trained, x, y, notes));
  const encoding = xyColorEncoding(layout([predicted, trained]));
  const layer: LayerSpec[] = [
    { data: { values: predicted }, mark: { type: 'line', strokeWidth: 1.75, clip }, encoding },
    { data: { values: trained }, mark: { type: 'point', filled: true, size: 45, opacity: 0.9, clip }, encoding },
    ...referenceLayers(references, y),
  ];
  return { spec: topLevel(options, options.subtitle ?? PATH_SUBTITLE, layer), notes };
}
