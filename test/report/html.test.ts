import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { lineFigure } from '../../src/report/figures.ts';
import {
  embedSvg,
  escapeHtml,
  formatMeasured,
  reportHtml,
  type HtmlReportInput,
} from '../../src/report/html.ts';
import { renderFigure } from '../../src/node/render.ts';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

/** Like vega's output: an xml declaration, namespaces, a clip path referenced by url(#…). */
const SVG_WITH_DECL =
  `<?xml version="1.0" encoding="UTF-8"?>\n` +
  `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" class="marks" width="200" height="100" viewBox="0 0 200 100">` +
  `<defs><clipPath id="clip1"><rect x="0" y="0" width="200" height="100"/></clipPath></defs>` +
  `<g clip-path="url(#clip1)"><path d="M0,0L200,100" stroke="#4c78a8"/><text>ε &lt; 1 ‖w‖</text></g></svg>`;

const SVG_PLAIN = `<svg xmlns="${SVG_NS}" width="10" height="10" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>`;

function sample(): HtmlReportInput {
  return {
    title: 'advbias reproduce --quick',
    generated: '2024-05-01T12:00:00.000Z',
    codeVersion: 'abc1234-dirty',
    quick: true,
    pass: false,
    seconds: 83.25,
    claims: [
      { claim: 'C1', experiments: 1, expectations: 2, passed: 2, pass: true },
      { claim: 'C2 & <co>', experiments: 1, expectations: 2, passed: 1, pass: false },
    ],
    experiments: [
      {
        id: 'c1.linear-path',
        claim: 'C1',
        title: 'Linear ε-path',
        description: 'Checks that ‖w‖ grows; uses <script>alert("x")</script> & friends',
        pass: true,
        seconds: 4.5,
        table: [
          { expectation: 'E1', description: 'error < 1e-3', run: 'eps=0.1', metric: 'dirErr', expected: '< 1e-3', measured: 2.5e-5, pass: true },
          { expectation: 'E2', description: 'margin', run: "it's", metric: 'gamma', expected: '≈ 0.5', measured: 0.49871234, pass: true },
        ],
        figures: [
          { id: 'path', title: 'ε-path <trained vs predicted>', svg: SVG_WITH_DECL },
          { id: 'path', title: 'second figure, same id', svg: SVG_WITH_DECL },
        ],
        notes: ['dropped 2 points with y ≤ 0 & log scale'],
        runs: [
          {
            label: 'eps=0.1 <a>',
            seed: 7,
            key: '0123456789abcdef0123456789abcdef',
            reused: true,
            resumedFromStep: null,
            seconds: 1.25,
            config: { eps: 0.1, name: '<b>"q"</b>', nested: { lr: 1e-3 } },
          },
        ],
      },
      {
        id: 'c2/conv',
        claim: 'C2 & <co>',
        title: 'Conv nets',
        description: 'plain',
        pass: false,
        seconds: 200,
        table: [
          { expectation: 'E1', description: 'ok row', run: 'r', metric: 'm', expected: '> 0', measured: 123456, pass: true },
          { expectation: 'E2', description: 'missing row', run: 'r', metric: 'kkt', expected: '< 1e-2', measured: null, pass: false },
        ],
        figures: [{ id: 'trace', title: 'trace', svg: SVG_PLAIN }],
        notes: [],
        runs: [
          { label: 'r', seed: 1, key: 'fedcba9876543210', reused: false, resumedFromStep: 300, seconds: 199.5, config: {} },
        ],
      },
    ],
  };
}

describe('reportHtml', () => {
  const html = reportHtml(sample());

  it('is one HTML5 document with a UTF-8 meta and inline style', () => {
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.match(html, /<meta charset="utf-8">/);
    assert.match(html, /<style>[\s\S]*<\/style>/);
    assert.equal(html.match(/<html[\s>]/g)?.length, 1);
    assert.ok(html.trimEnd().endsWith('</html>'));
  });

  it('references nothing external: no link, script, @import or url(http', () => {
    assert.doesNotMatch(html, /<link[\s>]/i);
    assert.doesNotMatch(html, /<script[\s>]/i);
    assert.doesNotMatch(html, /@import/i);
    assert.doesNotMatch(html, /url\(\s*['"]?\s*(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /\ssrc\s*=/i);
    // the only absolute URLs are the SVG namespace declarations
    const withoutNs = html.replace(/\sxmlns(?::\w+)?="[^"]*"/g, '');
    assert.doesNotMatch(withoutNs, /https?:\/\//);
  });

  it('escapes all text', () => {
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends'));
    assert.ok(html.includes('ε-path &lt;trained vs predicted&gt;'));
    assert.ok(html.includes('C2 &amp; &lt;co&gt;'));
    assert.ok(html.includes('it&#39;s'));
    assert.ok(html.includes('eps=0.1 &lt;a&gt;'));
    assert.ok(html.includes('&lt;b&gt;\\&quot;q\\&quot;&lt;/b&gt;'), 'config JSON is escaped');
    assert.ok(html.includes('Checks that ‖w‖ grows'));
    assert.ok(!html.includes('<co>'));
    assert.ok(!html.includes('<b>'));
  });

  it('embeds the SVG without its xml declaration, with unique ids and a caption', () => {
    assert.ok(!html.includes('<?xml'));
    const svgs = html.match(/<svg[\s>]/g) ?? [];
    assert.equal(svgs.length, 3);
    // both copies keep working clip paths that do not collide
    assert.ok(html.includes('id="exp-c1-linear-path-fig-path-clip1"'));
    assert.ok(html.includes('clip-path="url(#exp-c1-linear-path-fig-path-clip1)"'));
    assert.ok(html.includes('id="exp-c1-linear-path-fig-path-2-clip1"'));
    assert.ok(html.includes('clip-path="url(#exp-c1-linear-path-fig-path-2-clip1)"'));
    assert.ok(!html.includes('"url(#clip1)"'));
    // SVG text markup is left as it was, not double-escaped
    assert.ok(html.includes('<text>ε &lt; 1 ‖w‖</text>'));
    assert.match(html, /<\/svg>\n<figcaption>ε-path &lt;trained vs predicted&gt;<\/figcaption>/);
    assert.match(html, /figure svg \{ max-width: 100%; height: auto; \}/);
  });

  it('has an anchor per experiment, linked from the contents', () => {
    assert.ok(html.includes('id="exp-c1-linear-path"'));
    assert.ok(html.includes('id="exp-c2-conv"'));
    assert.ok(html.includes('href="#exp-c1-linear-path"'));
    assert.ok(html.includes('href="#exp-c2-conv"'));
    const ids = [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  });

  it('marks failing rows and unmeasured values', () => {
    assert.match(html, /<tr class="fail"><td><code>E2<\/code> missing row<\/td>/);
    assert.ok(html.includes('<td class="num missing">not measured</td>'));
    assert.match(html, /<section class="experiment fail" id="exp-c2-conv">/);
    assert.match(html, /<header class="report fail"/);
    assert.match(html, /Overall: <span class="badge fail">FAIL<\/span>/);
  });

  it('formats measured values, keys, runs and the summary', () => {
    assert.ok(html.includes('>2.50e-5<'));
    assert.ok(html.includes('>0.4987<'));
    assert.ok(html.includes('>1.23e+5<'));
    assert.ok(html.includes('<code title="0123456789abcdef0123456789abcdef">0123456789ab</code>'));
    assert.ok(html.includes('step 300'));
    assert.ok(html.includes('<summary>Runs, configs and seeds</summary>'));
    assert.ok(html.includes('abc1234-dirty'));
    assert.ok(html.includes('2024-05-01T12:00:00.000Z'));
    assert.ok(html.includes('<td class="num">1 / 2</td>'));
    assert.ok(html.includes('&quot;eps&quot;: 0.1'), 'pretty JSON');
  });

  it('is deterministic', () => {
    assert.equal(reportHtml(sample()), html);
  });
});

describe('html helpers', () => {
  it('escapeHtml escapes the five characters', () => {
    assert.equal(escapeHtml(`a&b<c>d"e'f`), 'a&amp;b&lt;c&gt;d&quot;e&#39;f');
  });

  it('formatMeasured', () => {
    assert.equal(formatMeasured(null), 'not measured');
    assert.equal(formatMeasured(0), '0');
    assert.equal(formatMeasured(1e-3), '0.001000');
    assert.equal(formatMeasured(9.99e-4), '9.99e-4');
    assert.equal(formatMeasured(-12345.678), '-1.235e+4');
    assert.equal(formatMeasured(1e5), '1.00e+5');
    assert.equal(formatMeasured(Number.NaN), 'NaN');
    assert.equal(formatMeasured(-Infinity), '−∞');
  });

  it('embedSvg rejects non-SVG and scripts', () => {
    assert.throws(() => embedSvg('<div></div>', 'p-'), InputError);
    assert.throws(() => embedSvg(`<svg xmlns="${SVG_NS}"><script>x()</script></svg>`, 'p-'), InputError);
    assert.equal(embedSvg(`\uFEFF<?xml version="1.0"?>\n<!-- c -->\n${SVG_PLAIN}\n`, 'p-'), SVG_PLAIN);
  });

  it('embeds a real vega SVG with prefixed ids that all resolve', async () => {
    const { spec } = lineFigure({
      title: 'T',
      x: { title: 'x' },
      y: { title: 'y', domain: [0, 1.5] },
      series: [{ name: 'a', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }] }],
    });
    const { svg } = await renderFigure(spec);
    assert.match(svg, /url\(#/, 'a fixed domain makes vega clip the marks');
    const input = sample();
    input.experiments[0]!.figures = [
      { id: 'f', title: 'one', svg },
      { id: 'f', title: 'two', svg },
    ];
    const html = reportHtml(input);
    const ids = new Set([...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]));
    const refs = [...html.matchAll(/url\(#([^)]*)\)|href="#([^"]*)"/g)].map((m) => m[1] ?? m[2]);
    assert.ok(refs.length >= 2);
    for (const ref of refs) assert.ok(ids.has(ref), `reference #${ref} resolves`);
    assert.doesNotMatch(html.replace(/\sxmlns(?::\w+)?="[^"]*"/g, ''), /https?:\/\//);
  });
});
