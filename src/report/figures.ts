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
const COLOR_FIELD = 'color';
const DASH_FIELD = 'dash';
const RESERVED_FIELDS = [SERIES_FIELD, LABEL_FIELD, COLOR_FIELD, DASH_FIELD];

/** vega-lite's tableau10 colours, in order (colour groups without a fixed colour take these). */
export const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'] as const;
/** Dash patterns in order: solid, dashed, dotted, dash-dot, long dash. */
export const DASH_PATTERNS: readonly (readonly number[])[] = [[1, 0], [7, 3], [2, 2], [8, 3, 2, 3], [12, 4]];

/**
 * vega measures text without a canvas as 0.8 em per UTF-16 unit (vega-scenegraph's estimate), about
 * 4/3 of DejaVu Sans's real width; titles are wrapped to lines that this estimate fits.
 */
const ESTIMATED_EM_PER_CHAR = 0.8;
const TITLE_FONT_SIZE = 15;
const SUBTITLE_FONT_SIZE = 11;
const LEGEND_LABEL_FONT_SIZE = 10;
/** Legend labels longer than this many characters are wrapped (vega's default label limit is 160 px). */
const LEGEND_LABEL_CHARS = 26;

/**
 * Greedy word wrap of `text` into lines of at most `maxChars` UTF-16 units (vega's unit of text
 * width); a single word longer than that is split. Never drops or cuts characters.
 */
export function wrapText(text: string, maxChars: number): string[] {
  const limit = Math.max(1, Math.floor(maxChars));
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    let rest = word;
    while (rest.length > limit) {
      if (line !== '') {
        lines.push(line);
        line = '';
      }
      lines.push(rest.slice(0, limit));
      rest = rest.slice(limit);
    }
    if (line === '') line = rest;
    else if (line.length + 1 + rest.length <= limit) line = `${line} ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

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

/**
 * A named series of points. Without `color` and `dash` the name is its legend entry and picks its
 * colour. With them, the curve's colour follows `color` and its dash pattern follows `dash` (two
 * legends, e.g. colour by p and dash by depth L), and the name only tells the curves apart.
 */
export interface FigureSeries {
  readonly name: string;
  readonly points: readonly FigurePoint[];
  /** Colour group (legend entry of the colour legend), e.g. `'p = ∞'`. Default: the name. */
  readonly color?: string;
  /** Dash group (legend entry of the dash legend), e.g. `'L = 3'`. Default: none (solid). */
  readonly dash?: string;
}

/**
 * A power-law guide on log–log axes: a dashed grey line y ∝ x^slope over up to two decades of the
 * data's x range, ending at the data's last x, at the geometric mean of the curves' last values (so it
 * sits among the curves' ends), e.g. `{ slope: -1, label: '∝ 1/t' }` for a 1/t rate.
 */
export interface GuideLine {
  readonly slope: number;
  readonly label: string;
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
  /** Legend title (the colour legend's). Default: none. */
  readonly legendTitle?: string;
  /** Title of the dash legend, when series have `dash` groups. Default: none. */
  readonly dashTitle?: string;
  /** Fixed colours of some colour groups (CSS colours), e.g. one per p in every figure. Default: tableau10 in order. */
  readonly colors?: Readonly<Record<string, string>>;
  /** Fixed dash patterns of some dash groups (vega strokeDash arrays). Default: {@link DASH_PATTERNS} in order. */
  readonly dashes?: Readonly<Record<string, readonly number[]>>;
}

/** Options of {@link lineFigure}. */
export interface LineFigureOptions extends FigureBaseOptions {
  /** Curves, one colour each in the order given (vega-lite's `tableau10`). */
  readonly series: readonly FigureSeries[];
  /** Also mark every point on the curves. Default `false`. */
  readonly showPoints?: boolean;
  /** Power-law guide lines (log x and log y axes only; ignored otherwise, with a note). Default `[]`. */
  readonly guides?: readonly GuideLine[];
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
  if (!FIELD_NAME.test(field) || RESERVED_FIELDS.includes(field)) {
    throw new InputError(
      `${name}.field: '${field}' is not allowed (letters, digits and _, starting with a letter; not ${RESERVED_FIELDS.map((f) => `'${f}'`).join(', ')})`,
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
  extra: Row = {},
): Row[] {
  const out: Row[] = [];
  const dropped = { missing: 0, xNonPositive: 0, yNonPositive: 0 };
  for (const point of points) {
    const rx = rejection(point.x, x.scale);
    const ry = rejection(point.y, y.scale);
    if (rx === 'missing' || ry === 'missing') dropped.missing++;
    else if (rx === 'non-positive') dropped.xNonPositive++;
    else if (ry === 'non-positive') dropped.yNonPositive++;
    else out.push({ [SERIES_FIELD]: series, ...extra, [x.field]: point.x as number, [y.field]: point.y as number });
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

/** Colour and dash groups of the series (only when some series names one: see {@link FigureSeries}). */
interface Groups {
  readonly colorDomain: string[];
  readonly colorRange: string[];
  /** Empty when no series has a dash group. */
  readonly dashDomain: string[];
  readonly dashRange: number[][];
}

interface Layout {
  readonly x: Axis;
  readonly y: Axis;
  readonly names: readonly string[];
  readonly groups: Groups | null;
  readonly legendTitle: string | undefined;
  readonly dashTitle: string | undefined;
  /** What is drawn, for the log-axis ticks. */
  readonly xExtent: [number, number] | undefined;
  readonly yExtent: [number, number] | undefined;
}

/**
 * Legend of a nominal channel: labels longer than {@link LEGEND_LABEL_CHARS} are wrapped onto several
 * lines through a lookup in `labelExpr`, and the label limit fits a full line, so no label is cut.
 */
function legendSpec(title: string | undefined, domain: readonly string[]) {
  const long = domain.filter((name) => name.length > LEGEND_LABEL_CHARS);
  // The limit is what vega's estimate gives a full wrapped line (a limit of 0 would make vega size the legend for empty labels).
  const labelLimit = Math.ceil(LEGEND_LABEL_CHARS * ESTIMATED_EM_PER_CHAR * LEGEND_LABEL_FONT_SIZE) + 1;
  const legend: Record<string, unknown> = { title: title ?? null, labelLimit, labelFontSize: LEGEND_LABEL_FONT_SIZE };
  if (long.length > 0) {
    let expr = 'datum.label';
    for (const name of long) expr = `datum.label === ${JSON.stringify(name)} ? ${JSON.stringify(wrapText(name, LEGEND_LABEL_CHARS))} : ${expr}`;
    legend.labelExpr = expr;
  }
  return legend;
}

/** The colour and dash groups of the series, or null when no series names one. */
function seriesGroups(options: FigureBaseOptions, series: readonly FigureSeries[]): Groups | null {
  if (!series.some((s) => s.color !== undefined || s.dash !== undefined)) return null;
  const colorDomain = [...new Set(series.map((s) => s.color ?? s.name))];
  const fixed = new Set(Object.values(options.colors ?? {}));
  const free = TABLEAU10.filter((c) => !fixed.has(c));
  let next = 0;
  const colorRange = colorDomain.map((g) => options.colors?.[g] ?? free[next++ % free.length]);
  const dashDomain = series.some((s) => s.dash !== undefined) ? [...new Set(series.map((s) => s.dash ?? ''))] : [];
  next = 0;
  const dashRange = dashDomain.map((g) => [...(options.dashes?.[g] ?? DASH_PATTERNS[next++ % DASH_PATTERNS.length])]);
  return { colorDomain, colorRange, dashDomain, dashRange };
}

/** The extra columns of a series' rows in grouped mode. */
function groupColumns(s: FigureSeries, groups: Groups | null): Row {
  if (groups === null) return {};
  return groups.dashDomain.length > 0 ? { [COLOR_FIELD]: s.color ?? s.name, [DASH_FIELD]: s.dash ?? '' } : { [COLOR_FIELD]: s.color ?? s.name };
}

/**
 * Encodings shared by every data layer: x, y and the series colour (one domain, fixed order); in
 * grouped mode colour by the colour group, dash by the dash group, one line per series (`detail`).
 */
function xyColorEncoding({ x, y, names, groups, legendTitle, dashTitle, xExtent, yExtent }: Layout) {
  const xy = {
    x: { field: x.field, type: 'quantitative' as const, scale: scaleSpec(x, xExtent), axis: axisSpec(x, xExtent) },
    y: { field: y.field, type: 'quantitative' as const, scale: scaleSpec(y, yExtent), axis: axisSpec(y, yExtent) },
  };
  if (groups === null) {
    return {
      ...xy,
      color: {
        field: SERIES_FIELD,
        type: 'nominal' as const,
        scale: { domain: [...names], scheme: 'tableau10' },
        legend: legendSpec(legendTitle, names),
      },
    };
  }
  return {
    ...xy,
    color: {
      field: COLOR_FIELD,
      type: 'nominal' as const,
      scale: { domain: groups.colorDomain, range: groups.colorRange },
      legend: legendSpec(legendTitle, groups.colorDomain),
    },
    ...(groups.dashDomain.length > 0
      ? {
          strokeDash: {
            field: DASH_FIELD,
            type: 'nominal' as const,
            scale: { domain: groups.dashDomain, range: groups.dashRange },
            legend: legendSpec(dashTitle, groups.dashDomain),
          },
        }
      : {}),
    detail: { field: SERIES_FIELD, type: 'nominal' as const },
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
function prepare(options: FigureBaseOptions & { readonly series: readonly { readonly name: string }[] }, groups: Groups | null = null) {
  const x = resolveAxis(options.x, 'x', 'x');
  const y = resolveAxis(options.y, 'y', 'y');
  const names = options.series.map((s) => s.name);
  checkNames(names);
  const notes: string[] = [];
  const references = referenceRows(options.referenceLines ?? [], y, notes);
  const layout = (data: readonly (readonly Row[])[]): Layout => ({
    x,
    y,
    names,
    groups,
    legendTitle: options.legendTitle,
    dashTitle: options.dashTitle,
    xExtent: extentOf(x.field, data),
    yExtent: extentOf(y.field, [...data, references]),
  });
  // Marks are clipped only to a fixed domain: otherwise points at the data's edge would be cut in half.
  const clip = x.domain !== undefined || y.domain !== undefined;
  return { x, y, notes, references, layout, clip };
}

function topLevel(options: FigureBaseOptions, subtitle: string | undefined, layer: LayerSpec[]): FigureSpec {
  const width = checkSize(options.width, DEFAULT_WIDTH, 'width');
  const height = checkSize(options.height, DEFAULT_HEIGHT, 'height');
  const limit = Math.round(((width - 24) * 4) / 3);
  // Long titles are wrapped onto several lines that vega's width estimate fits in `limit`, so that the
  // limit (kept as a guard against narrowing the plot) never cuts them.
  const text = wrapText(options.title, limit / (ESTIMATED_EM_PER_CHAR * TITLE_FONT_SIZE));
  const sub = subtitle === undefined ? undefined : wrapText(subtitle, limit / (ESTIMATED_EM_PER_CHAR * SUBTITLE_FONT_SIZE));
  const one = (lines: string[]) => (lines.length === 1 ? lines[0] : lines);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: sub === undefined ? { text: one(text) } : { text: one(text), subtitle: one(sub) },
    width,
    height,
    // `fit` + `padding`: width and height are the size of the whole picture, so a PNG is exactly
    // width × height (times its pixel ratio), whatever the axis labels and legend take.
    autosize: { type: 'fit', contains: 'padding' },
    padding: 8,
    background: 'white',
    // With `fit`, vega makes room for a title wider than the figure by narrowing the plot area, so
    // titles are wrapped (above) to lines within `limit`. Without a canvas, vega estimates text as
    // 0.8 em per character, about 4/3 of DejaVu Sans's real width, hence the 4/3. Legend labels are
    // wrapped, never cut (see legendSpec). (A legend below the plot made `fit` push the title out of
    // the picture.)
    config: { font: 'sans-serif', title: { fontSize: TITLE_FONT_SIZE, subtitleFontSize: SUBTITLE_FONT_SIZE, anchor: 'start', limit } },
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
  const groups = seriesGroups(options, options.series);
  const { x, y, notes, references, layout, clip } = prepare(options, groups);
  const values = options.series.flatMap((s) => rows(`series '${s.name}'`, s.name, s.points, x, y, notes, groupColumns(s, groups)));
  const guides = guideRows(options.guides ?? [], options.series, x, y, values, notes);
  const layer: LayerSpec[] = [
    {
      data: { values },
      mark: { type: 'line', strokeWidth: 1.75, clip, point: options.showPoints ?? false },
      encoding: xyColorEncoding(layout([values, ...guides])),
    },
    ...guideLayers(guides, x, y, clip),
    ...referenceLayers(references, y),
  ];
  return { spec: topLevel(options, options.subtitle, layer), notes };
}

/** Decades of x a guide line spans at most (fewer when the data span fewer). */
const GUIDE_DECADES = 2;

/**
 * The two end points of each guide line (see {@link GuideLine}), as rows; none unless both axes are
 * logarithmic. Reads only the drawn rows: the guide ends at the largest x drawn, at the geometric mean
 * of the series' last drawn values, and starts up to {@link GUIDE_DECADES} decades earlier.
 */
function guideRows(guides: readonly GuideLine[], series: readonly FigureSeries[], x: Axis, y: Axis, values: readonly Row[], notes: string[]): Row[][] {
  if (guides.length === 0) return [];
  if (x.scale !== 'log' || y.scale !== 'log') {
    notes.push(`guide lines ${guides.map((g) => `'${g.label}'`).join(', ')}: dropped (they need log x and log y axes)`);
    return [];
  }
  const lastY: number[] = [];
  let xMin = Infinity;
  let xMax = -Infinity;
  for (const s of series) {
    const mine = values.filter((r) => r[SERIES_FIELD] === s.name);
    if (mine.length === 0) continue;
    let last = mine[0];
    for (const r of mine) {
      const xv = r[x.field] as number;
      xMin = Math.min(xMin, xv);
      xMax = Math.max(xMax, xv);
      if (xv >= (last[x.field] as number)) last = r;
    }
    lastY.push(last[y.field] as number);
  }
  if (lastY.length === 0 || !(xMax > xMin)) return [];
  const yEnd = Math.exp(lastY.reduce((a, v) => a + Math.log(v), 0) / lastY.length);
  const xStart = Math.max(xMin, xMax / 10 ** GUIDE_DECADES);
  return guides.map((g) => [
    { [x.field]: xStart, [y.field]: yEnd * (xStart / xMax) ** g.slope, [LABEL_FIELD]: g.label },
    { [x.field]: xMax, [y.field]: yEnd, [LABEL_FIELD]: g.label },
  ]);
}

/** A dashed grey line per guide, labelled at its start. */
function guideLayers(guides: readonly Row[][], x: Axis, y: Axis, clip: boolean): LayerSpec[] {
  if (guides.length === 0) return [];
  const values = guides.flat();
  const encoding = { x: { field: x.field, type: 'quantitative' as const }, y: { field: y.field, type: 'quantitative' as const } };
  return [
    {
      data: { values },
      mark: { type: 'line', strokeDash: [5, 4], color: '#888', strokeWidth: 1.25, clip },
      encoding: { ...encoding, detail: { field: LABEL_FIELD, type: 'nominal' as const } },
    },
    {
      data: { values: guides.map((g) => g[0]) },
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -2, color: '#666', fontSize: 11 },
      encoding: { ...encoding, text: { field: LABEL_FIELD, type: 'nominal' as const } },
    },
  ];
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
