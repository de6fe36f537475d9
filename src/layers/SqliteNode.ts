/**
 * CheckpointStorage on a SQLite file through better-sqlite3, for Node.js.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type BetterSqlite3 from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { type StorageLayerError, importDriver, storageOverClient } from "../internal/clientLayer.js"
import { decodeInputEither } from "../internal/decodeInput.js"
import type { DriverPreparedStatements } from "../internal/preparedStatements.js"
import { createPrivateDatabaseFile } from "../internal/privateDatabaseFile.js"
import {
  type OpenSqliteDatabase,
  type SqliteClientOptions,
  sqliteClientLayer,
  type SqliteDatabaseHandle
} from "../internal/sqliteClient.js"
import { SqliteStorageConfig } from "../schema/StorageConfig.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import { type SqlCheckpointStorageOptions, splitStorageOptions } from "./SqlCheckpointStorage.js"
import { layerSqliteSession, type SqliteSessionOptions, SqliteSynchronous } from "./SqliteSession.js"

/**
 * The drizzle-storage SQLite config (`{ type: "sqlite", databasePath }`, `type` optional here), plus the client
 * options (named as @effect/sql-sqlite-node names them).
 *
 * @since 0.1.0
 */
export interface SqliteStorageOptions extends SqliteSessionOptions, SqlCheckpointStorageOptions, SqliteClientOptions {
  readonly type?: "sqlite" | undefined
  /** The database file, created if missing; `:memory:` for a private in-memory database. */
  readonly databasePath: string
  /** Accepted for drizzle-storage compatibility and ignored: the migrations ship inside this package. */
  readonly migrationsFolder?: string | undefined
}

/**
 * A SQLite driver, loaded when a layer is built.
 *
 * @internal
 */
export interface SqliteDriver {
  /** Named in the DRIVER_NOT_AVAILABLE error when it cannot be loaded. */
  readonly packageName: string
  readonly load: () => Promise<OpenSqliteDatabase>
}

const validate = decodeInputEither(
  Schema.Struct({
    ...SqliteStorageConfig.fields,
    type: Schema.optionalWith(Schema.Literal("sqlite"), { exact: true }),
    disableWAL: Schema.optional(Schema.Boolean),
    synchronous: Schema.optional(SqliteSynchronous)
  }).pipe(Schema.filter((options) =>
    options.synchronous !== "normal" || options.disableWAL !== true ||
    {
      path: ["synchronous"],
      message: `"normal" is safe with WAL only: with the rollback journal (disableWAL) a power cut could corrupt the file; use "full"`
    }
  )),
  "SqliteStorageConfig"
)

/**
 * The client of a SQLite file, as both layers and the command line open it: a new file created private (0600),
 * then the busy timeout, then WAL (see SqliteSession.ts).
 *
 * @internal
 */
export const layerSqliteClient = (
  open: OpenSqliteDatabase,
  options: SqliteClientOptions & SqliteSessionOptions & { readonly databasePath: string }
): Layer.Layer<SqlClient.SqlClient | DriverPreparedStatements, SqlError> => {
  const { busyTimeout, databasePath, disableWAL, synchronous, ...client } = options
  return Layer.unwrapEffect(Effect.as(
    createPrivateDatabaseFile(databasePath),
    Layer.provideMerge(
      layerSqliteSession({ busyTimeout, disableWAL, synchronous }),
      sqliteClientLayer(() => open(databasePath, { readonly: client.readonly ?? false }), client)
    )
  ))
}

/**
 * What both SQLite layers do: validate, load the driver, open the file, migrate.
 *
 * @internal
 */
export const sqliteStorage = (
  options: SqliteStorageOptions,
  driver: SqliteDriver
): Layer.Layer<CheckpointStorage, StorageLayerError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const valid = validate(options)
    if (Either.isLeft(valid)) return yield* valid.left
    const open = yield* importDriver("sqlite", driver.packageName, driver.load)
    const [storage, { migrationsFolder: _, type: __, ...client }] = splitStorageOptions(options)
    return storageOverClient({
      dialect: "sqlite",
      target: options.databasePath,
      client: layerSqliteClient(open, client),
      storage
    })
  }))

const betterSqlite3Handle = (db: BetterSqlite3.Database): SqliteDatabaseHandle => ({
  prepare: (sql) => {
    const statement = db.prepare<Array<unknown>, object>(sql)
    return {
      returnsRows: statement.reader,
      all: (params) => statement.all(...params),
      first: (params) => statement.get(...params),
      values: (params) => {
        // better-sqlite3 gives arrays instead of objects in raw mode, a setting of the statement.
        statement.raw(true)
        try {
          return statement.all(...params) as Array<Array<unknown>>
        } finally {
          statement.raw(false)
        }
      },
      run: (params) => statement.run(...params),
      safeIntegers: (enabled) => void statement.safeIntegers(enabled)
    }
  },
  inTransaction: () => db.inTransaction,
  close: () => db.close()
})

/**
 * better-sqlite3, which opens a file synchronously and runs each statement synchronously.
 *
 * @internal
 */
export const betterSqlite3: SqliteDriver = {
  packageName: "better-sqlite3",
  load: async () => {
    const module = await import("better-sqlite3")
    const Database = module.default ?? module
    return (filename, { readonly }) => betterSqlite3Handle(new Database(filename, { readonly }))
  }
}

/**
 * CheckpointStorage on a SQLite file, through better-sqlite3 (Node.js). WAL and a 5 s busy timeout by default, so
 * several processes can share the file.
 *
 * @example
 * ```ts
 * import { layerSqliteNode } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerSqliteNode({ databasePath: "./agent_state.db" })
 * ```
 *
 * @since 0.1.0
 */
export const layerSqliteNode = (options: SqliteStorageOptions): Layer.Layer<CheckpointStorage, StorageLayerError> =>
  sqliteStorage(options, betterSqlite3)
