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
import { existsSync } from 'node:fs';
import { makeFolders, probeWritable } from './out-path.ts';
import { dirname } from 'node:path';
import { AdvbiasError, InputError } from '../errors.ts';
import { parseExact, stringifyExact } from '../util/exact-json.ts';
import { SUMMARY_COLUMNS, fullOf, summaryOf, type RunRow } from '../store/run-rows.ts';
import { STORE_SCHEMA_VERSION, type Checkpoint, type ClaimOutcome, type RunDocuments, type RunFilter, type RunStart, type RunStatus, type RunStore, type RunSummary, type StoredRun } from '../store/run-store.ts';

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
  error TEXT,
  owner TEXT,
  heartbeat_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment);
CREATE TABLE IF NOT EXISTS checkpoints (
  key TEXT PRIMARY KEY REFERENCES runs (key),
  step INTEGER NOT NULL,
  state TEXT NOT NULL,
  saved_at TEXT NOT NULL
);
`;

/** From schema version 1 to 2: the claim of the process running a run (empty for the runs already stored). */
const MIGRATE_1_TO_2 = `
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
`;

const now = (): string => new Date().toISOString();

/** Runs `f` now and hands its value or its error over as a Promise. */
function settled<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** SQLite result codes of a file that is not a database or whose pages are damaged. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/**
 * A SQLite failure as one InputError line naming the store file: a file that is not a database or
 * is damaged (`database disk image is malformed`), one that cannot be opened, or a full/read-only
 * disk. Other errors (bugs) pass through unchanged.
 */
function storeError(path: string, e: unknown, doing: 'open' | 'use'): unknown {
  const code = String((e as { code?: unknown })?.code ?? '');
  const message = String((e as Error)?.message ?? e);
  if (CORRUPT_CODES.has(code) || /^SQLITE_CORRUPT/.test(code))
    return new InputError(`the run store "${path}" is not a SQLite run store or is damaged (${message}); move it away or pass another --store`, 'store');
  if (code.startsWith('SQLITE_CANTOPEN')) return new InputError(`cannot open the run store "${path}": ${message} (a folder, or no permission?); pass another --store`, 'store');
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_PERM'))
    return new InputError(`cannot use the run store "${path}": ${message}`, 'store');
  if (code.startsWith('SQLITE_BUSY')) return new AdvbiasError(`the run store "${path}" stayed locked by another process for 5 s: ${message}`);
  if (doing === 'open' && code.startsWith('SQLITE_')) return new InputError(`cannot open the run store "${path}": ${message}; pass another --store`, 'store');
  return e;
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
      // Its folder, made one level at a time (a recursive mkdir never returns under /proc); a new
      // file needs a writable folder (SQLite's journal files live beside it too).
      makeFolders(dirname(path), '--store', path);
      if (!existsSync(path)) probeWritable(dirname(path), path, '--store');
    }
    let db: Database.Database | null = null;
    try {
      db = new Database(path, { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      const newer = (version: number): InputError =>
        new InputError(`the run store "${path}" has schema version ${version}, newer than this advbias reads (${STORE_SCHEMA_VERSION}); use a newer advbias or another --store`, 'store');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > STORE_SCHEMA_VERSION) throw newer(version);
      if (version < STORE_SCHEMA_VERSION) {
        // Read again under the write lock: another process may have created or migrated it meanwhile.
        db.transaction(() => {
          const v = db!.pragma('user_version', { simple: true }) as number;
          if (v > STORE_SCHEMA_VERSION) throw newer(v);
          if (v === 0) db!.exec(SCHEMA);
          else if (v === 1) db!.exec(MIGRATE_1_TO_2);
          if (v < STORE_SCHEMA_VERSION) db!.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
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
      throw storeError(path, e, 'open');
    }
  }

  /** Opens the store at `path` (see {@link SqliteRunStore.openSync}). */
  static open(path: string): Promise<SqliteRunStore> {
    return settled(() => SqliteRunStore.openSync(path));
  }

  /** Runs `f` now; SQLite failures (a damaged file, a full disk) become one line naming the store. */
  private guard<T>(f: () => T): Promise<T> {
    return settled(() => {
      try {
        return f();
      } catch (e) {
        throw storeError(this.path, e, 'use');
      }
    });
  }

  findDone(key: string): Promise<StoredRun | null> {
    return this.guard(() => {
      const row = this.db.prepare("SELECT * FROM runs WHERE key = ? AND status = 'done'").get(key) as RunRow | undefined;
      return row ? fullOf(row) : null;
    });
  }

  /** Inserts a 'running' row or resets the row of that key (same id); see {@link RunStore.begin}. */
  begin(run: RunStart): Promise<number> {
    return this.guard(() => {
      const seed = typeof run.seed === 'number' && Number.isFinite(run.seed) ? run.seed : null;
      const row = this.db
        .prepare(
          `INSERT INTO runs (key, experiment, label, config, seed, code_version, status, started_at)
           VALUES (@key, @experiment, @label, @config, @seed, @codeVersion, 'running', @startedAt)
           ON CONFLICT (key) DO UPDATE SET experiment = excluded.experiment, label = excluded.label,
             config = excluded.config, seed = excluded.seed, code_version = excluded.code_version,
             status = 'running', started_at = excluded.started_at, ended_at = NULL, final = NULL,
             history = NULL, result = NULL, error = NULL, owner = NULL, heartbeat_at = NULL
           RETURNING id`,
        )
        .get({ key: run.key, experiment: run.experiment, label: run.label, config: stringifyExact(run.config), seed, codeVersion: run.codeVersion, startedAt: now() }) as { id: number };
      return row.id;
    });
  }

  /** One transaction; the checkpoint references the run's row (foreign key). */
  saveCheckpoint(key: string, step: number, state: unknown): Promise<void> {
    return this.guard(() => {
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
    return this.guard(() => {
      const row = this.db.prepare('SELECT step, state FROM checkpoints WHERE key = ?').get(key) as { step: number; state: string } | undefined;
      if (!row) return null;
      try {
        return { step: row.step, state: parseExact(row.state) };
      } catch (e) {
        const id = (this.db.prepare('SELECT id FROM runs WHERE key = ?').get(key) as { id: number } | undefined)?.id;
        throw new InputError(
          `the run store "${this.path}": the checkpoint of run ${id ?? '?'} (key ${key}) is damaged (${String((e as Error).message).replace(/\s+/g, ' ')}); \`advbias reproduce --force\` reruns it from the start`,
          'store',
        );
      }
    });
  }

  /** One transaction (BEGIN IMMEDIATE): insert, or a guarded UPDATE that only a free or stale claim passes. */
  claim(run: RunStart, owner: string, staleBefore: string): Promise<ClaimOutcome> {
    return this.guard(() => {
      const seed = typeof run.seed === 'number' && Number.isFinite(run.seed) ? run.seed : null;
      const t = now();
      const values = { key: run.key, experiment: run.experiment, label: run.label, config: stringifyExact(run.config), seed, codeVersion: run.codeVersion, startedAt: t, owner, staleBefore };
      return this.db
        .transaction((): ClaimOutcome => {
          const inserted = this.db
            .prepare(
              `INSERT INTO runs (key, experiment, label, config, seed, code_version, status, started_at, owner, heartbeat_at)
               VALUES (@key, @experiment, @label, @config, @seed, @codeVersion, 'running', @startedAt, @owner, @startedAt)
               ON CONFLICT (key) DO NOTHING`,
            )
            .run(values);
          if (inserted.changes === 1) return { outcome: 'claimed', id: Number(inserted.lastInsertRowid), takenOver: null };
          const before = this.db.prepare('SELECT status, owner, heartbeat_at FROM runs WHERE key = ?').get(run.key) as { status: RunStatus; owner: string | null; heartbeat_at: string | null };
          const row = this.db
            .prepare(
              `UPDATE runs SET experiment = @experiment, label = @label, config = @config, seed = @seed, code_version = @codeVersion,
                 status = 'running', started_at = @startedAt, ended_at = NULL, final = NULL, history = NULL, result = NULL, error = NULL,
                 owner = @owner, heartbeat_at = @startedAt
               WHERE key = @key AND status != 'done'
                 AND (status != 'running' OR owner IS NULL OR owner = @owner OR heartbeat_at IS NULL OR heartbeat_at < @staleBefore)
               RETURNING id`,
            )
            .get(values) as { id: number } | undefined;
          if (row) return { outcome: 'claimed', id: row.id, takenOver: before.status === 'running' && before.owner !== null && before.owner !== owner ? before.owner : null };
          if (before.status === 'done') return { outcome: 'done' };
          return { outcome: 'busy', owner: before.owner ?? '?', heartbeatAt: before.heartbeat_at };
        })
        .immediate();
    });
  }

  heartbeat(key: string, owner: string): Promise<boolean> {
    return this.guard(() => this.db.prepare("UPDATE runs SET heartbeat_at = ? WHERE key = ? AND owner = ? AND status = 'running'").run(now(), key, owner).changes > 0);
  }

  release(key: string, owner: string): Promise<boolean> {
    return this.guard(() => this.db.prepare("UPDATE runs SET owner = NULL, heartbeat_at = NULL WHERE key = ? AND owner = ? AND status = 'running'").run(key, owner).changes > 0);
  }

  /** Documents and checkpoint deletion in one transaction. */
  complete(key: string, docs: RunDocuments): Promise<void> {
    return this.guard(() => {
      const final = stringifyExact(docs.final);
      const history = stringifyExact(docs.history);
      const result = stringifyExact(docs.result);
      this.db
        .transaction(() => {
          const r = this.db
            .prepare("UPDATE runs SET status = 'done', ended_at = ?, final = ?, history = ?, result = ?, error = NULL, owner = NULL, heartbeat_at = NULL WHERE key = ?")
            .run(now(), final, history, result, key);
          if (r.changes === 0) throw new Error(`complete: no run with key ${key} in the store (call begin first)`);
          this.db.prepare('DELETE FROM checkpoints WHERE key = ?').run(key);
        })
        .immediate();
    });
  }

  fail(key: string, message: string): Promise<boolean> {
    return this.guard(() => this.db.prepare("UPDATE runs SET status = 'failed', ended_at = ?, error = ?, owner = NULL, heartbeat_at = NULL WHERE key = ?").run(now(), message, key).changes > 0);
  }

  list(filter: RunFilter = {}): Promise<RunSummary[]> {
    return this.guard(() => {
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
      return (this.db.prepare(sql).all(...params) as RunRow[]).map((r) => summaryOf(r));
    });
  }

  get(idOrKey: number | string): Promise<StoredRun | null> {
    return this.guard(() => {
      const row = (typeof idOrKey === 'number' ? this.db.prepare('SELECT * FROM runs WHERE id = ?') : this.db.prepare('SELECT * FROM runs WHERE key = ?')).get(idOrKey) as RunRow | undefined;
      return row ? fullOf(row) : null;
    });
  }

  delete(key: string): Promise<boolean> {
    return this.guard(() =>
      this.db
        .transaction(() => {
          this.db.prepare('DELETE FROM checkpoints WHERE key = ?').run(key);
          return this.db.prepare('DELETE FROM runs WHERE key = ?').run(key).changes > 0;
        })
        .immediate(),
    );
  }

  close(): Promise<void> {
    return this.guard(() => {
      if (this.db.open) this.db.close();
    });
  }
}
