/**
 * The SQLite settings that let several processes share one database file, applied right after the file opens.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * How long a statement waits for another process's write lock before failing with SQLITE_BUSY.
 *
 * @since 0.1.0
 */
export const DEFAULT_BUSY_TIMEOUT: Duration.DurationInput = Duration.seconds(5)

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
}

/**
 * Sets the busy timeout first, then WAL: switching to WAL takes a lock, and without the timeout a second process
 * opening the same new file at that moment fails at once with "database is locked".
 *
 * @since 0.1.0
 */
export const layerSqliteSession = (
  options: SqliteSessionOptions
): Layer.Layer<never, never, SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const busyTimeoutMillis = Math.max(0, Math.round(Duration.toMillis(options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT)))
    // PRAGMA takes no bound parameters; the value is an integer we computed.
    yield* sql.unsafe(`PRAGMA busy_timeout = ${busyTimeoutMillis}`)
    if (options.disableWAL !== true) {
      yield* sql.unsafe("PRAGMA journal_mode = WAL")
    }
  }).pipe(Effect.orDie))
