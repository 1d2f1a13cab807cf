/**
 * `advbias runs list | show | export`: read the run store that `advbias reproduce` fills
 * (src/node/store.ts). Read-only: these commands never create a store nor change one.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.ts';
import { DEFAULT_STORE_PATH, RUN_STATUSES, RunStore, type RunFilter, type RunSummary, type StoredRun } from '../node/store.ts';

export interface RunsListFlags {
  store?: string;
  experiment?: string;
  status?: string;
  json?: boolean;
}

export interface RunsShowFlags {
  store?: string;
  json?: boolean;
}

export interface RunsExportFlags {
  store?: string;
  experiment?: string;
  format?: string;
  out?: string;
}

/** Final values shown by `runs list` when the runs have them: [field, column title]. */
const LIST_FINAL_COLUMNS: [string, string][] = [
  ['adversarialNormalizedMargin', 'adv. margin'],
  ['referenceAngleDeg', 'angle (deg)'],
];

/** Opens an existing store; a missing file is bad input (exit 2), never created here. */
function openExisting(path: string | undefined): RunStore {
  const p = path ?? DEFAULT_STORE_PATH;
  if (!existsSync(p)) throw new InputError(`no run store at ${p} (run \`advbias reproduce\` first)`, 'store');
  return RunStore.open(p);
}

function withStore<T>(path: string | undefined, f: (store: RunStore) => T): T {
  const store = openExisting(path);
  try {
    return f(store);
  } finally {
    store.close();
  }
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
export function runsListCommand(flags: RunsListFlags): number {
  const filter = filterOf(flags);
  const path = flags.store ?? DEFAULT_STORE_PATH;
  const runs = withStore(flags.store, (s) => s.list(filter));
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

function findRun(store: RunStore, id: string): StoredRun {
  const run = /^\d+$/.test(id) ? store.get(Number(id)) : store.get(id);
  if (!run) throw new InputError(`no run with id ${JSON.stringify(id)} in ${store.path} (see \`advbias runs list\`)`, 'id');
  return run;
}

/** Scalar fields of a document, nested objects flattened with dotted names; arrays left out. */
export function scalarFields(doc: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || ArrayBuffer.isView(doc)) return out;
  for (const [k, v] of Object.entries(doc)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out.set(name, v);
    else if (typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) scalarFields(v, name, out);
  }
  return out;
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
export function runsShowCommand(id: string, flags: RunsShowFlags): number {
  const { run, checkpoint } = withStore(flags.store, (s) => {
    const r = findRun(s, id);
    return { run: r, checkpoint: s.loadCheckpoint(r.key) };
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

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `advbias runs export --format csv|json`: csv, one row per run with its metadata and the scalar
 * fields of its final measurement (nested ones as dotted names, full float64 precision, NaN and
 * ±Infinity written as such); json, an array of the full stored runs (non-finite numbers as null).
 */
export function runsExportCommand(flags: RunsExportFlags): number {
  if (flags.format !== 'csv' && flags.format !== 'json')
    throw new InputError(flags.format === undefined ? 'runs export needs --format csv|json' : `--format "${flags.format}" is not one of csv | json`, 'format');
  const filter = filterOf({ experiment: flags.experiment });
  let text: string;
  if (flags.format === 'json') {
    const runs = withStore(flags.store, (s) => s.list(filter).map((r) => s.get(r.id)!));
    text = plainJson(runs) + '\n';
  } else {
    const runs = withStore(flags.store, (s) => s.list(filter));
    const finals = runs.map((r) => scalarFields(r.final));
    const finalColumns: string[] = [];
    const seen = new Set<string>(CSV_BASE_COLUMNS);
    for (const f of finals)
      for (const k of f.keys())
        if (!seen.has(k)) {
          seen.add(k);
          finalColumns.push(k);
        }
    const lines = [[...CSV_BASE_COLUMNS, ...finalColumns].map(csvCell).join(',')];
    runs.forEach((r, i) => {
      const base = [r.id, r.key, r.experiment, r.label, r.status, r.seed, r.codeVersion, r.startedAt, r.endedAt];
      lines.push([...base, ...finalColumns.map((c) => finals[i].get(c))].map(csvCell).join(','));
    });
    text = lines.join('\n') + '\n';
  }
  if (flags.out) {
    try {
      mkdirSync(dirname(flags.out), { recursive: true });
      writeFileSync(flags.out, text);
    } catch (e) {
      throw new InputError(`cannot write "${flags.out}": ${(e as Error).message}`, 'out');
    }
  } else process.stdout.write(text);
  return 0;
}
