/**
 * CheckpointStorage over any @effect/sql `SqlClient`: one implementation for PostgreSQL, MySQL/MariaDB and SQLite.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { parseCheckpointId } from "../internal/checkpointId.js"
import { decodeInput } from "../internal/decodeInput.js"
import { encodeState } from "../internal/encodeState.js"
import { refailSqlError } from "../internal/refailSqlError.js"
import type { CheckpointState } from "../schema/CheckpointFields.js"
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"
import {
  type Dialect,
  MigrationError,
  StateDecodeError,
  type StorageConnectionError,
  StorageQueryError
} from "../services/CheckpointStorageError.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"
import { agentCheckpoints, appCheckpoints, type CheckpointTable } from "./CheckpointTables.js"

/**
 * @since 0.1.0
 */
export interface SqlCheckpointStorageOptions {
  /** The table recording applied migrations. Default `effect_checkpoint_storage_migrations`. */
  readonly migrationsTable?: string | undefined
}

const parseState = (table: string, id: string, json: string): Effect.Effect<CheckpointState, StateDecodeError> =>
  Effect.suspend(() => {
    let state: unknown
    try {
      state = JSON.parse(json)
    } catch (cause) {
      return Effect.fail(new StateDecodeError({ table, id, cause }))
    }
    return typeof state === "object" && state !== null && !Array.isArray(state)
      ? Effect.succeed(state as CheckpointState)
      : Effect.fail(new StateDecodeError({ table, id, cause: new Error(`the JSON is ${JSON.stringify(state)?.slice(0, 40)}, not an object`) }))
  })

const resolveDialect = (sql: SqlClient.SqlClient): Effect.Effect<Dialect, MigrationError> =>
  sql.onDialectOrElse({
    pg: () => Effect.succeed("pg" as const),
    mysql: () => Effect.succeed("mysql" as const),
    sqlite: () => Effect.succeed("sqlite" as const),
    orElse: () => Effect.fail(new MigrationError({ reason: "unsupported-dialect" }))
  })

/**
 * Builds the storage on the `SqlClient` in context, after applying the migrations.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(
  options: SqlCheckpointStorageOptions = {}
): Effect.fn.Return<
  CheckpointStorageService,
  MigrationError | StorageConnectionError,
  SqlClient.SqlClient
> {
  // Our column names are exact (camelCase, as drizzle-storage made them): the caller's name transforms must not
  // bend them.
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const dialect = yield* resolveDialect(sql)
  yield* runCheckpointMigrations({ dialect, table: options.migrationsTable })

  // MySQL has no INSERT … RETURNING (MariaDB only since 10.5): its driver reports the new id in the result header.
  const insertReturningId = sql.onDialectOrElse({
    mysql: () => (table: string, row: Record<string, unknown>) =>
      Effect.map(
        sql`INSERT INTO ${sql(table)} ${sql.insert(row)}`.raw,
        (header) => String((header as { readonly insertId: number | string }).insertId)
      ),
    orElse: () => (table: string, row: Record<string, unknown>) =>
      Effect.map(
        sql<{ readonly id: number | string | bigint }>`INSERT INTO ${sql(table)} ${sql.insert(row)} RETURNING ${sql("id")}`,
        (rows) => String(rows[0]!.id)
      )
  })

  const columnList = (columns: ReadonlyArray<string>) => sql.csv(columns.map((column) => sql`${sql(column)}`))
  const newestFirst = sql`ORDER BY ${sql("createdAt")} DESC, ${sql("id")} DESC`

  /** Store, retrieve, list and latest for one table, written once for both. */
  const tableAccess = <
    Input extends { readonly state: CheckpointState },
    ListRow extends { readonly id: string },
    Row extends ListRow & { readonly state: string },
    ListRowEncoded,
    RowEncoded
  >(table: CheckpointTable<Input, ListRow, Row, ListRowEncoded, RowEncoded>) => {
    const tableName = sql(table.name)
    const listColumns = columnList(table.listColumns)
    const rowColumns = columnList([...table.listColumns, "state"])
    const validate = decodeInput(table.input, table.inputName)
    const decodeRow = Schema.decodeUnknown(table.row)
    const decodeList = Schema.decodeUnknown(Schema.Array(table.listRow))

    const failed = (operation: string) => (error: SqlError) => refailSqlError(dialect, operation)(error)
    // A row without the shape its table was created with (a NULL, a column of another type) was written or changed
    // outside this library.
    const unexpectedRow = (operation: string) => (cause: ParseResult.ParseError) =>
      new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause })

    const firstStored = (rows: ReadonlyArray<unknown>, operation: string) => {
      if (rows.length === 0) return Effect.succeed(Option.none<Omit<Row, "state"> & { readonly state: CheckpointState }>())
      return decodeRow(rows[0]).pipe(
        Effect.mapError(unexpectedRow(operation)),
        Effect.flatMap((row) => Effect.map(parseState(table.name, row.id, row.state), (state) => Option.some({ ...row, state })))
      )
    }

    return {
      store: (operation: string, input: Input) =>
        Effect.gen(function*() {
          const checkpoint = yield* validate(input)
          const state = yield* encodeState(checkpoint.state)
          const row: Record<string, unknown> = {}
          for (const column of table.inputColumns) row[column] = column === "state" ? state : checkpoint[column]
          return yield* insertReturningId(table.name, row).pipe(Effect.mapError(failed(operation)))
        }),
      retrieve: (operation: string, id: string) =>
        Option.match(parseCheckpointId(id), {
          onNone: () => Effect.succeed(Option.none()),
          onSome: (rowId) =>
            sql`SELECT ${rowColumns} FROM ${tableName} WHERE ${sql("id")} = ${rowId}`.pipe(
              Effect.mapError(failed(operation)),
              Effect.flatMap((rows) => firstStored(rows, operation))
            )
        }),
      latest: (operation: string) =>
        sql`SELECT ${rowColumns} FROM ${tableName} ${newestFirst} LIMIT 1`.pipe(
          Effect.mapError(failed(operation)),
          Effect.flatMap((rows) => firstStored(rows, operation))
        ),
      list: (operation: string) =>
        sql`SELECT ${listColumns} FROM ${tableName} ${newestFirst}`.pipe(
          Effect.mapError(failed(operation)),
          Effect.flatMap((rows) => Effect.mapError(decodeList(rows), unexpectedRow(operation)))
        )
    }
  }

  const agents = tableAccess(agentCheckpoints)
  const apps = tableAccess(appCheckpoints)

  return CheckpointStorage.of({
    storeAgentCheckpoint: Effect.fn("CheckpointStorage.storeAgentCheckpoint")((checkpoint) =>
      agents.store("storeAgentCheckpoint", checkpoint)
    ),
    retrieveAgentCheckpoint: Effect.fn("CheckpointStorage.retrieveAgentCheckpoint")((id) =>
      agents.retrieve("retrieveAgentCheckpoint", id)
    ),
    listAgentCheckpoints: Effect.fn("CheckpointStorage.listAgentCheckpoints")(() => agents.list("listAgentCheckpoints")),
    storeAppCheckpoint: Effect.fn("CheckpointStorage.storeAppCheckpoint")((checkpoint) =>
      apps.store("storeAppCheckpoint", checkpoint)
    ),
    retrieveAppCheckpoint: Effect.fn("CheckpointStorage.retrieveAppCheckpoint")((id) =>
      apps.retrieve("retrieveAppCheckpoint", id)
    ),
    listAppCheckpoints: Effect.fn("CheckpointStorage.listAppCheckpoints")(() => apps.list("listAppCheckpoints")),
    retrieveLatestAppCheckpoint: Effect.fn("CheckpointStorage.retrieveLatestAppCheckpoint")(() =>
      apps.latest("retrieveLatestAppCheckpoint")
    )
  })
})

/**
 * CheckpointStorage from any @effect/sql `SqlClient` (PostgreSQL, MySQL/MariaDB or SQLite). Building the layer
 * applies the migrations.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { layerSql } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerSql().pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) }))
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layerSql = (
  options?: SqlCheckpointStorageOptions
): Layer.Layer<CheckpointStorage, MigrationError | StorageConnectionError, SqlClient.SqlClient> =>
  Layer.effect(CheckpointStorage, make(options))
