/**
 * The PostgreSQL run store: {@link RunStore} (src/store/run-store.ts) in a PostgreSQL database, for
 * sweeps that outgrow one machine — several processes on several machines record into, and claim
 * runs from, the same database. The same documents as the SQLite store (src/node/sqlite-store.ts),
 * stored as the same exact JSON text (util/exact-json.ts), so every number comes back bit for bit;
 * the same schema version, checked the same way (a newer one is refused, never half-read). Node
 * only; opened through `openRunStore('postgres://…')` (src/node/store.ts), which loads this module
 * (and the `pg` client) only for such a location.
 *
 * Tables (in the connection's default schema): `advbias_store` (one row: the schema version),
 * `advbias_runs` and `advbias_checkpoints`, with the SQLite store's columns. Timestamps are ISO 8601
 * UTC text, as there, so that comparisons (stale heartbeats) are the same string comparisons.
 *
 * Atomicity: every write is one statement or one transaction; `claim` locks the run's row
 * (SELECT … FOR UPDATE) so that of two processes claiming one run exactly one gets it. A process
 * killed at any point leaves the previous state or the new one.
 */
import pg from 'pg';
import { AdvbiasError, InputError } from '../errors.ts';
import { parseExact, stringifyExact } from '../util/exact-json.ts';
import { SUMMARY_COLUMNS, fullOf, summaryOf, type RunRow } from '../store/run-rows.ts';
import { STORE_SCHEMA_VERSION, type Checkpoint, type ClaimOutcome, type RunDocuments, type RunFilter, type RunStart, type RunStatus, type RunStore, type RunSummary, type StoredRun } from '../store/run-store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS advbias_runs (
  id BIGSERIAL PRIMARY KEY,
  key TEXT UNIQUE NOT NULL,
  experiment TEXT,
  label TEXT,
  config TEXT,
  seed DOUBLE PRECISION,
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
CREATE INDEX IF NOT EXISTS advbias_runs_experiment ON advbias_runs (experiment);
CREATE TABLE IF NOT EXISTS advbias_checkpoints (
  key TEXT PRIMARY KEY REFERENCES advbias_runs (key),
  step BIGINT NOT NULL,
  state TEXT NOT NULL,
  saved_at TEXT NOT NULL
);
`;

/** Advisory-lock id under which a new database's tables are created (one process at a time). */
const SCHEMA_LOCK = 0x61647662;

const now = (): string => new Date().toISOString();

/** The location with its password replaced by *** (for messages, summaries and `location`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
  }
}

/** Connection-level failures as one InputError line naming the store; other errors pass through. */
function storeError(location: string, e: unknown, doing: 'open' | 'use'): unknown {
  if (e instanceof AdvbiasError) return e;
  const code = String((e as { code?: unknown })?.code ?? '');
  const message = String((e as Error)?.message ?? e).replace(/\s+/g, ' ');
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'];
  if (network.includes(code)) return new InputError(`cannot reach the run store ${location}: ${message} (is PostgreSQL running there?)`, 'store');
  // SQLSTATE classes: 28 authorization, 3D no such database, 42501 permission, 08 connection.
  if (code.startsWith('28') || code === '3D000' || code === '42501' || code.startsWith('08'))
    return new InputError(`cannot ${doing} the run store ${location}: ${message}`, 'store');
  if (doing === 'open' && /password|SASL|connect/i.test(message)) return new InputError(`cannot open the run store ${location}: ${message}`, 'store');
  return e;
}

export class PostgresRunStore implements RunStore {
  readonly location: string;
  private readonly pool: pg.Pool;
  private closed = false;

  private constructor(location: string, pool: pg.Pool) {
    this.location = location;
    this.pool = pool;
  }

  /**
   * Connects to `url` (postgres:// or postgresql://; libpq's parameters, e.g. ?sslmode=), creates the
   * tables in a new database, and checks the schema version. Rejects with an InputError naming the
   * store (password hidden) when it cannot be reached, logged into, or was written by a newer schema.
   */
  static async open(url: string): Promise<PostgresRunStore> {
    const location = redactUrl(url);
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10000, idleTimeoutMillis: 1000, allowExitOnIdle: true });
    // An idle client's error (the server went away) must not crash the process: the next query reports it.
    pool.on('error', () => {});
    let client: pg.PoolClient | null = null;
    try {
      client = await pool.connect();
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS advbias_store (schema_version INTEGER NOT NULL)');
      const v = await client.query<{ schema_version: number }>('SELECT schema_version FROM advbias_store');
      const version = v.rows.length ? v.rows[0].schema_version : 0;
      if (version > STORE_SCHEMA_VERSION) {
        await client.query('ROLLBACK');
        throw new InputError(`the run store ${location} has schema version ${version}, newer than this advbias reads (${STORE_SCHEMA_VERSION}); use a newer advbias or another --store`, 'store');
      }
      if (version === 0) {
        await client.query(SCHEMA);
        await client.query('INSERT INTO advbias_store (schema_version) VALUES ($1)', [STORE_SCHEMA_VERSION]);
      }
      await client.query('COMMIT');
      return new PostgresRunStore(location, pool);
    } catch (e) {
      try {
        await client?.query('ROLLBACK');
      } catch {
        /* already failing */
      }
      client?.release();
      client = null;
      await pool.end().catch(() => {});
      throw storeError(location, e, 'open');
    } finally {
      client?.release();
    }
  }

  private async q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (e) {
      throw storeError(this.location, e, 'use');
    }
  }

  /** Runs `f` in one transaction on one connection (rolled back when it throws). */
  private async tx<T>(f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeError(this.location, e, 'use');
    }
    try {
      await client.query('BEGIN');
      const out = await f(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw storeError(this.location, e, 'use');
    } finally {
      client.release();
    }
  }

  async findDone(key: string): Promise<StoredRun | null> {
    const r = await this.q<RunRow>("SELECT * FROM advbias_runs WHERE key = $1 AND status = 'done'", [key]);
    return r.rows.length ? fullOf(r.rows[0]) : null;
  }

  async begin(run: RunStart): Promise<number> {
    const seed = typeof run.seed === 'number' && Number.isFinite(run.seed) ? run.seed : null;
    const r = await this.q<{ id: string }>(
      `INSERT INTO advbias_runs (key, experiment, label, config, seed, code_version, status, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'running', $7)
       ON CONFLICT (key) DO UPDATE SET experiment = excluded.experiment, label = excluded.label,
         config = excluded.config, seed = excluded.seed, code_version = excluded.code_version,
         status = 'running', started_at = excluded.started_at, ended_at = NULL, final = NULL,
         history = NULL, result = NULL, error = NULL, owner = NULL, heartbeat_at = NULL
       RETURNING id`,
      [run.key, run.experiment, run.label, stringifyExact(run.config), seed, run.codeVersion, now()],
    );
    return Number(r.rows[0].id);
  }

  async claim(run: RunStart, owner: string, staleBefore: string): Promise<ClaimOutcome> {
    const seed = typeof run.seed === 'number' && Number.isFinite(run.seed) ? run.seed : null;
    const t = now();
    const config = stringifyExact(run.config);
    return this.tx(async (c) => {
      const inserted = await c.query<{ id: string }>(
        `INSERT INTO advbias_runs (key, experiment, label, config, seed, code_version, status, started_at, owner, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $7)
         ON CONFLICT (key) DO NOTHING RETURNING id`,
        [run.key, run.experiment, run.label, config, seed, run.codeVersion, t, owner],
      );
      if (inserted.rows.length === 1) return { outcome: 'claimed', id: Number(inserted.rows[0].id), takenOver: null };
      // The row exists: lock it, so that a concurrent claim waits for this transaction.
      const before = (await c.query<{ status: RunStatus; owner: string | null; heartbeat_at: string | null }>('SELECT status, owner, heartbeat_at FROM advbias_runs WHERE key = $1 FOR UPDATE', [run.key])).rows[0];
      const row = await c.query<{ id: string }>(
        `UPDATE advbias_runs SET experiment = $2, label = $3, config = $4, seed = $5, code_version = $6,
           status = 'running', started_at = $7, ended_at = NULL, final = NULL, history = NULL, result = NULL, error = NULL,
           owner = $8, heartbeat_at = $7
         WHERE key = $1 AND status != 'done'
           AND (status != 'running' OR owner IS NULL OR owner = $8 OR heartbeat_at IS NULL OR heartbeat_at < $9)
         RETURNING id`,
        [run.key, run.experiment, run.label, config, seed, run.codeVersion, t, owner, staleBefore],
      );
      if (row.rows.length) return { outcome: 'claimed', id: Number(row.rows[0].id), takenOver: before.status === 'running' && before.owner !== null && before.owner !== owner ? before.owner : null };
      if (before.status === 'done') return { outcome: 'done' };
      return { outcome: 'busy', owner: before.owner ?? '?', heartbeatAt: before.heartbeat_at };
    });
  }

  async heartbeat(key: string, owner: string): Promise<boolean> {
    return ((await this.q("UPDATE advbias_runs SET heartbeat_at = $1 WHERE key = $2 AND owner = $3 AND status = 'running'", [now(), key, owner])).rowCount ?? 0) > 0;
  }

  async release(key: string, owner: string): Promise<boolean> {
    return ((await this.q("UPDATE advbias_runs SET owner = NULL, heartbeat_at = NULL WHERE key = $1 AND owner = $2 AND status = 'running'", [key, owner])).rowCount ?? 0) > 0;
  }

  async saveCheckpoint(key: string, step: number, state: unknown): Promise<void> {
    const text = stringifyExact(state);
    try {
      await this.pool.query(
        `INSERT INTO advbias_checkpoints (key, step, state, saved_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET step = excluded.step, state = excluded.state, saved_at = excluded.saved_at`,
        [key, step, text, now()],
      );
    } catch (e) {
      // 23503: foreign_key_violation.
      if ((e as { code?: string }).code === '23503') throw new Error(`saveCheckpoint: no run with key ${key} in the store (call begin first)`);
      throw storeError(this.location, e, 'use');
    }
  }

  async loadCheckpoint(key: string): Promise<Checkpoint | null> {
    const r = await this.q<{ step: string; state: string }>('SELECT step, state FROM advbias_checkpoints WHERE key = $1', [key]);
    if (!r.rows.length) return null;
    try {
      return { step: Number(r.rows[0].step), state: parseExact(r.rows[0].state) };
    } catch (e) {
      const id = (await this.q<{ id: string }>('SELECT id FROM advbias_runs WHERE key = $1', [key])).rows[0]?.id;
      throw new InputError(
        `the run store ${this.location}: the checkpoint of run ${id ?? '?'} (key ${key}) is damaged (${String((e as Error).message).replace(/\s+/g, ' ')}); \`advbias reproduce --force\` reruns it from the start`,
        'store',
      );
    }
  }

  async complete(key: string, docs: RunDocuments): Promise<void> {
    const final = stringifyExact(docs.final);
    const history = stringifyExact(docs.history);
    const result = stringifyExact(docs.result);
    await this.tx(async (c) => {
      const r = await c.query(
        "UPDATE advbias_runs SET status = 'done', ended_at = $1, final = $2, history = $3, result = $4, error = NULL, owner = NULL, heartbeat_at = NULL WHERE key = $5",
        [now(), final, history, result, key],
      );
      if ((r.rowCount ?? 0) === 0) throw new Error(`complete: no run with key ${key} in the store (call begin first)`);
      await c.query('DELETE FROM advbias_checkpoints WHERE key = $1', [key]);
    });
  }

  async fail(key: string, message: string): Promise<boolean> {
    return ((await this.q("UPDATE advbias_runs SET status = 'failed', ended_at = $1, error = $2, owner = NULL, heartbeat_at = NULL WHERE key = $3", [now(), message, key])).rowCount ?? 0) > 0;
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.experiment !== undefined) {
      params.push(filter.experiment);
      where.push(`experiment = $${params.length}`);
    }
    if (filter.status !== undefined) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    const r = await this.q<RunRow>(`SELECT ${SUMMARY_COLUMNS} FROM advbias_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, params);
    return r.rows.map((row) => summaryOf(row));
  }

  async get(idOrKey: number | string): Promise<StoredRun | null> {
    const r =
      typeof idOrKey === 'number'
        ? Number.isSafeInteger(idOrKey)
          ? await this.q<RunRow>('SELECT * FROM advbias_runs WHERE id = $1', [idOrKey])
          : { rows: [] as RunRow[] }
        : await this.q<RunRow>('SELECT * FROM advbias_runs WHERE key = $1', [idOrKey]);
    return r.rows.length ? fullOf(r.rows[0]) : null;
  }

  async delete(key: string): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM advbias_checkpoints WHERE key = $1', [key]);
      return ((await c.query('DELETE FROM advbias_runs WHERE key = $1', [key])).rowCount ?? 0) > 0;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
