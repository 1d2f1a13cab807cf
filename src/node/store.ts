/**
 * Opening a run store from a `--store` value, and where a command keeps its store by default.
 * Node only. The store itself is an interface (src/store/run-store.ts), implemented by an SQLite
 * file (src/node/sqlite-store.ts) and a PostgreSQL database (src/node/postgres-store.ts).
 */
import { join } from 'node:path';
import { parseStoreLocation, type RunStore } from '../store/run-store.ts';
import { SqliteRunStore } from './sqlite-store.ts';

export { RUN_STATUSES, STORE_SCHEMA_VERSION, type Checkpoint, type ClaimOutcome, type RunFilter, type RunStart, type RunStatus, type RunStore, type RunSummary, type StoredRun } from '../store/run-store.ts';

/** Where `advbias runs` reads, and `train` without --out writes, unless --store says otherwise. */
export const DEFAULT_STORE_PATH = 'out/runs.sqlite';

/** The store file's name when it sits beside an output folder. */
export const STORE_FILE_NAME = 'runs.sqlite';

/**
 * The default store of a command writing into `out`: `runs.sqlite` in the parent folder of `out`,
 * so that the runs of `--out results/exp1` and `--out results/exp2` share `results/runs.sqlite`
 * (and `reproduce --quick`, writing `out/reproduce-quick`, keeps `out/runs.sqlite`).
 */
export function storeBesideOut(out: string): string {
  return join(out, '..', STORE_FILE_NAME);
}

/**
 * Opens the run store at `location` (a `--store` value): a file path, `sqlite:PATH` or
 * `file:PATH` opens (creating it when missing) an SQLite store; `postgres://…` connects to a
 * PostgreSQL database (creating the tables when missing). Rejects with an InputError naming
 * --store for unknown URL schemes, a store that cannot be reached or read, or a newer schema.
 */
export async function openRunStore(location: string): Promise<RunStore> {
  const where = parseStoreLocation(location);
  switch (where.kind) {
    case 'sqlite':
      return SqliteRunStore.open(where.path);
    case 'postgres':
      // The pg client loads only for a PostgreSQL store.
      return (await import('./postgres-store.ts')).PostgresRunStore.open(where.url);
  }
}

/** Opens the store at `location`, runs `f` on it and closes it, whatever `f` does. */
export async function withRunStore<T>(location: string, f: (store: RunStore) => Promise<T>): Promise<T> {
  const store = await openRunStore(location);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}
