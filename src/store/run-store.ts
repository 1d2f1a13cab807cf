/**
 * The run store as an interface: what `advbias reproduce` and `advbias train` record about every run
 * (config, status, final measurement, history, full result, latest checkpoint) and what `advbias runs`
 * reads back. Every method returns a Promise, so that a store over the network (e.g. PostgreSQL) can
 * implement it as well as the embedded SQLite file of today (src/node/sqlite-store.ts).
 *
 * Library code: no Node API here. Implementations must give every document back bit for bit (NaN,
 * ±∞, −0 and Float64Arrays included), e.g. by storing it as exact JSON (util/exact-json.ts).
 */
import { InputError } from '../errors.ts';

/**
 * Version of the store's schema; a store written by a newer schema is refused (never half-read).
 * 2: runs carry the claim of the process running them (owner, heartbeat); version-1 stores are
 * migrated when opened (the two columns added, empty).
 */
export const STORE_SCHEMA_VERSION = 2;

/** `running` from begin until complete or fail; `done` with documents; `failed` with a message. */
export const RUN_STATUSES = ['running', 'done', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What {@link RunStore.begin} records about a run before it starts. */
export interface RunStart {
  /** The caller's identity of the run: unique in the store (reproduce: hash of config + code version). */
  key: string;
  experiment: string;
  label: string;
  config: unknown;
  /** Stored as null when not a finite number. */
  seed: number | null;
  codeVersion: string;
}

/** One row of {@link RunStore.list}: everything but the config, history and result documents. */
export interface RunSummary {
  id: number;
  key: string;
  experiment: string | null;
  label: string | null;
  seed: number | null;
  codeVersion: string | null;
  status: RunStatus;
  /** ISO 8601 (UTC) time the latest attempt started. */
  startedAt: string | null;
  /** ISO 8601 (UTC) time the run completed or failed; null while running. */
  endedAt: string | null;
  /** The final measurement (small); null until the run is done. */
  final: Record<string, unknown> | null;
  /** The failure message of a failed run. */
  error: string | null;
  /**
   * Present only when some of the run's stored documents cannot be read (a damaged row): which
   * ones and why, e.g. `result (Unexpected end of JSON input)`; those documents read as null.
   */
  damaged?: string;
}

/** A full run of {@link RunStore.get} / {@link RunStore.findDone}, documents parsed. */
export interface StoredRun extends RunSummary {
  config: unknown;
  /** null until the run is done. */
  history: unknown[] | null;
  /** Whatever the caller stored as the run's full result; null until the run is done. */
  result: unknown;
}

/** Selects runs in {@link RunStore.list}: all given conditions hold. */
export interface RunFilter {
  experiment?: string;
  status?: string;
}

/** The latest saved state of a run in progress (one per run). */
export interface Checkpoint {
  step: number;
  state: unknown;
}

/** The documents of a completed run. */
export interface RunDocuments {
  final: unknown;
  history: unknown;
  result: unknown;
}

/**
 * The outcome of {@link RunStore.claim}: `claimed` (this owner runs it now; `takenOver` names the
 * owner whose stale or released claim it took), `done` (another process finished it meanwhile), or
 * `busy` (a live owner holds it: its id and last heartbeat).
 */
export type ClaimOutcome =
  | { outcome: 'claimed'; id: number; takenOver: string | null }
  | { outcome: 'done' }
  | { outcome: 'busy'; owner: string; heartbeatAt: string | null };

/**
 * A run store. Writes are atomic (a crash leaves the previous state or the new one); callers that
 * issue several writes for one run (begin, checkpoints, complete) await them in that order.
 */
export interface RunStore {
  /** Where the store lives, as given to {@link openRunStore}-like factories (for messages). */
  readonly location: string;
  /** The run stored under `key` if it is done, else null. */
  findDone(key: string): Promise<StoredRun | null>;
  /**
   * Records that a run starts: a new `running` run, or an existing one of that key (whatever its
   * status) reset to `running` with this metadata, startedAt = now, documents, error and endedAt
   * cleared. Its checkpoint, if any, is kept (to resume from). Resolves to the run id.
   */
  begin(run: RunStart): Promise<number>;
  /**
   * Claims a run for `owner` (an id unique to one process, e.g. `host:pid:random`), atomically: a
   * new run, or one that is failed, running without owner, running by this owner, or running by an
   * owner whose heartbeat is older than `staleBefore` (ISO 8601 UTC), is (re)started as by
   * {@link RunStore.begin} with this owner and heartbeat = now (its checkpoint kept); a done run is
   * left alone (`done`), a run held by a live owner too (`busy`). Two processes claiming one run
   * never both get `claimed` for the same heartbeat window.
   */
  claim(run: RunStart, owner: string, staleBefore: string): Promise<ClaimOutcome>;
  /** Renews the claim's heartbeat; false when `owner` no longer holds the run (taken over, done, failed). */
  heartbeat(key: string, owner: string): Promise<boolean>;
  /**
   * Gives up `owner`'s claim of a running run (it stays `running` with its checkpoint, owned by
   * nobody, so the next claim takes it at once); false when `owner` did not hold it.
   */
  release(key: string, owner: string): Promise<boolean>;
  /** Replaces the run's checkpoint (the latest one is kept). Rejects when the run was not begun. */
  saveCheckpoint(key: string, step: number, state: unknown): Promise<void>;
  /** The run's latest checkpoint, or null. Rejects with an InputError naming the run when the checkpoint cannot be read. */
  loadCheckpoint(key: string): Promise<Checkpoint | null>;
  /** Marks the run done (endedAt = now) with its documents and deletes its checkpoint. Rejects when the key is unknown. */
  complete(key: string, docs: RunDocuments): Promise<void>;
  /** Marks the run failed with `message` (endedAt = now), keeping its checkpoint. False when the key is unknown. */
  fail(key: string, message: string): Promise<boolean>;
  /** The runs by id, optionally of one experiment and/or status; without config, history and result. */
  list(filter?: RunFilter): Promise<RunSummary[]>;
  /** The full run with this id (a number) or key (a string), documents parsed; null when absent. */
  get(idOrKey: number | string): Promise<StoredRun | null>;
  /** Removes the run and its checkpoint (for --force); true when there was one. */
  delete(key: string): Promise<boolean>;
  /** Releases the store (idempotent). */
  close(): Promise<void>;
}

/** Kinds of store locations {@link parseStoreLocation} accepts. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** What `--store` accepts, for error messages. */
export const STORE_LOCATIONS_ALLOWED = 'a file path (SQLite, e.g. out/runs.sqlite), sqlite:PATH, sqlite://PATH, file:PATH, or a PostgreSQL URL postgres://USER:PASSWORD@HOST:PORT/DATABASE';

/** `scheme:` at the start of a location; one letter is a Windows drive (C:\…), not a scheme. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/**
 * Where a store lives, from a `--store` value: a plain path, `sqlite:PATH`, `sqlite://PATH`,
 * `file:PATH` or `file://PATH` is a SQLite file (`sqlite:///tmp/r.sqlite` is absolute); `postgres://…` or
 * `postgresql://…` is a PostgreSQL database. Any other URL scheme is refused with an InputError naming
 * --store and what is allowed.
 */
export function parseStoreLocation(location: string): StoreLocation {
  if (location.trim() === '') throw new InputError(`--store "": expected ${STORE_LOCATIONS_ALLOWED}`, 'store');
  const m = SCHEME.exec(location);
  if (!m) return { kind: 'sqlite', path: location };
  const scheme = m[1].toLowerCase();
  if (scheme === 'sqlite' || scheme === 'file') {
    // sqlite://out/runs.sqlite and sqlite:out/runs.sqlite are the same file; sqlite:///tmp/r.sqlite is absolute.
    const path = location.slice(m[0].length).replace(/^\/\//, '');
    if (path === '') throw new InputError(`--store "${location}": no path after "${m[0]}"; expected ${STORE_LOCATIONS_ALLOWED}`, 'store');
    return { kind: 'sqlite', path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (!/^[A-Za-z]+:\/\/[^/]/.test(location)) throw new InputError(`--store "${location}": a PostgreSQL store is a URL postgres://USER:PASSWORD@HOST:PORT/DATABASE`, 'store');
    return { kind: 'postgres', url: location };
  }
  throw new InputError(`--store "${location}": run stores of scheme "${scheme}:" are not supported; allowed: ${STORE_LOCATIONS_ALLOWED}`, 'store');
}
