/**
 * What the services with tables of their own (LangGraph's, persistence's) share: their migrations run by the first
 * operation rather than when the layer is built, so that a program that never uses one gets none of its tables; a
 * read-only check of whether they are there; and one wrapper for every operation (its span, its statements untraced
 * unless asked, SQL failures typed, the operation timeout).
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { operationTimedOut, withOperationTimeout } from "../internal/operationTimeout.js"
import { refailSqlDefect, refailSqlError } from "../internal/refailSqlError.js"
import type {
  Dialect,
  MigrationError,
  StorageConnectionError,
  StorageQueryError
} from "../services/CheckpointStorageError.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"
import { appliedMigrations } from "./CheckpointSchemaReport.js"
import { resolveOperationTimeout, statementTracingOf } from "./SqlCheckpointStorage.js"

const spanOptions = { captureStackTrace: false } as const

/**
 * @internal
 */
export interface LazyMigratedServiceOptions {
  /** The service's name in its spans: `<service>.<operation>`. */
  readonly service: string
  readonly dialect: Dialect
  /** The migrations and the table that records them. */
  readonly migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>>
  readonly migrationsTable: string
  readonly operationTimeout?: Duration.DurationInput | undefined
  readonly statementSpans?: boolean | undefined
}

/**
 * @internal
 */
export interface LazyMigratedService {
  /** Applies the migrations once; one that fails is tried again by the next call. */
  readonly setup: Effect.Effect<void, MigrationError | StorageConnectionError>
  /** Whether every migration is recorded, read from the migrations table only: asking creates nothing. */
  readonly installed: Effect.Effect<boolean, StorageConnectionError | StorageQueryError>
  /** Runs an operation: the migrations first, then `effect`, as the span `<service>.<name>`. */
  readonly operation: <A, E>(
    name: string,
    effect: Effect.Effect<A, E | SqlError>
  ) => Effect.Effect<A, Exclude<E, { readonly _tag: "SqlError" }> | MigrationError | StorageConnectionError | StorageQueryError>
}

/**
 * The setup, installed check and operation wrapper of a service over the `SqlClient` in context.
 *
 * @internal
 */
export const makeLazyMigratedService = (
  options: LazyMigratedServiceOptions
): Effect.Effect<LazyMigratedService, never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const client = yield* SqlClient.SqlClient
    const { dialect, migrations, migrationsTable, service } = options
    const timeout = resolveOperationTimeout(dialect, options.operationTimeout)
    const statementTracing = statementTracingOf(options.statementSpans)

    let migrated = false
    const migrationLock = yield* Effect.makeSemaphore(1)
    const migrate = migrationLock.withPermits(1)(Effect.suspend(() =>
      migrated ? Effect.void : runCheckpointMigrations({ dialect, table: migrationsTable, migrations }).pipe(
        Effect.provideService(SqlClient.SqlClient, client),
        Effect.tap(() => {
          migrated = true
        })
      )
    )).pipe(Effect.withSpan(`${service}.setup`, spanOptions))
    const setup = Effect.suspend(() => migrated ? Effect.void : migrate)

    // A catalog look-up first: a database without the migrations table has none of the service's tables.
    const installed = Effect.suspend(() =>
      migrated ? Effect.succeed(true) : appliedMigrations({ dialect, migrationsTable }).pipe(
        Effect.provideService(SqlClient.SqlClient, client),
        Effect.map((applied) => applied.length >= Object.keys(migrations).length),
        Effect.tap((complete) => {
          if (complete) migrated = true
        })
      )
    ).pipe(Effect.withSpan(`${service}.installed`, spanOptions))

    const operation: LazyMigratedService["operation"] = <A, E>(name: string, effect: Effect.Effect<A, E | SqlError>) => {
      const typed = refailSqlDefect(dialect, name)(statementTracing(
        Effect.zipRight(
          setup,
          Effect.catchTag(effect, "SqlError", (error) => Effect.fail(refailSqlError(dialect, name)(error as SqlError)))
        )
      ))
      return Effect.withSpan(
        Option.isNone(timeout)
          ? typed
          : withOperationTimeout(timeout.value, () => operationTimedOut(dialect, name, timeout.value))(typed),
        `${service}.${name}`,
        spanOptions
      )
    }

    const kit: LazyMigratedService = { setup, installed, operation }
    return kit
  })

