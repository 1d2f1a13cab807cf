/**
 * The SQLite run store: an embedded file (better-sqlite3) implementing {@link RunStore}
 * (src/store/run-store.ts) — every run `advbias reproduce` and `advbias train` recorded, keyed by
 * the caller's key, and the latest checkpoint of the runs still in progress. Node only — the
 * library never imports this file; open it through `openRunStore` (src/node/store.ts).
 *
 * better-sqlite3 is synchronous: each method does its work before its Promise is returned, so
 * writes issued in order happen in order even when the caller does not await each one.
 *
 * Every document (config, final measurement, history, result, checkpoint state) is stored as exact
 * JSON (util/exact-json.ts), so numbers come back bit for bit: NaN, ±∞, −0 and Float64Arrays included.
 *
 * Durability: WAL journal, synchronous=NORMAL. Each write is one transaction, so a process killed at
 * any point (kill -9) leaves the previous state or the new one, never half of it; a power loss may
 * lose the last few commits but never corrupts the file. Several processes may open the same file:
 * readers see what writers committed; a writer waits up to 5 s for another writer's lock.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.ts';
import { parseExact, stringifyExact } from '../util/exact-json.ts';
import { STORE_SCHEMA_VERSION, type Checkpoint, type RunDocuments, type RunFilter, type RunStart, type RunStatus, type RunStore, type RunSummary, type StoredRun } from '../store/run-store.ts';

interface RunRow {
  id: number;
  key: string;
  experiment: string | null;
  label: string | null;
  config: string | null;
  seed: number | null;
  code_version: string | null;
  status: RunStatus;
  started_at: string | null;
  ended_at: string | null;
  final: string | null;
  history: string | null;
  result: string | null;
  error: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  key TEXT UNIQUE NOT NULL,
  experiment TEXT,
  label TEXT,
  config TEXT,
  seed INTEGER,
  code_version TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  started_at TEXT,
  ended_at TEXT,
  final TEXT,
  history TEXT,
  result TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment);
CREATE TABLE IF NOT EXISTS checkpoints (
  key TEXT PRIMARY KEY REFERENCES runs (key),
  step INTEGER NOT NULL,
  state TEXT NOT NULL,
  saved_at TEXT NOT NULL
);
`;

const SUMMARY_COLUMNS = 'id, key, experiment, label, seed, code_version, status, started_at, ended_at, final, error';

const now = (): string => new Date().toISOString();
const parseOrNull = <T>(text: string | null): T | null => (text === null ? null : parseExact<T>(text));

function summaryOf(r: Omit<RunRow, 'config' | 'history' | 'result'>): RunSummary {
  return {
    id: r.id,
    key: r.key,
    experiment: r.experiment,
    label: r.label,
    seed: r.seed,
    codeVersion: r.code_version,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    final: parseOrNull<Record<string, unknown>>(r.final),
    error: r.error,
  };
}

function fullOf(r: RunRow): StoredRun {
  return { ...summaryOf(r), config: parseOrNull(r.config), history: parseOrNull<unknown[]>(r.history), result: parseOrNull(r.result) };
}

/** Runs `f` now and hands its value or its error over as a Promise. */
function settled<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

export class SqliteRunStore implements RunStore {
  /** The file this store was opened on. */
  readonly path: string;
  readonly location: string;
  private db: Database.Database;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.location = path;
    this.db = db;
  }

  /**
   * Opens the store at `path`, creating its folder and the file when missing, and the tables when
   * new. Throws InputError naming the path when the file is not a SQLite database (corrupt, another
   * kind of file), cannot be opened, or was written by a newer schema.
   */
  static openSync(path: string): SqliteRunStore {
    if (path !== ':memory:') {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (e) {
        throw new InputError(`cannot create the folder of the run store "${path}": ${(e as Error).message}`, 'store');
      }
    }
    let db: Database.Database | null = null;
    try {
      db = new Database(path, { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > STORE_SCHEMA_VERSION)
        throw new InputError(`the run store "${path}" has schema version ${version}, newer than this advbias reads (${STORE_SCHEMA_VERSION}); use a newer advbias or another --store`, 'store');
      if (version < STORE_SCHEMA_VERSION) {
        db.transaction(() => {
          db!.exec(SCHEMA);
          db!.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
        }).immediate();
      }
      // A cheap read of both tables: catches files whose header is fine but whose pages are not.
      db.prepare('SELECT count(*) FROM runs').get();
      db.prepare('SELECT count(*) FROM checkpoints').get();
      return new SqliteRunStore(path, db);
    } catch (e) {
      try {
        db?.close();
      } catch {
        /* already failing */
      }
      if (e instanceof InputError) throw e;
      throw new InputError(`cannot open the run store "${path}": ${(e as Error).message} (not a SQLite run store, or corrupt; delete it or pass another --store)`, 'store');
    }
  }

  /** Opens the store at `path` (see {@link SqliteRunStore.openSync}). */
  static open(path: string): Promise<SqliteRunStore> {
    return settled(() => SqliteRunStore.openSync(path));
  }

  findDone(key: string): Promise<StoredRun | null> {
    return settled(() => {
      const row = this.db.prepare("SELECT * FROM runs WHERE key = ? AND status = 'done'").get(key) as RunRow | undefined;
      return row ? fullOf(row) : null;
    });
  }

  /** Inserts a 'running' row or resets the row of that key (same id); see {@link RunStore.begin}. */
  begin(run: RunStart): Promise<number> {
    return settled(() => {
      const seed = typeof run.seed === 'number' && Number.isFinite(run.seed) ? run.seed : null;
      const row = this.db
        .prepare(
          `INSERT INTO runs (key, experiment, label, config, seed, code_version, status, started_at)
           VALUES (@key, @experiment, @label, @config, @seed, @codeVersion, 'running', @startedAt)
           ON CONFLICT (key) DO UPDATE SET experiment = excluded.experiment, label = excluded.label,
             config = excluded.config, seed = excluded.seed, code_version = excluded.code_version,
             status = 'running', started_at = excluded.started_at, ended_at = NULL, final = NULL,
             history = NULL, result = NULL, error = NULL
           RETURNING id`,
        )
        .get({ key: run.key, experiment: run.experiment, label: run.label, config: stringifyExact(run.config), seed, codeVersion: run.codeVersion, startedAt: now() }) as { id: number };
      return row.id;
    });
  }

  /** One transaction; the checkpoint references the run's row (foreign key). */
  saveCheckpoint(key: string, step: number, state: unknown): Promise<void> {
    return settled(() => {
      const text = stringifyExact(state);
      try {
        this.db
          .prepare(
            `INSERT INTO checkpoints (key, step, state, saved_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET step = excluded.step, state = excluded.state, saved_at = excluded.saved_at`,
          )
          .run(key, step, text, now());
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new Error(`saveCheckpoint: no run with key ${key} in the store (call begin first)`);
        throw e;
      }
    });
  }

  loadCheckpoint(key: string): Promise<Checkpoint | null> {
    return settled(() => {
      const row = this.db.prepare('SELECT step, state FROM checkpoints WHERE key = ?').get(key) as { step: number; state: string } | undefined;
      return row ? { step: row.step, state: parseExact(row.state) } : null;
    });
  }

  /** Documents and checkpoint deletion in one transaction. */
  complete(key: string, docs: RunDocuments): Promise<void> {
    return settled(() => {
      const final = stringifyExact(docs.final);
      const history = stringifyExact(docs.history);
      const result = stringifyExact(docs.result);
      this.db
        .transaction(() => {
          const r = this.db
            .prepare("UPDATE runs SET status = 'done', ended_at = ?, final = ?, history = ?, result = ?, error = NULL WHERE key = ?")
            .run(now(), final, history, result, key);
          if (r.changes === 0) throw new Error(`complete: no run with key ${key} in the store (call begin first)`);
          this.db.prepare('DELETE FROM checkpoints WHERE key = ?').run(key);
        })
        .immediate();
    });
  }

  fail(key: string, message: string): Promise<boolean> {
    return settled(() => this.db.prepare("UPDATE runs SET status = 'failed', ended_at = ?, error = ? WHERE key = ?").run(now(), message, key).changes > 0);
  }

  list(filter: RunFilter = {}): Promise<RunSummary[]> {
    return settled(() => {
      const where: string[] = [];
      const params: string[] = [];
      if (filter.experiment !== undefined) {
        where.push('experiment = ?');
        params.push(filter.experiment);
      }
      if (filter.status !== undefined) {
        where.push('status = ?');
        params.push(filter.status);
      }
      const sql = `SELECT ${SUMMARY_COLUMNS} FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
      return (this.db.prepare(sql).all(...params) as RunRow[]).map(summaryOf);
    });
  }

  get(idOrKey: number | string): Promise<StoredRun | null> {
    return settled(() => {
      const row = (typeof idOrKey === 'number' ? this.db.prepare('SELECT * FROM runs WHERE id = ?') : this.db.prepare('SELECT * FROM runs WHERE key = ?')).get(idOrKey) as RunRow | undefined;
      return row ? fullOf(row) : null;
    });
  }

  delete(key: string): Promise<boolean> {
    return settled(() =>
      this.db
        .transaction(() => {
          this.db.prepare('DELETE FROM checkpoints WHERE key = ?').run(key);
          return this.db.prepare('DELETE FROM runs WHERE key = ?').run(key).changes > 0;
        })
        .immediate(),
    );
  }

  close(): Promise<void> {
    return settled(() => {
      if (this.db.open) this.db.close();
    });
  }
}
