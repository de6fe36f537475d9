/**
 * The versioned schema of the checkpoint tables, applied with @effect/sql's Migrator under a lock that holds
 * across processes on every dialect.
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { refailSqlError } from "../internal/refailSqlError.js"
import { type Dialect, MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"
import { checkpointMigrations } from "./CheckpointMigrationSteps.js"

export { checkpointMigrations, IMPORT_LEDGER_TABLE } from "./CheckpointMigrationSteps.js"

/**
 * The table in which the Migrator records which migrations ran.
 *
 * @since 0.1.0
 */
export const DEFAULT_MIGRATIONS_TABLE = "effect_checkpoint_storage_migrations"

/**
 * How long a process waits for another one that is applying the migrations, in seconds.
 */
const MIGRATION_LOCK_TIMEOUT_SECONDS = 60

interface FailedMigration {
  readonly migration: string
  readonly cause: Cause.Cause<unknown>
}

// The Migrator reports a failing migration as a defect, and on MySQL the rollback to its savepoint then fails as
// well (the DDL has committed), which replaces that defect. So each migration records its own failure here.
const recordingFailures = (
  migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>>,
  failed: Ref.Ref<Option.Option<FailedMigration>>
) =>
  Migrator.fromRecord(Object.fromEntries(
    Object.entries(migrations).map(([migration, effect]) => [
      migration,
      Effect.tapErrorCause(effect, (cause) => Ref.set(failed, Option.some({ migration, cause })))
    ])
  ))

// Serializes the migrations of every process sharing a database. The Migrator locks its table on PostgreSQL only,
// and only after creating it, so two processes starting on an empty database race on every dialect without this.
const withMigrationLock = (
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  table: string
) =>
<A, E, R>(migrate: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError | MigrationError, R> => {
  switch (dialect) {
    case "pg":
      // A transaction-scoped advisory lock, released by the commit. The Migrator's own transaction nests in ours as
      // a savepoint; its table is created first so that its existence check cannot abort our transaction.
      return sql.withTransaction(
        sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || ${table}))`.pipe(
          Effect.zipRight(sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
  migration_id integer primary key,
  created_at timestamp with time zone not null default now(),
  name text not null
)`),
          Effect.zipRight(migrate)
        )
      )
    case "mysql": {
      // A named lock belongs to the session: take it and release it inside one transaction so both use the same
      // pooled connection. MySQL DDL commits implicitly (the lock outlives those commits), so the Migrator's record
      // of the migrations it is about to run is committed before they run: if one fails, that record is taken back
      // here, and the next start runs them again (each of them is written to be safe to repeat).
      const lockName = sql`SHA1(CONCAT(DATABASE(), '.', ${table}))`
      const latestApplied = sql<{ readonly latest: number | string | null }>`SELECT MAX(migration_id) AS latest FROM ${
        sql(table)
      }`.pipe(Effect.map((rows) => Number(rows[0]?.latest ?? 0)))
      return sql.withTransaction(
        Effect.acquireUseRelease(
          sql<{ readonly locked: number | null }>`SELECT GET_LOCK(${lockName}, ${MIGRATION_LOCK_TIMEOUT_SECONDS}) AS locked`
            .pipe(
              Effect.filterOrFail(
                (rows) => rows[0]?.locked === 1,
                () => new MigrationError({ dialect, reason: "locked" })
              )
            ),
          () =>
            Effect.gen(function*() {
              yield* sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
  migration_id INTEGER UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  name VARCHAR(255) NOT NULL,
  PRIMARY KEY (migration_id)
)`
              const before = yield* latestApplied
              return yield* Effect.onError(
                migrate,
                () => Effect.ignore(sql`DELETE FROM ${sql(table)} WHERE migration_id > ${before}`)
              )
            }),
          () => Effect.ignore(sql`SELECT RELEASE_LOCK(${lockName})`)
        )
      )
    }
    case "sqlite":
      // SQLite has one writer at a time: the first write of our transaction takes the write lock (waiting up to the
      // busy timeout), and every other process's migration waits for our commit.
      return Effect.zipRight(
        sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
  migration_id integer PRIMARY KEY NOT NULL,
  created_at datetime NOT NULL DEFAULT current_timestamp,
  name VARCHAR(255) NOT NULL
)`,
        sql.withTransaction(
          Effect.zipRight(sql`DELETE FROM ${sql(table)} WHERE migration_id < 0`, migrate)
        )
      )
  }
}

/**
 * Applies the checkpoint migrations that the database has not seen yet, and returns those it applied.
 * Safe to run from many processes at once.
 *
 * @since 0.1.0
 */
export const runCheckpointMigrations = (options: {
  readonly dialect: Dialect
  readonly table?: string | undefined
  /** Another set of migrations with its own table (the LangGraph tables'); the checkpoint tables' by default. */
  readonly migrations?: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> | undefined
}): Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  MigrationError | StorageConnectionError,
  SqlClient.SqlClient
> =>
  Effect.gen(function*() {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const table = options.table ?? DEFAULT_MIGRATIONS_TABLE
    const failed = yield* Ref.make(Option.none<FailedMigration>())
    const migrate = Migrator.make({})({
      loader: recordingFailures(options.migrations ?? checkpointMigrations, failed),
      table
    })
    return yield* withMigrationLock(sql, options.dialect, table)(migrate).pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.flatMap(Ref.get(failed), (failedMigration) =>
            Effect.fail(toMigrationFailure(options.dialect, cause, failedMigration)))
      )
    )
  }).pipe(Effect.withSpan("CheckpointStorage.migrate"))

const toMigrationFailure = (
  dialect: Dialect,
  cause: Cause.Cause<unknown>,
  failedMigration: Option.Option<FailedMigration>
): MigrationError | StorageConnectionError => {
  if (Option.isSome(failedMigration)) {
    const { cause: migrationCause, migration } = failedMigration.value
    return new MigrationError({ dialect, reason: "failed", migration, cause: Cause.squash(migrationCause) })
  }
  const failure = Option.getOrUndefined(Cause.failureOption(cause))
  if (failure instanceof MigrationError) return failure
  if (isSqlError(failure)) {
    const refailed = refailSqlError(dialect, "migrate")(failure)
    if (refailed._tag === "StorageConnectionError") return refailed
  }
  const defect = Chunk.toReadonlyArray(Cause.defects(cause))[0]
  return new MigrationError({ dialect, reason: "failed", cause: failure ?? defect ?? Cause.squash(cause) })
}

const isSqlError = (error: unknown): error is SqlError =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError"
