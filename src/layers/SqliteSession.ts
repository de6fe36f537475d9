/**
 * The SQLite settings that let several processes share one database file, applied right after the file opens.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/**
 * How long a statement waits for another process's write lock before failing with SQLITE_BUSY.
 *
 * @since 0.1.0
 */
export const DEFAULT_BUSY_TIMEOUT: Duration.DurationInput = Duration.seconds(5)

/**
 * How hard SQLite makes each commit durable (`PRAGMA synchronous`). Every level keeps the file uncorrupted; they
 * differ in what survives a power cut or an operating-system crash (a crash of the process loses nothing at any
 * level):
 *
 * - `"normal"`: with WAL, the last commits before a power cut may be lost; the file stays consistent. No fsync per
 *   commit. Only with WAL: with the rollback journal it could corrupt the file on a power cut.
 * - `"full"`: every acknowledged commit survives a power cut: an fsync per commit (about 0.5 ms here).
 * - `"extra"`: `"full"`, and with the rollback journal the directory is synced too.
 *
 * `"off"` is not offered: an operating-system crash could corrupt the file.
 *
 * @since 0.1.0
 */
export const SqliteSynchronous = Schema.Literal("normal", "full", "extra")

/**
 * @since 0.1.0
 */
export type SqliteSynchronous = typeof SqliteSynchronous.Type

/**
 * The options both SQLite layers share.
 *
 * @since 0.1.0
 */
export interface SqliteSessionOptions {
  /** How long to wait for another writer (PRAGMA busy_timeout). Default 5 seconds. */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /** Keep the rollback journal instead of switching the file to WAL. Default false (WAL on). */
  readonly disableWAL?: boolean | undefined
  /** How durable a commit is (see {@link SqliteSynchronous}). Default `"normal"` with WAL, `"full"` with the rollback
   * journal. */
  readonly synchronous?: SqliteSynchronous | undefined
}

// The pragma's own words, so that nothing but these three ever reaches the PRAGMA text.
const SYNCHRONOUS_PRAGMA: Record<SqliteSynchronous, string> = { normal: "NORMAL", full: "FULL", extra: "EXTRA" }

/**
 * Sets the busy timeout first, then WAL: switching to WAL takes a lock, and without the timeout a second process
 * opening the same new file at that moment fails at once with "database is locked". Then the durability of a
 * commit, always explicitly: left to the drivers it differs between them (better-sqlite3 is built to sync a WAL
 * file like `"normal"`, but a connection that switches a new file to WAL reports `"full"`; bun:sqlite syncs
 * `"full"`), so the same file would be more or less durable depending on the runtime that opened it.
 *
 * @since 0.1.0
 */
export const layerSqliteSession = (
  options: SqliteSessionOptions
): Layer.Layer<never, never, SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const busyTimeoutMillis = Math.max(0, Math.round(Duration.toMillis(options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT)))
    const wal = options.disableWAL !== true
    // PRAGMA takes no bound parameters; the values are an integer we computed and a word from our own table.
    yield* sql.unsafe(`PRAGMA busy_timeout = ${busyTimeoutMillis}`)
    if (wal) {
      yield* sql.unsafe("PRAGMA journal_mode = WAL")
    }
    const synchronous = SYNCHRONOUS_PRAGMA[options.synchronous ?? (wal ? "normal" : "full")]
    yield* sql.unsafe(`PRAGMA synchronous = ${synchronous}`)
  }).pipe(Effect.orDie))
