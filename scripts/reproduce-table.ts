/**
 * Writes the table of docs/REPRODUCE.md — claim → experiment → command → expected outcome → measured
 * value (quick and full) → time — from the `summary.json` files of a quick and a full reproduce run:
 *
 *   node bin/advbias.mjs reproduce --quick            # out/reproduce-quick/summary.json
 *   node bin/advbias.mjs reproduce                    # out/reproduce/summary.json
 *   node --import tsx scripts/reproduce-table.ts [QUICK_SUMMARY[,MORE…]] [FULL_SUMMARY[,MORE…]]
 *
 * One row per expectation: its threshold and the WORST measured value over the runs it covers (the
 * largest for < and ≤, the smallest for > and ≥), with how many of those runs passed. The table
 * replaces what lies between the `<!-- table:start -->` and `<!-- table:end -->` markers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ExpectationRow as Row } from '../src/experiments/runner.ts';
import { formatMeasured as fmt } from '../src/report/html.ts';
interface Summary {
  quick: boolean;
  seconds?: number;
  experiments: { id: string; claim: string; title: string; pass: boolean; runs: number; seconds: number; expectations: Row[] }[];
}

// Arguments: QUICK_SUMMARY FULL_SUMMARY, each a comma-separated list of summary.json files whose
// experiments are merged (a later file's experiment replaces an earlier one with the same id), so
// that an experiment added later can be measured alone and joined to a whole run.
const quickPaths = (process.argv[2] ?? 'out/reproduce-quick/summary.json').split(',');
const fullPaths = (process.argv[3] ?? 'out/reproduce/summary.json').split(',');
function read(paths: string[]): Summary | null {
  const docs = paths.filter((p) => existsSync(p)).map((p) => JSON.parse(readFileSync(p, 'utf8')) as Summary);
  if (docs.length === 0) return null;
  const merged: Summary = { ...docs[0], experiments: [] };
  for (const d of docs) for (const e of d.experiments) merged.experiments = [...merged.experiments.filter((x) => x.id !== e.id), e];
  return merged;
}
const quick = read(quickPaths);
const full = read(fullPaths);
if (!quick && !full) throw new Error(`none of ${[...quickPaths, ...fullPaths].join(', ')} exists: run reproduce first`);

/** Worst measured value of one expectation over its rows, and how many rows passed. */
function worst(rows: Row[]): string {
  if (rows.length === 0) return '—';
  const op = rows[0].expected.split(' ')[0];
  const values = rows.map((r) => r.measured);
  const passed = rows.filter((r) => r.pass).length;
  let w: number | null = null;
  if (values.some((v) => v === null)) w = null;
  else w = op === '<' || op === '<=' ? Math.max(...(values as number[])) : Math.min(...(values as number[]));
  return `${fmt(w)} (${passed}/${rows.length} ${passed === rows.length ? 'pass' : 'pass — FAIL'})`;
}

const ids = [...new Set([...(quick?.experiments ?? []), ...(full?.experiments ?? [])].map((e) => e.id))];
const lines = [
  '| claim | experiment | command | expected outcome | measured, quick (worst run) | measured, full (worst run) |',
  '|---|---|---|---|---|---|',
];
for (const id of ids) {
  const q = quick?.experiments.find((e) => e.id === id);
  const f = full?.experiments.find((e) => e.id === id);
  const e = (q ?? f)!;
  const expectationIds = [...new Set([...(q?.expectations ?? []), ...(f?.expectations ?? [])].map((r) => r.expectation))];
  expectationIds.forEach((x, k) => {
    const qr = q?.expectations.filter((r) => r.expectation === x) ?? [];
    const fr = f?.expectations.filter((r) => r.expectation === x) ?? [];
    const any = (qr[0] ?? fr[0])!;
    const head = k === 0;
    const time = (s: Summary['experiments'][number] | undefined): string => (s ? `${s.runs} runs, ${s.seconds.toFixed(0)} s` : 'not run');
    lines.push(
      `| ${head ? e.claim : ''} | ${head ? `\`${id}\`<br>quick: ${time(q)}<br>full: ${time(f)}` : ''} | ${head ? `\`reproduce ${id} [--quick]\`` : ''} | ${any.description}: \`${any.metric} ${any.expected}\` | ${worst(qr)} | ${worst(fr)} |`,
    );
  });
}
const total = (s: Summary | null): string => (s?.seconds !== undefined ? `${(s.seconds / 60).toFixed(1)} min` : 'not measured');
lines.push(
  '',
  `Whole run, wall clock, on this machine (2 cores, \`--jobs 2\`): quick ${total(quick)}, full ${total(full)}. The time given per experiment is the sum of its runs' times; runs went two at a time, so they shared the 2 cores (and the quick run above shared them with the full one).`,
);
const doc = 'docs/REPRODUCE.md';
const text = readFileSync(doc, 'utf8');
const start = '<!-- table:start -->';
const end = '<!-- table:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) throw new Error(`${doc} has no ${start} … ${end} markers`);
writeFileSync(doc, text.slice(0, a + start.length) + '\n' + lines.join('\n') + '\n' + text.slice(b));
console.log(`wrote ${lines.length - 3} rows to ${doc}`);
