/**
 * `advbias runs list | show | export | compare`: read the run store that `advbias reproduce` and
 * `advbias train` fill (src/store/run-store.ts, opened by src/node/store.ts). Read-only: these
 * commands never create a store nor change one.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { prepareOutFile } from '../node/out-path.ts';
import { dirname, extname, join } from 'node:path';
import { InputError } from '../errors.ts';
import { DEFAULT_STORE_PATH, RUN_STATUSES, openRunStore, type RunFilter, type RunStore, type RunSummary, type StoredRun } from '../node/store.ts';
import { parseStoreLocation } from '../store/run-store.ts';
import { CONFIG_COLUMNS, csvCell, effectiveConfig, historyLong, scalarFields } from '../store/run-tables.ts';
import { compareFigure, defaultCompareMetric } from '../report/compare.ts';
import { renderSvg, svgToPng } from '../node/render.ts';

export interface RunsListFlags {
  store?: string;
  force?: boolean;
  experiment?: string;
  status?: string;
  json?: boolean;
}

export interface RunsShowFlags {
  store?: string;
  force?: boolean;
  json?: boolean;
}

export interface RunsExportFlags {
  store?: string;
  force?: boolean;
  experiment?: string;
  format?: string;
  history?: boolean;
  out?: string;
}

export interface RunsCompareFlags {
  store?: string;
  metric?: string;
  out?: string;
  logY?: boolean;
}

/** Final values shown by `runs list` when the runs have them: [field, column title]. */
const LIST_FINAL_COLUMNS: [string, string][] = [
  ['adversarialNormalizedMargin', 'adv. margin'],
  ['referenceAngleDeg', 'angle (deg)'],
];

/** Opens an existing store; a missing file is bad input (exit 2), never created here. */
async function openExisting(location: string | undefined): Promise<RunStore> {
  const p = location ?? DEFAULT_STORE_PATH;
  const where = parseStoreLocation(p);
  if (where.kind === 'sqlite' && !existsSync(where.path)) throw new InputError(`no run store at ${p} (run \`advbias reproduce\` or \`advbias train\` first)`, 'store');
  return openRunStore(p);
}

async function withStore<T>(location: string | undefined, f: (store: RunStore) => Promise<T>): Promise<T> {
  const store = await openExisting(location);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

/** A damaged run as one line: the store, the run's id and key, what cannot be read. */
function damagedText(location: string, r: RunSummary): string {
  return `the run store "${location}": run ${r.id} (key ${r.key}) is damaged: ${r.damaged} cannot be read`;
}

/**
 * Runs whose documents cannot be read: an InputError naming the store and the first of them and
 * offering --force; with --force they are left out, each named on stderr.
 */
function withoutDamaged<T extends RunSummary>(location: string, runs: T[], force: boolean | undefined, forceDoes: string): T[] {
  const bad = runs.filter((r) => r.damaged !== undefined);
  if (bad.length === 0) return runs;
  if (!force) throw new InputError(`${damagedText(location, bad[0])}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}; pass --force to ${forceDoes}`, 'store');
  for (const r of bad) process.stderr.write(`advbias: note: left out: ${damagedText(location, r)}\n`);
  return runs.filter((r) => r.damaged === undefined);
}

function filterOf(flags: { experiment?: string; status?: string }): RunFilter {
  if (flags.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(flags.status))
    throw new InputError(`--status "${flags.status}" is not one of ${RUN_STATUSES.join(' | ')}`, 'status');
  return { experiment: flags.experiment, status: flags.status };
}

/**
 * Plain JSON of a stored value: Float64Arrays (any typed array) as arrays, non-finite numbers as
 * null (JSON has no NaN/Infinity), as in every other `--json` output of advbias.
 */
export function plainJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'number') return Number.isFinite(v) ? v : null;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    indent,
  );
}

function fmtNumber(v: unknown): string {
  if (typeof v !== 'number') return v === undefined || v === null ? '' : String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : Number(v.toPrecision(5)).toString();
}

function secondsOf(r: RunSummary): number | null {
  if (!r.startedAt || !r.endedAt) return null;
  const s = (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000;
  return Number.isFinite(s) ? s : null;
}

const shortTime = (iso: string | null): string => (iso ? iso.slice(0, 19).replace('T', ' ') : '');

function table(header: string[], rows: string[][], rightAlign: Set<number>): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, j) => (rightAlign.has(j) ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** `advbias runs list`: a table of the stored runs (or a JSON array with --json). */
export async function runsListCommand(flags: RunsListFlags): Promise<number> {
  const filter = filterOf(flags);
  const path = flags.store ?? DEFAULT_STORE_PATH;
  const runs = withoutDamaged(path, await withStore(flags.store, (s) => s.list(filter)), flags.force, 'list the others');
  if (flags.json) {
    process.stdout.write(plainJson(runs.map((r) => ({ ...r, seconds: secondsOf(r) }))) + '\n');
    return 0;
  }
  if (runs.length === 0) {
    const what = [flags.experiment && `experiment ${flags.experiment}`, flags.status && `status ${flags.status}`].filter(Boolean).join(', ');
    process.stdout.write(`no runs in ${path}${what ? ` with ${what}` : ''}\n`);
    return 0;
  }
  const finals = LIST_FINAL_COLUMNS.filter(([f]) => runs.some((r) => r.final && f in r.final));
  const header = ['id', 'experiment', 'label', 'status', 'seed', 'started (UTC)', 'seconds', ...finals.map(([, t]) => t)];
  const rows = runs.map((r) => {
    const s = secondsOf(r);
    return [
      String(r.id),
      r.experiment ?? '',
      r.label ?? '',
      r.status,
      r.seed === null ? '' : String(r.seed),
      shortTime(r.startedAt),
      s === null ? '' : s.toFixed(1),
      ...finals.map(([f]) => fmtNumber(r.final?.[f])),
    ];
  });
  const right = new Set([0, 4, 6, ...finals.map((_, j) => 7 + j)]);
  process.stdout.write(table(header, rows, right));
  return 0;
}

async function findRun(store: RunStore, id: string): Promise<StoredRun> {
  const run = /^\d+$/.test(id) ? await store.get(Number(id)) : await store.get(id);
  if (!run) throw new InputError(`no run with id ${JSON.stringify(id)} in ${store.location} (see \`advbias runs list\`)`, 'id');
  return run;
}

function describeValue(v: unknown): string {
  if (typeof v === 'number') return fmtNumber(v);
  if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    const a = Array.from(v as ArrayLike<unknown>);
    const shown = a.slice(0, 6).map((x) => (typeof x === 'number' ? fmtNumber(x) : plainJson(x)));
    return `[${shown.join(', ')}${a.length > 6 ? `, … (${a.length} values)` : ''}]`;
  }
  return plainJson(v);
}

/** `advbias runs show ID`: one run as text (or the stored run as one JSON object with --json). */
export async function runsShowCommand(id: string, flags: RunsShowFlags): Promise<number> {
  const { run, checkpoint } = await withStore(flags.store, async (s) => {
    const r = await findRun(s, id);
    if (r.damaged !== undefined && !flags.force) throw new InputError(`${damagedText(s.location, r)}; pass --force to show what can be read`, 'store');
    return { run: r, checkpoint: await s.loadCheckpoint(r.key).catch(() => null) };
  });
  if (flags.json) {
    process.stdout.write(plainJson(run) + '\n');
    return 0;
  }
  const s = secondsOf(run);
  const lines = [
    `run ${run.id}: ${run.experiment ?? '?'} · ${run.label ?? ''}`,
    `  key           ${run.key}`,
    `  status        ${run.status}${run.error ? `: ${run.error}` : ''}`,
    `  seed          ${run.seed ?? ''}`,
    `  code version  ${run.codeVersion ?? ''}`,
    `  started       ${run.startedAt ?? ''}`,
    `  ended         ${run.endedAt ?? ''}${s === null ? '' : ` (${s.toFixed(1)} s)`}`,
  ];
  if (checkpoint) lines.push(`  checkpoint    step ${checkpoint.step}`);
  lines.push(`  history       ${run.history ? `${run.history.length} rows` : 'none'}`);
  if (run.damaged !== undefined) lines.push(`  damaged       ${run.damaged}`);
  const section = (title: string, doc: unknown): void => {
    if (doc === null || typeof doc !== 'object') return;
    const entries = Object.entries(doc as Record<string, unknown>).filter(([, v]) => v !== undefined);
    lines.push(`${title}:`);
    const width = Math.max(0, ...entries.map(([k]) => k.length));
    for (const [k, v] of entries) lines.push(`  ${k.padEnd(width)}  ${describeValue(v)}`);
  };
  section('config', run.config);
  section('final', run.final);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

const CSV_BASE_COLUMNS = ['id', 'key', 'experiment', 'label', 'status', 'seed', 'code_version', 'started_at', 'ended_at'] as const;
/** Columns of the long history CSV before each value's step, metric and value. */
const HISTORY_CSV_COLUMNS = ['id', 'experiment', 'label', 'seed', ...CONFIG_COLUMNS, 'step', 'metric', 'value'] as const;

function writeText(out: string | undefined, text: string): void {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    throw new InputError(`cannot write "${out}": ${(e as Error).message}`, 'out');
  }
}

/** One row per run: metadata, config columns, then the scalar fields of the final measurement. */
function runsCsv(runs: StoredRun[]): string {
  const finals = runs.map((r) => scalarFields(r.final));
  const seen = new Set<string>([...CSV_BASE_COLUMNS, ...CONFIG_COLUMNS]);
  // A final field named like a metadata or config column gets a `final.` prefix (never dropped).
  const finalColumns: { field: string; title: string }[] = [];
  const added = new Set<string>();
  for (const f of finals)
    for (const k of f.keys())
      if (!added.has(k)) {
        added.add(k);
        finalColumns.push({ field: k, title: seen.has(k) ? `final.${k}` : k });
      }
  const lines = [[...CSV_BASE_COLUMNS, ...CONFIG_COLUMNS, ...finalColumns.map((c) => c.title)].map(csvCell).join(',')];
  runs.forEach((r, i) => {
    const config = effectiveConfig(r);
    const base = [r.id, r.key, r.experiment, r.label, r.status, r.seed, r.codeVersion, r.startedAt, r.endedAt];
    lines.push([...base, ...CONFIG_COLUMNS.map((c) => config[c]), ...finalColumns.map((c) => finals[i].get(c.field))].map(csvCell).join(','));
  });
  return lines.join('\n') + '\n';
}

/** The histories as one long table: a row per (run, step, metric), with the run's id, label and config. */
function historyCsv(runs: StoredRun[]): string {
  const lines = [HISTORY_CSV_COLUMNS.join(',')];
  for (const r of runs) {
    if (!r.history) continue;
    const config = effectiveConfig(r);
    const prefix = [r.id, r.experiment, r.label, r.seed, ...CONFIG_COLUMNS.map((c) => config[c])].map(csvCell).join(',');
    for (const cell of historyLong(r.history)) lines.push(`${prefix},${csvCell(cell.step)},${csvCell(cell.metric)},${csvCell(cell.value)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * `advbias runs export --format csv|json [--history]`: csv, one row per run with its metadata,
 * its config (model, depth, width, p, eps, attack, steps, schedule, lr, data) and the scalar fields
 * of its final measurement (nested ones as dotted names); with --history, the histories of the done
 * runs as a long csv, one row per (run, step, metric); json, an array of the full stored runs
 * (non-finite numbers as null). CSV numbers are exact (shortest round-trip form; NaN and ±Infinity
 * written as such).
 */
export async function runsExportCommand(flags: RunsExportFlags): Promise<number> {
  const format = flags.format ?? (flags.history ? 'csv' : undefined);
  if (format !== 'csv' && format !== 'json')
    throw new InputError(format === undefined ? 'runs export needs --format csv|json' : `--format "${format}" is not one of csv | json`, 'format');
  if (flags.history && format !== 'csv') throw new InputError('--history writes csv (the histories are already in --format json); use --format csv --history', 'history');
  const filter = filterOf({ experiment: flags.experiment });
  // --out checked before the store is read (a file's folder, /proc, a folder given as the file).
  if (flags.out !== undefined) prepareOutFile(flags.out, '--out');
  const runs = await withStore(flags.store, async (s) => {
    const full: StoredRun[] = [];
    for (const r of await s.list(filter)) full.push((await s.get(r.id))!);
    return withoutDamaged(s.location, full, flags.force, 'export the others');
  });
  writeText(flags.out, format === 'json' ? plainJson(runs) + '\n' : flags.history ? historyCsv(runs) : runsCsv(runs));
  return 0;
}

/**
 * `advbias runs compare ID ID… [--metric M] [--out FILE.svg|.png] [--log-y]`: the histories of the
 * runs overlaid, one line per run, M against the step t on a log axis. Default metric: the
 * direction error `referenceAngleDeg` when every run has it, else `adversarialNormalizedMargin`;
 * default file: `compare-ID-ID-METRIC.svg` beside the store.
 */
export async function runsCompareCommand(ids: string[], flags: RunsCompareFlags): Promise<number> {
  if (ids.length === 0) throw new InputError('runs compare needs at least one run id (see `advbias runs list`)', 'id');
  const format = flags.out === undefined ? '.svg' : extname(flags.out).toLowerCase();
  if (format !== '.svg' && format !== '.png') throw new InputError(`--out "${flags.out}": the figure is written as FILE.svg or FILE.png`, 'out');
  const location = flags.store ?? DEFAULT_STORE_PATH;
  if (flags.out !== undefined) prepareOutFile(flags.out, '--out');
  let shownLocation = location;
  const runs = await withStore(flags.store, async (s) => {
    shownLocation = s.location;
    const found: StoredRun[] = [];
    for (const id of ids) found.push(await findRun(s, id));
    return found;
  });
  const seen = new Set<number>();
  for (const r of runs) {
    if (seen.has(r.id)) throw new InputError(`run ${r.id} is given twice`, 'id');
    seen.add(r.id);
    if (r.damaged !== undefined) throw new InputError(damagedText(shownLocation, r), 'id');
    if (!r.history) throw new InputError(`run ${r.id} (${r.label ?? ''}) has no history: its status is ${r.status}${r.error ? ` (${r.error})` : ''}`, 'id');
  }
  const drawn = runs.map((r) => ({ id: r.id, label: r.label ?? '', history: r.history! }));
  const metric = flags.metric ?? defaultCompareMetric(drawn);
  const { spec, notes } = compareFigure(drawn, { metric, logY: flags.logY === true, subtitle: `runs ${runs.map((r) => r.id).join(', ')} of ${shownLocation}` });
  // Default: beside a SQLite store file; in the current folder for a database store.
  const where = parseStoreLocation(location);
  const out = flags.out ?? join(where.kind === 'sqlite' ? dirname(where.path) : '.', `compare-${runs.map((r) => r.id).join('-')}-${metric}.svg`);
  if (flags.out === undefined) prepareOutFile(out, '--out');
  const { svg } = await renderSvg(spec);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  if (format === '.png') {
    const png = svgToPng(svg);
    try {
      writeFileSync(out, png);
    } catch (e) {
      throw new InputError(`cannot write "${out}": ${(e as Error).message}`, 'out');
    }
  } else writeText(out, svg);
  process.stdout.write(`wrote ${out}: ${metric} of runs ${runs.map((r) => r.id).join(', ')}\n`);
  return 0;
}
