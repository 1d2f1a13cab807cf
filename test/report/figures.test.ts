import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { InputError } from '../../src/errors.ts';
import {
  DEFAULT_HEIGHT,
  DEFAULT_WIDTH,
  lineFigure,
  pathFigure,
  PATH_SUBTITLE,
  wrapText,
  type FigurePoint,
  type FigureSpec,
} from '../../src/report/figures.ts';
import { renderFigure, svgToPng, writeFigure } from '../../src/node/render.ts';

/** Compiles with vega-lite and returns every warning and error it logged. */
function compileMessages(spec: FigureSpec): string[] {
  const messages: string[] = [];
  const logger = vega.logger(vega.Warn);
  logger.warn = (...args: readonly unknown[]) => (messages.push(args.map(String).join(' ')), logger);
  logger.error = (...args: readonly unknown[]) => (messages.push(args.map(String).join(' ')), logger);
  compile(spec, { logger });
  return messages;
}

/** Data rows of every layer that has inline data. */
function layerRows(spec: FigureSpec): Record<string, unknown>[][] {
  assert.ok('layer' in spec);
  return spec.layer.map((layer) => {
    const data = 'data' in layer ? layer.data : undefined;
    return data && 'values' in data && Array.isArray(data.values) ? (data.values as Record<string, unknown>[]) : [];
  });
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const steps = Array.from({ length: 41 }, (_, i) => Math.round(10 ** (i / 10)));
const curve = (scale: number): FigurePoint[] => steps.map((t) => ({ x: t, y: scale / t }));

function sampleLine(title = 'Direction error vs t') {
  return lineFigure({
    title,
    x: { field: 'step', title: 'step t', scale: 'log' },
    y: { field: 'angleDeg', title: 'direction error (°)', scale: 'log' },
    series: [
      { name: 'depth 2', points: curve(30) },
      { name: 'depth 3', points: curve(3) },
    ],
    referenceLines: [{ y: 1e-3, label: 'tolerance' }],
    width: 400,
    height: 260,
  });
}

function samplePath() {
  const eps = [0, 0.05, 0.1, 0.15, 0.2, 0.25];
  return pathFigure({
    title: 'ε-path',
    x: { field: 'eps', title: 'ε' },
    y: { field: 'angleDeg', title: 'angle (°)' },
    series: [
      { name: 'p = ∞', trained: eps.map((e) => ({ x: e, y: 18 + 40 * e + 0.1 })), predicted: eps.map((e) => ({ x: e, y: 18 + 40 * e })) },
      { name: 'p = 2', trained: eps.map((e) => ({ x: e, y: 18 + 5 * e })), predicted: eps.map((e) => ({ x: e, y: 18 + 5 * e })) },
    ],
  });
}

describe('figure specs', () => {
  it('lineFigure and pathFigure compile with vega-lite without warnings', () => {
    const line = sampleLine();
    const path = samplePath();
    assert.deepEqual(line.notes, []);
    assert.deepEqual(path.notes, []);
    assert.deepEqual(compileMessages(line.spec), []);
    assert.deepEqual(compileMessages(path.spec), []);
    const linear = lineFigure({ title: 'alignment', x: { title: 't' }, y: { title: 'rank-one ratio' }, series: [{ name: 'a', points: curve(1) }] });
    assert.deepEqual(compileMessages(linear.spec), []);
  });

  it('uses the documented defaults', () => {
    const { spec } = lineFigure({ title: 'T', x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'a', points: [{ x: 0, y: -1 }, { x: 1, y: 2 }] }] });
    assert.equal((spec as { width: number }).width, DEFAULT_WIDTH);
    assert.equal((spec as { height: number }).height, DEFAULT_HEIGHT);
    // linear axes keep zero and negative values; default fields are x and y
    assert.deepEqual(layerRows(spec)[0], [{ series: 'a', x: 0, y: -1 }, { series: 'a', x: 1, y: 2 }]);
    assert.equal(layerRows(spec).length, 1, 'no reference layers by default');
    assert.equal((samplePath().spec as { title: { subtitle: string } }).title.subtitle, PATH_SUBTITLE);
  });

  it('drops points a log axis cannot show, and missing values, with a note; never throws', () => {
    const { spec, notes } = lineFigure({
      title: 'log',
      x: { title: 't', scale: 'log' },
      y: { title: 'err', scale: 'log' },
      series: [
        { name: 'a', points: [{ x: 0, y: 1 }, { x: -1, y: 1 }, { x: 1, y: 0 }, { x: 2, y: null }, { x: 3, y: NaN }, { x: Infinity, y: 1 }, { x: 10, y: 0.5 }] },
        { name: 'empty', points: [{ x: 1, y: -2 }] },
      ],
      referenceLines: [{ y: 0, label: 'zero' }, { y: 0.1, label: 'limit' }],
    });
    const [values, rule] = layerRows(spec);
    assert.deepEqual(values, [{ series: 'a', x: 10, y: 0.5 }]);
    assert.deepEqual(rule, [{ y: 0.1, label: 'limit' }]);
    assert.deepEqual(notes, [
      "reference line 'zero': dropped (y = 0 is ≤ 0 on a log y axis)",
      "series 'a': dropped 3 of 7 points with a missing or non-finite coordinate",
      "series 'a': dropped 2 of 7 points with x ≤ 0 (log x axis)",
      "series 'a': dropped 1 of 7 points with y ≤ 0 (log y axis)",
      "series 'empty': dropped 1 of 1 points with y ≤ 0 (log y axis)",
      "series 'empty': nothing to draw",
    ]);
    assert.deepEqual(compileMessages(spec), []);
  });

  it('puts log-axis ticks on whole decades, labelled 10ᵉ', async () => {
    const { spec } = sampleLine();
    const encoding = (spec as { layer: { encoding: { x: { axis: { values: number[] } }; y: { axis: { values: number[] } } } }[] }).layer[0].encoding;
    assert.deepEqual(encoding.x.axis.values, [1, 10, 100, 1000, 10000]);
    assert.deepEqual(encoding.y.axis.values, [1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100]);
    const { svg } = await renderFigure(spec);
    for (const label of ['10⁰', '10⁴', '10⁻⁴', '10²']) assert.ok(svg.includes(`>${label}</text>`), label);
    // Less than a decade of data: vega's own ticks, and no rounding out to whole decades.
    const narrow = lineFigure({ title: 'γ̄', x: { title: 't' }, y: { title: 'γ̄', scale: 'log' }, series: [{ name: 'a', points: [{ x: 1, y: 0.06 }, { x: 2, y: 0.15 }] }] });
    const y = (narrow.spec as { layer: { encoding: { y: { axis: object; scale: object } } }[] }).layer[0].encoding.y;
    assert.deepEqual(y.scale, { type: 'log', nice: false });
    assert.ok(!('values' in y.axis));
    assert.deepEqual(compileMessages(narrow.spec), []);
  });

  it('rejects bad options with an InputError naming the option', () => {
    const base = { title: 'T', x: { title: 'x' }, y: { title: 'y' } };
    const a = { name: 'a', points: [] };
    assert.throws(() => lineFigure({ ...base, series: [a, a] }), (e: unknown) => e instanceof InputError && e.field === 'series');
    assert.throws(() => lineFigure({ ...base, x: { title: 'x', field: 'a.b' }, series: [] }), (e: unknown) => e instanceof InputError && e.field === 'x.field');
    assert.throws(() => lineFigure({ ...base, y: { title: 'y', scale: 'log', domain: [0, 1] }, series: [] }), (e: unknown) => e instanceof InputError && e.field === 'y.domain');
    assert.throws(() => lineFigure({ ...base, width: 10, series: [] }), (e: unknown) => e instanceof InputError && e.field === 'width');
  });
});

describe('rendering', () => {
  it('gives an SVG with the title and a PNG of the requested size', async () => {
    const { spec } = sampleLine('Direction error of β/‖β‖ (ε = 0.25)');
    const { svg, png, warnings } = await renderFigure(spec);
    assert.deepEqual(warnings, []);
    assert.ok(svg.startsWith('<svg'));
    assert.ok(svg.includes('>Direction error of β/‖β‖ (ε = 0.25)</text>'));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    assert.deepEqual(pngSize(png), { width: 800, height: 520 }, 'width × height at the default pixel ratio 2');
    assert.deepEqual(pngSize((await renderFigure(spec, { pixelRatio: 1 })).png), { width: 400, height: 260 });
  });

  it('draws the text into the PNG (and the check would see missing fonts)', async () => {
    const title = 'Direction error vs t';
    const { svg } = await renderFigure(sampleLine(title).spec);
    const untitled = svg.replace(`>${title}</text>`, '></text>');
    assert.notEqual(untitled, svg);
    assert.notDeepEqual(svgToPng(svg), svgToPng(untitled), 'the title changes pixels');
    // With no font at all resvg silently skips text: the same comparison then finds no difference.
    assert.deepEqual(svgToPng(svg, { fontFiles: [] }), svgToPng(untitled, { fontFiles: [] }));
    assert.throws(() => svgToPng(svg, { fontFiles: ['/nonexistent/font.ttf'] }), (e: unknown) => e instanceof InputError && e.field === 'fontFiles');
  });

  it('renders the same spec to the same SVG bytes, also concurrently', async () => {
    const { spec } = lineFigure({
      title: 'clipped',
      x: { title: 't', scale: 'log', domain: [1, 100] },
      y: { title: 'err', domain: [0, 1] },
      series: [{ name: 'a', points: curve(1) }],
    });
    const copy = structuredClone(spec);
    const first = await renderFigure(spec);
    assert.deepStrictEqual(spec, copy, 'rendering leaves the spec as it was (vega tags the rows it ingests)');
    const second = await renderFigure(spec);
    assert.ok(first.svg.includes('clip-path'), 'clip paths carry numbered ids: the case that needs care');
    assert.equal(second.svg, first.svg);
    assert.deepEqual(second.png, first.png);
    const [a, b] = await Promise.all([renderFigure(spec), renderFigure(samplePath().spec)]);
    assert.equal(a.svg, first.svg);
    assert.equal(b.svg, (await renderFigure(samplePath().spec)).svg);
  });

  it('writeFigure writes NAME.svg, NAME.png and NAME.vl.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'advbias-fig-'));
    try {
      const { spec } = samplePath();
      const written = await writeFigure(spec, join(dir, 'figs'), 'eps-path');
      assert.equal(written.svg, join(dir, 'figs', 'eps-path.svg'));
      assert.deepEqual(JSON.parse(await readFile(written.spec, 'utf8')), spec);
      assert.ok((await readFile(written.svg, 'utf8')).includes('>ε-path</text>'));
      assert.deepEqual([...(await readFile(written.png)).subarray(0, 8)], PNG_SIGNATURE);
      await assert.rejects(writeFigure(spec, dir, '../x'), (e: unknown) => e instanceof InputError && e.field === 'name');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Every string in a spec (titles, axis titles, legend titles, label expressions, data labels). */
function specStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) specStrings(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) specStrings(v, out);
  return out;
}

/** Every line of text an SVG draws (a `<text>` element, or each `<tspan>` line of a multi-line one). */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/gs)].flatMap((m) => m[1].split(/<tspan[^>]*>/).map((t) => t.replace(/<\/tspan>/g, '')).filter((t) => t !== ''));
}

describe('titles and legends are wrapped, never cut', () => {
  const longTitle =
    'S2, ε = 0.25: min over layers of the rank-one ratio σ₁(W_k)/‖W_k‖_F and of the adjacent alignment |⟨v_(k+1), u_k⟩| of a deep linear network trained adversarially with the exact worst case';
  const longNames = ['model=diagonal-pm L=4 p=∞ ε/γ_q*=0.75 initScale=0.1 seed=0', 'model=diagonal-pm L=4 p=∞ ε/γ_q*=0.75 initScale=1 seed=0'];

  it('wrapText keeps every character and never exceeds the width', () => {
    const lines = wrapText(longTitle, 40);
    assert.ok(lines.length > 1);
    for (const line of lines) assert.ok(line.length <= 40, line);
    assert.equal(lines.join(' '), longTitle);
    assert.deepEqual(wrapText('abcdefghij', 4), ['abcd', 'efgh', 'ij'], 'a word longer than a line is split');
  });

  it('a long title becomes several lines, and the rendered SVG has every word and no ellipsis', async () => {
    const { spec } = lineFigure({ title: longTitle, subtitle: longTitle, x: { title: 't', scale: 'log' }, y: { title: 'y' }, series: longNames.map((name, i) => ({ name, points: curve(i + 1) })) });
    const title = (spec as { title: { text: string[]; subtitle: string[] } }).title;
    assert.ok(Array.isArray(title.text) && title.text.length > 1, 'title wrapped into lines');
    assert.ok(Array.isArray(title.subtitle) && title.subtitle.length > 1, 'subtitle wrapped into lines');
    const { svg, warnings } = await renderFigure(spec);
    assert.deepEqual(warnings, []);
    const texts = svgTexts(svg);
    for (const t of texts) assert.ok(!t.includes('…'), `cut text: ${t}`);
    const all = texts.join(' ');
    for (const word of longTitle.split(' ')) assert.ok(all.includes(word.replace(/&/g, '&amp;').replace(/</g, '&lt;')), `missing title word ${word}`);
    // Legend names longer than a legend line are wrapped (a labelExpr lookup), every part drawn.
    for (const name of longNames) for (const word of name.split(' ')) assert.ok(all.includes(word), `missing legend word ${word}`);
  });
});

describe('colour and dash groups', () => {
  it('colour follows the colour group, dash the dash group, one line per series', () => {
    const series = [
      { name: 'L=2 p=1', color: 'p=1', dash: 'L=2', points: curve(1) },
      { name: 'L=3 p=1', color: 'p=1', dash: 'L=3', points: curve(2) },
      { name: 'L=3 p=∞', color: 'p=∞', dash: 'L=3', points: curve(3) },
    ];
    const { spec } = lineFigure({ title: 'T', x: { title: 't', scale: 'log' }, y: { title: 'y', scale: 'log' }, series, colors: { 'p=∞': '#e45756' }, dashes: { 'L=3': [2, 2] }, dashTitle: 'depth' });
    assert.deepEqual(compileMessages(spec), []);
    const enc = (spec as { layer: { encoding: Record<string, { field: string; scale?: { domain: string[]; range: unknown[] }; legend?: { title: string } }> }[] }).layer[0].encoding;
    assert.equal(enc.strokeDash.field, 'dash');
    assert.deepEqual(enc.strokeDash.scale!.domain, ['L=2', 'L=3']);
    assert.deepEqual(enc.strokeDash.scale!.range[1], [2, 2], 'a fixed dash pattern is used');
    assert.equal(enc.strokeDash.legend!.title, 'depth');
    assert.equal(enc.color.field, 'color');
    assert.deepEqual(enc.color.scale!.domain, ['p=1', 'p=∞']);
    assert.equal(enc.color.scale!.range[1], '#e45756', 'a fixed colour is used');
    assert.equal(enc.detail.field, 'series');
    for (const row of layerRows(spec)[0]) {
      const s = series.find((x) => x.name === row.series)!;
      assert.equal(row.color, s.color);
      assert.equal(row.dash, s.dash);
    }
  });
});

describe('power-law guide lines', () => {
  it('a dashed guide of slope −1 on log–log axes, ending at the data\'s last x, labelled', () => {
    const { spec, notes } = lineFigure({ title: 'T', x: { field: 'step', title: 't', scale: 'log' }, y: { field: 'err', title: 'e', scale: 'log' }, series: [{ name: 'a', points: curve(30) }, { name: 'b', points: curve(3) }], guides: [{ slope: -1, label: '∝ 1/t' }] });
    assert.deepEqual(notes, []);
    assert.deepEqual(compileMessages(spec), []);
    const layers = (spec as { layer: { mark: { type: string; strokeDash?: number[] }; data: { values: Record<string, number | string>[] } }[] }).layer;
    const guide = layers.find((l) => l.mark.type === 'line' && l.mark.strokeDash !== undefined);
    assert.ok(guide, 'a dashed line layer');
    const [start, end] = guide.data.values;
    assert.equal(end.step, 10000, 'ends at the last step drawn');
    assert.equal(start.step, 100, 'starts two decades earlier');
    const tol = 1e-12;
    assert.ok(Math.abs((start.err as number) * (start.step as number) - (end.err as number) * (end.step as number)) <= tol * (end.err as number) * (end.step as number), 'y·t is constant: slope −1');
    assert.ok(Math.abs((end.err as number) - Math.sqrt((30 / 10000) * (3 / 10000))) <= tol, 'at the geometric mean of the curves\' last values');
    const label = layers.find((l) => l.mark.type === 'text');
    assert.equal(label?.data.values[0].label, '∝ 1/t');
  });

  it('is dropped with a note on a linear axis', () => {
    const { spec, notes } = lineFigure({ title: 'T', x: { title: 't', scale: 'log' }, y: { title: 'e' }, series: [{ name: 'a', points: curve(1) }], guides: [{ slope: -1, label: '∝ 1/t' }] });
    assert.equal(layerRows(spec).length, 1, 'no guide layers');
    assert.deepEqual(notes, ["guide lines '∝ 1/t': dropped (they need log x and log y axes)"]);
    assert.deepEqual(specStrings(spec).filter((s) => s.includes('1/t')), []);
  });
});
