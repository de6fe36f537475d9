/**
 * CheckpointStorage over any @effect/sql `SqlClient`: one implementation for PostgreSQL, MySQL/MariaDB and SQLite.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { parseCheckpointId } from "../internal/checkpointId.js"
import { decodeInput } from "../internal/decodeInput.js"
import { encodeState } from "../internal/encodeState.js"
import { refailSqlError } from "../internal/refailSqlError.js"
import { NamedAgentCheckpoint, type StoredAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import { AppSessionCheckpoint, type StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
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

/**
 * @since 0.1.0
 */
export interface SqlCheckpointStorageOptions {
  /** The table recording applied migrations. Default `effect_checkpoint_storage_migrations`. */
  readonly migrationsTable?: string | undefined
}

// Drivers return BIGINT as a number (mysql2, SQLite) or as decimal text (node-postgres): read either as a number.
const BigIntColumn = Schema.Union(Schema.Number, Schema.NumberFromString, Schema.BigIntFromSelf.pipe(
  Schema.transform(Schema.Number, { strict: true, decode: (n) => Number(n), encode: (n) => BigInt(n) })
))

const IdColumn = Schema.transform(BigIntColumn, Schema.String, {
  strict: true,
  decode: (n) => String(n),
  encode: (s) => Number(s)
})

const StoredColumns = { id: IdColumn, createdAt: BigIntColumn }

// Rows as the database returns them, read without the input limits (a row written by drizzle-storage may hold an
// empty or a long identifier). The state stays JSON text here: it is parsed once, after the row decodes.
const AgentListRow = Schema.Struct({
  ...StoredColumns,
  sessionId: Schema.String,
  agentId: Schema.String,
  agentType: Schema.String,
  name: Schema.String
})
const AgentCheckpointRow = Schema.Struct({ ...AgentListRow.fields, state: Schema.String })
const AppListRow = Schema.Struct({
  ...StoredColumns,
  sessionId: Schema.String,
  hostname: Schema.String,
  projectDirectory: Schema.String
})
const AppCheckpointRow = Schema.Struct({ ...AppListRow.fields, state: Schema.String })

const AGENT_TABLE = "AgentCheckpoints"
const APP_TABLE = "AppCheckpoints"
const AGENT_LIST_COLUMNS = ["id", "sessionId", "agentId", "agentType", "name", "createdAt"]
const APP_LIST_COLUMNS = ["id", "sessionId", "hostname", "projectDirectory", "createdAt"]

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
      : Effect.fail(new StateDecodeError({ table, id, cause: new Error(`the JSON is a ${typeof state}, not an object`) }))
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

  const refail = (operation: string) => (error: Parameters<ReturnType<typeof refailSqlError>>[0]) =>
    refailSqlError(dialect, operation)(error)

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
  const agentListColumns = columnList(AGENT_LIST_COLUMNS)
  const agentColumns = columnList([...AGENT_LIST_COLUMNS, "state"])
  const appListColumns = columnList(APP_LIST_COLUMNS)
  const appColumns = columnList([...APP_LIST_COLUMNS, "state"])
  const newestFirst = sql`ORDER BY ${sql("createdAt")} DESC, ${sql("id")} DESC`

  const decodeAgentRow = Schema.decodeUnknown(AgentCheckpointRow)
  const decodeAppRow = Schema.decodeUnknown(AppCheckpointRow)
  const decodeAgentList = Schema.decodeUnknown(Schema.Array(AgentListRow))
  const decodeAppList = Schema.decodeUnknown(Schema.Array(AppListRow))
  const validateAgentCheckpoint = decodeInput(NamedAgentCheckpoint, "NamedAgentCheckpoint")
  const validateAppCheckpoint = decodeInput(AppSessionCheckpoint, "AppSessionCheckpoint")

  // A row that does not have the shape the table was created with (a NULL, a column of another type) was written
  // or changed outside this library.
  const unexpectedRow = (operation: string) => (cause: ParseResult.ParseError) =>
    new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause })

  const toStoredAgent = (row: typeof AgentCheckpointRow.Type) =>
    Effect.map(parseState(AGENT_TABLE, row.id, row.state), (state): StoredAgentCheckpoint => ({ ...row, state }))
  const toStoredApp = (row: typeof AppCheckpointRow.Type) =>
    Effect.map(parseState(APP_TABLE, row.id, row.state), (state): StoredAppCheckpoint => ({ ...row, state }))

  const firstAgentRow = (rows: ReadonlyArray<unknown>, operation: string) =>
    rows.length === 0
      ? Effect.succeed(Option.none<StoredAgentCheckpoint>())
      : decodeAgentRow(rows[0]).pipe(
        Effect.mapError(unexpectedRow(operation)),
        Effect.flatMap(toStoredAgent),
        Effect.map(Option.some)
      )
  const firstAppRow = (rows: ReadonlyArray<unknown>, operation: string) =>
    rows.length === 0
      ? Effect.succeed(Option.none<StoredAppCheckpoint>())
      : decodeAppRow(rows[0]).pipe(
        Effect.mapError(unexpectedRow(operation)),
        Effect.flatMap(toStoredApp),
        Effect.map(Option.some)
      )

  const storeAgentCheckpoint = Effect.fn("CheckpointStorage.storeAgentCheckpoint")(function*(input: NamedAgentCheckpoint) {
    const checkpoint = yield* validateAgentCheckpoint(input)
    const state = yield* encodeState(checkpoint.state)
    return yield* insertReturningId(AGENT_TABLE, {
      sessionId: checkpoint.sessionId,
      agentId: checkpoint.agentId,
      name: checkpoint.name,
      agentType: checkpoint.agentType,
      state,
      createdAt: checkpoint.createdAt
    }).pipe(Effect.mapError(refail("storeAgentCheckpoint")))
  })

  const retrieveAgentCheckpoint = Effect.fn("CheckpointStorage.retrieveAgentCheckpoint")(function*(id: string) {
    const rowId = parseCheckpointId(id)
    if (Option.isNone(rowId)) return Option.none()
    const rows = yield* sql`SELECT ${agentColumns} FROM ${sql(AGENT_TABLE)} WHERE ${sql("id")} = ${rowId.value}`.pipe(
      Effect.mapError(refail("retrieveAgentCheckpoint"))
    )
    return yield* firstAgentRow(rows, "retrieveAgentCheckpoint")
  })

  const listAgentCheckpoints = Effect.fn("CheckpointStorage.listAgentCheckpoints")(function*() {
    const rows = yield* sql`SELECT ${agentListColumns} FROM ${sql(AGENT_TABLE)} ${newestFirst}`.pipe(
      Effect.mapError(refail("listAgentCheckpoints"))
    )
    return yield* decodeAgentList(rows).pipe(Effect.mapError(unexpectedRow("listAgentCheckpoints")))
  })

  const storeAppCheckpoint = Effect.fn("CheckpointStorage.storeAppCheckpoint")(function*(input: AppSessionCheckpoint) {
    const checkpoint = yield* validateAppCheckpoint(input)
    const state = yield* encodeState(checkpoint.state)
    return yield* insertReturningId(APP_TABLE, {
      sessionId: checkpoint.sessionId,
      hostname: checkpoint.hostname,
      projectDirectory: checkpoint.projectDirectory,
      state,
      createdAt: checkpoint.createdAt
    }).pipe(Effect.mapError(refail("storeAppCheckpoint")))
  })

  const retrieveAppCheckpoint = Effect.fn("CheckpointStorage.retrieveAppCheckpoint")(function*(id: string) {
    const rowId = parseCheckpointId(id)
    if (Option.isNone(rowId)) return Option.none()
    const rows = yield* sql`SELECT ${appColumns} FROM ${sql(APP_TABLE)} WHERE ${sql("id")} = ${rowId.value}`.pipe(
      Effect.mapError(refail("retrieveAppCheckpoint"))
    )
    return yield* firstAppRow(rows, "retrieveAppCheckpoint")
  })

  const listAppCheckpoints = Effect.fn("CheckpointStorage.listAppCheckpoints")(function*() {
    const rows = yield* sql`SELECT ${appListColumns} FROM ${sql(APP_TABLE)} ${newestFirst}`.pipe(
      Effect.mapError(refail("listAppCheckpoints"))
    )
    return yield* decodeAppList(rows).pipe(Effect.mapError(unexpectedRow("listAppCheckpoints")))
  })

  const retrieveLatestAppCheckpoint = Effect.fn("CheckpointStorage.retrieveLatestAppCheckpoint")(function*() {
    const rows = yield* sql`SELECT ${appColumns} FROM ${sql(APP_TABLE)} ${newestFirst} LIMIT 1`.pipe(
      Effect.mapError(refail("retrieveLatestAppCheckpoint"))
    )
    return yield* firstAppRow(rows, "retrieveLatestAppCheckpoint")
  })

  return CheckpointStorage.of({
    storeAgentCheckpoint,
    retrieveAgentCheckpoint,
    listAgentCheckpoints,
    storeAppCheckpoint,
    retrieveAppCheckpoint,
    listAppCheckpoints,
    retrieveLatestAppCheckpoint
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
