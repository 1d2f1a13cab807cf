/**
 * Reading a stored run's row back into {@link RunSummary} / {@link StoredRun}, shared by the run
 * stores that keep the documents as exact-JSON text columns (SQLite, PostgreSQL). Library code: no
 * Node API.
 */
import { parseExact } from '../util/exact-json.ts';
import type { RunStatus, RunSummary, StoredRun } from './run-store.ts';

/** A `runs` row as both stores hold it (ids may come back as text from PostgreSQL's BIGSERIAL). */
export interface RunRow {
  id: number | string;
  key: string;
  experiment: string | null;
  label: string | null;
  config?: string | null;
  seed: number | null;
  code_version: string | null;
  status: RunStatus;
  started_at: string | null;
  ended_at: string | null;
  final: string | null;
  history?: string | null;
  result?: string | null;
  error: string | null;
}

/** The columns a summary reads (no config, history or result). */
export const SUMMARY_COLUMNS = 'id, key, experiment, label, seed, code_version, status, started_at, ended_at, final, error';

/**
 * Reads the exact-JSON documents `columns` of a row: each one parsed, or null (and named in
 * `damaged` with the parser's reason) when its text cannot be read — a damaged row is reported,
 * never a stack trace, and the rest of the row stays readable.
 */
export function parseColumns(r: Record<string, unknown>, columns: readonly string[]): { values: Record<string, unknown>; damaged: string[] } {
  const values: Record<string, unknown> = {};
  const damaged: string[] = [];
  for (const c of columns) {
    const text = r[c] as string | null | undefined;
    if (text === null || text === undefined) {
      values[c] = null;
      continue;
    }
    try {
      values[c] = parseExact(text);
    } catch (e) {
      values[c] = null;
      damaged.push(`${c} (${String((e as Error)?.message ?? e).replace(/\s+/g, ' ')})`);
    }
  }
  return { values, damaged };
}

export function summaryOf(r: RunRow, damagedToo: string[] = []): RunSummary {
  const { values, damaged } = parseColumns(r as unknown as Record<string, unknown>, ['final']);
  const all = [...damaged, ...damagedToo];
  return {
    id: Number(r.id),
    key: r.key,
    experiment: r.experiment,
    label: r.label,
    seed: r.seed,
    codeVersion: r.code_version,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    final: values.final as Record<string, unknown> | null,
    error: r.error,
    ...(all.length ? { damaged: all.join('; ') } : {}),
  };
}

export function fullOf(r: RunRow): StoredRun {
  const { values, damaged } = parseColumns(r as unknown as Record<string, unknown>, ['config', 'history', 'result']);
  return { ...summaryOf(r, damaged), config: values.config, history: values.history as unknown[] | null, result: values.result };
}
