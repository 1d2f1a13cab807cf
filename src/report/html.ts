/**
 * One self-contained HTML5 report of a `reproduce` run: overall result, a summary of the claims, a
 * table of contents, and per experiment its expectation table, figures (inline SVG), notes and the
 * runs with their configs and seeds. Pure string building, no Node API and no external resources
 * (no scripts, fonts, stylesheets or images by URL), so the file opens offline and in any browser.
 * The same input always gives the same output: every id is derived from experiment and figure ids.
 */
import { InputError } from '../errors.ts';
import { verdict } from '../experiments/claims.ts';

/** One expectation row of an experiment. */
export interface HtmlExpectationRow {
  expectation: string;
  description: string;
  run: string;
  metric: string;
  expected: string;
  /** `null`: the metric was not measured (shown as "not measured"). */
  measured: number | null;
  pass: boolean;
}

/** One figure: a complete `<svg …>…</svg>` document as vega renders it (an `<?xml?>` line is allowed). */
export interface HtmlFigure {
  id: string;
  title: string;
  svg: string;
}

/** One run of an experiment. */
export interface HtmlRun {
  label: string;
  seed: number;
  /** The run's content key; the report shows its first 12 characters. */
  key: string;
  reused: boolean;
  resumedFromStep: number | null;
  seconds: number;
  config: Record<string, unknown>;
}

/** One experiment of the report. */
export interface HtmlExperiment {
  id: string;
  claim: string;
  title: string;
  description: string;
  pass: boolean;
  seconds: number;
  table: HtmlExpectationRow[];
  figures: HtmlFigure[];
  notes: string[];
  runs: HtmlRun[];
}

/** One row of the claims summary. */
export interface HtmlClaimSummary {
  claim: string;
  experiments: number;
  expectations: number;
  passed: number;
  pass: boolean;
}

/** Everything the report shows. */
export interface HtmlReportInput {
  /** E.g. `"advbias reproduce --quick"`. */
  title: string;
  /** ISO time the report was generated. */
  generated: string;
  codeVersion: string;
  quick: boolean;
  pass: boolean;
  seconds: number;
  claims: HtmlClaimSummary[];
  experiments: HtmlExperiment[];
  /**
   * The verdict line, e.g. "All claims reproduced" (only when the claims are the paper's C1–C3) or
   * "All expectations met (claims: MY-CLAIM)". Default: from `pass` and `claims` (experiments/claims.ts).
   */
  verdict?: string;
}

/** Escapes text for HTML element content and (double- or single-quoted) attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/**
 * A measured value as the tables show it: `null` → "not measured"; |v| < 1e-3 or |v| ≥ 1e5 →
 * `toExponential(2)`; otherwise `toPrecision(4)`. Exactly 0 is "0", ±∞ "∞"/"−∞", NaN "NaN".
 */
export function formatMeasured(value: number | null): string {
  if (value === null) return 'not measured';
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs < 1e-3 || abs >= 1e5 ? value.toExponential(2) : value.toPrecision(4);
}

/** Seconds as the report shows them, e.g. "0.42 s", "12.3 s", "2 min 05 s". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const min = Math.floor(whole / 60);
  const sec = whole % 60;
  return `${min} min ${String(sec).padStart(2, '0')} s`;
}

/** An id-safe slug of `text` (letters, digits, `_` and `-` kept; anything else becomes `-`). */
function slug(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return s === '' ? 'x' : s;
}

/** Hands out unique ids in order of request: the first `base` stays, repeats get `-2`, `-3`, … */
class IdAllocator {
  private readonly used = new Set<string>();
  take(base: string): string {
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}

/** Everything before the root `<svg`: BOM, whitespace, `<?xml …?>`, comments and a DOCTYPE. */
const SVG_PROLOG = /^\uFEFF?\s*(?:<\?xml[\s\S]*?\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>)\s*)*/i;

/**
 * The SVG markup ready to sit inside HTML: prolog stripped, and every `id` (with its `url(#…)` and
 * `href="#…"` references) prefixed by `prefix`, so that clip paths and gradients of two figures on
 * one page never resolve to each other. Throws `InputError` for anything but one `<svg>` element,
 * or for markup that carries a `<script>` element.
 */
export function embedSvg(svg: string, prefix: string, field = 'svg'): string {
  const body = svg.replace(SVG_PROLOG, '').trimEnd();
  if (!/^<svg[\s>]/i.test(body) || !/<\/svg>$/i.test(body)) {
    throw new InputError(`figure ${field}: expected one <svg …>…</svg> document`, field);
  }
  if (/<script[\s>/]/i.test(body)) {
    throw new InputError(`figure ${field}: the SVG carries a script`, field);
  }
  const ids = new Set<string>();
  for (const m of body.matchAll(/\sid\s*=\s*(["'])(.*?)\1/g)) ids.add(m[2]!);
  if (ids.size === 0) return body;
  return body
    .replace(/(\sid\s*=\s*)(["'])(.*?)\2/g, (_all, a: string, q: string, id: string) => `${a}${q}${prefix}${id}${q}`)
    .replace(/url\(\s*(["']?)#([^"')\s]+)\1\s*\)/g, (all, q: string, id: string) =>
      ids.has(id) ? `url(${q}#${prefix}${id}${q})` : all,
    )
    .replace(/(\s(?:xlink:)?href\s*=\s*)(["'])#(.*?)\2/g, (all, a: string, q: string, id: string) =>
      ids.has(id) ? `${a}${q}#${prefix}${id}${q}` : all,
    );
}

/** JSON of a config for a `<pre>`: 2-space indent, bigint as string, non-finite numbers as strings. */
function prettyJson(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_key, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    2,
  );
  return text === undefined ? 'undefined' : text;
}

const e = escapeHtml;

function badge(pass: boolean): string {
  return pass ? '<span class="badge pass">PASS</span>' : '<span class="badge fail">FAIL</span>';
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d2330;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 1.6em; margin: 0 0 8px; }
h2 { font-size: 1.3em; margin: 0 0 8px; }
h3 { font-size: 1.05em; margin: 20px 0 8px; }
a { color: #1f5fbf; }
header.report { background: #fff; border: 1px solid #d6dae1; border-radius: 8px; padding: 16px 20px; margin-bottom: 20px; }
header.report.pass { border-left: 8px solid #1a7f37; }
header.report.fail { border-left: 8px solid #cf222e; }
.meta { color: #57606a; font-size: 0.92em; }
.meta span + span::before { content: " · "; }
.overall { font-size: 1.1em; margin: 6px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8em; font-weight: 600;
  letter-spacing: 0.03em; vertical-align: middle; }
.badge.pass { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
.badge.fail { background: #ffebe9; color: #a40e26; border: 1px solid #ff8182; }
.badge.claim { background: #eef1f6; color: #2f3a4d; border: 1px solid #c3cad6; }
.badge.quick { background: #fff8c5; color: #7d4e00; border: 1px solid #d4a72c; }
section { background: #fff; border: 1px solid #d6dae1; border-radius: 8px; padding: 16px 20px; margin: 0 0 20px; }
section.experiment.fail { border-left: 6px solid #cf222e; }
section.experiment.pass { border-left: 6px solid #1a7f37; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.fail td { background: #ffebe9; }
td.missing { color: #a40e26; font-style: italic; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.88em; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; overflow: auto; max-height: 28em; margin: 4px 0; }
figure { margin: 12px 0; text-align: center; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: 0.9em; margin-top: 4px; }
.desc { white-space: pre-wrap; }
ul.notes li { margin: 2px 0; }
nav.toc ol { margin: 4px 0; padding-left: 24px; }
details { margin-top: 12px; }
summary { cursor: pointer; font-weight: 600; }
.top { font-size: 0.85em; float: right; }
@media print { body { background: #fff; } section, header.report { break-inside: avoid-page; } details { display: block; } }
`;

function claimsTable(input: HtmlReportInput, claimAnchor: Map<string, string>): string {
  if (input.claims.length === 0) return '<p>No claims.</p>';
  const rows = input.claims.map((c) => {
    const anchor = claimAnchor.get(c.claim);
    const name = anchor ? `<a href="#${anchor}">${e(c.claim)}</a>` : e(c.claim);
    return (
      `<tr class="${c.pass ? 'pass' : 'fail'}"><td>${name}</td><td class="num">${c.experiments}</td>` +
      `<td class="num">${c.passed} / ${c.expectations}</td><td>${badge(c.pass)}</td></tr>`
    );
  });
  return (
    '<table class="claims"><thead><tr><th>Claim</th><th>Experiments</th><th>Expectations passed</th>' +
    `<th>Result</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`
  );
}

function expectationTable(rows: HtmlExpectationRow[]): string {
  if (rows.length === 0) return '<p class="meta">No expectations.</p>';
  const body = rows.map((r) => {
    const measured =
      r.measured === null
        ? '<td class="num missing">not measured</td>'
        : `<td class="num" title="${e(String(r.measured))}">${e(formatMeasured(r.measured))}</td>`;
    return (
      `<tr class="${r.pass ? 'pass' : 'fail'}"><td><code>${e(r.expectation)}</code> ${e(r.description)}</td>` +
      `<td>${e(r.run)}</td><td>${e(r.metric)}</td><td>${e(r.expected)}</td>${measured}<td>${badge(r.pass)}</td></tr>`
    );
  });
  return (
    '<table class="expectations"><thead><tr><th>Expectation</th><th>Run</th><th>Metric</th><th>Expected</th>' +
    `<th>Measured</th><th>Result</th></tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`
  );
}

function runsDetails(runs: HtmlRun[]): string {
  if (runs.length === 0) return '';
  const rows = runs.map((r) => {
    const resumed = r.resumedFromStep === null ? '—' : `step ${r.resumedFromStep}`;
    return (
      `<tr><td>${e(r.label)}</td><td class="num">${e(String(r.seed))}</td>` +
      `<td><code title="${e(r.key)}">${e(r.key.slice(0, 12))}</code></td><td>${r.reused ? 'yes' : 'no'}</td>` +
      `<td>${e(resumed)}</td><td class="num">${e(formatSeconds(r.seconds))}</td>` +
      `<td><pre>${e(prettyJson(r.config))}</pre></td></tr>`
    );
  });
  return (
    '<details class="runs"><summary>Runs, configs and seeds</summary>\n' +
    '<table class="runs"><thead><tr><th>Run</th><th>Seed</th><th>Key</th><th>Reused</th><th>Resumed from</th>' +
    `<th>Time</th><th>Config</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>\n</details>`
  );
}

function experimentSection(x: HtmlExperiment, anchor: string, ids: IdAllocator): string {
  const parts: string[] = [];
  parts.push(`<section class="experiment ${x.pass ? 'pass' : 'fail'}" id="${anchor}">`);
  parts.push(
    `<a class="top" href="#top">↑ top</a><h2>${e(x.title)} <span class="badge claim">${e(x.claim)}</span> ${badge(x.pass)}</h2>`,
  );
  parts.push(`<p class="meta"><span><code>${e(x.id)}</code></span><span>${e(formatSeconds(x.seconds))}</span></p>`);
  if (x.description !== '') parts.push(`<p class="desc">${e(x.description)}</p>`);
  parts.push('<h3>Expectations</h3>');
  parts.push(expectationTable(x.table));
  if (x.figures.length > 0) {
    parts.push('<h3>Figures</h3>');
    for (const f of x.figures) {
      const figId = ids.take(`${anchor}-fig-${slug(f.id)}`);
      const svg = embedSvg(f.svg, `${figId}-`, `${x.id}/${f.id}`);
      parts.push(`<figure id="${figId}">\n${svg}\n<figcaption>${e(f.title)}</figcaption></figure>`);
    }
  }
  if (x.notes.length > 0) {
    parts.push('<h3>Notes</h3>');
    parts.push(`<ul class="notes">${x.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>`);
  }
  const runs = runsDetails(x.runs);
  if (runs !== '') parts.push(runs);
  parts.push('</section>');
  return parts.join('\n');
}

/** The whole report as one HTML5 document (a string; the caller writes it, UTF-8). */
export function reportHtml(input: HtmlReportInput): string {
  const ids = new IdAllocator();
  ids.take('top');
  ids.take('summary');
  ids.take('contents');
  const anchors = input.experiments.map((x) => ids.take(`exp-${slug(x.id)}`));
  const claimAnchor = new Map<string, string>();
  input.experiments.forEach((x, i) => {
    if (!claimAnchor.has(x.claim)) claimAnchor.set(x.claim, anchors[i]!);
  });

  const toc = input.experiments
    .map(
      (x, i) =>
        `<li><a href="#${anchors[i]}">${e(x.title)}</a> <span class="badge claim">${e(x.claim)}</span> ${badge(x.pass)}</li>`,
    )
    .join('\n');
  const sections = input.experiments.map((x, i) => experimentSection(x, anchors[i]!, ids));

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(input.title)} — ${input.pass ? 'PASS' : 'FAIL'}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header class="report ${input.pass ? 'pass' : 'fail'}" id="top">`,
    `<h1>${e(input.title)}</h1>`,
    `<p class="overall">Overall: ${badge(input.pass)}${input.quick ? ' <span class="badge quick">quick</span>' : ''} ${e(input.verdict ?? verdict(input.claims, { pass: input.pass }))}</p>`,
    `<p class="meta"><span>code version <code>${e(input.codeVersion)}</code></span>` +
      `<span>generated ${e(input.generated)}</span><span>total ${e(formatSeconds(input.seconds))}</span>` +
      `<span>${input.experiments.length} experiment${input.experiments.length === 1 ? '' : 's'}</span></p>`,
    '</header>',
    '<section id="summary">',
    '<h2>Claims</h2>',
    claimsTable(input, claimAnchor),
    '</section>',
    '<nav class="toc" id="contents"><section>',
    '<h2>Contents</h2>',
    input.experiments.length > 0 ? `<ol>\n${toc}\n</ol>` : '<p>No experiments.</p>',
    '</section></nav>',
    ...sections,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
