/**
 * CheckpointStorage on a SQLite file through better-sqlite3 (`@effect/sql-sqlite-node`), for Node.js.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqliteClientConfig } from "@effect/sql-sqlite-node/SqliteClient"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { type StorageLayerError, importDriver, storageOverClient } from "../internal/clientLayer.js"
import { decodeInputEither } from "../internal/decodeInput.js"
import { createPrivateDatabaseFile } from "../internal/privateDatabaseFile.js"
import { SqliteStorageConfig } from "../schema/StorageConfig.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import { type SqlCheckpointStorageOptions, splitStorageOptions } from "./SqlCheckpointStorage.js"
import { layerSqliteSession, type SqliteSessionOptions } from "./SqliteSession.js"

/**
 * The drizzle-storage SQLite config (`{ type: "sqlite", databasePath }`, `type` optional here), plus the
 * @effect/sql-sqlite-node client options.
 *
 * @since 0.1.0
 */
export interface SqliteStorageOptions
  extends SqliteSessionOptions, SqlCheckpointStorageOptions, Omit<SqliteClientConfig, "filename" | "disableWAL">
{
  readonly type?: "sqlite" | undefined
  /** The database file, created if missing; `:memory:` for a private in-memory database. */
  readonly databasePath: string
  /** Accepted for drizzle-storage compatibility and ignored: the migrations ship inside this package. */
  readonly migrationsFolder?: string | undefined
}

const validate = decodeInputEither(
  Schema.Struct({
    ...SqliteStorageConfig.fields,
    type: Schema.optionalWith(Schema.Literal("sqlite"), { exact: true })
  }),
  "SqliteStorageConfig"
)

/**
 * What both SQLite layers do: validate, load the client, open the file with the session settings, migrate.
 *
 * @internal
 */
export const sqliteStorage = (
  options: SqliteStorageOptions,
  driver: {
    readonly packageName: string
    readonly load: () => Promise<{
      readonly SqliteClient: {
        readonly layer: (config: SqliteClientConfig) => Layer.Layer<SqlClient.SqlClient, ConfigError.ConfigError>
      }
    }>
  }
): Layer.Layer<CheckpointStorage, StorageLayerError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const valid = validate(options)
    if (Either.isLeft(valid)) return yield* valid.left
    const { SqliteClient } = yield* importDriver("sqlite", driver.packageName, driver.load)
    yield* createPrivateDatabaseFile(options.databasePath)
    const [storage, { busyTimeout, databasePath, disableWAL, migrationsFolder: _, type: __, ...client }] =
      splitStorageOptions(options)
    return storageOverClient({
      dialect: "sqlite",
      target: databasePath,
      // WAL is switched on by layerSqliteSession, after the busy timeout is set.
      client: Layer.provideMerge(
        layerSqliteSession({ busyTimeout, disableWAL }),
        SqliteClient.layer({ ...client, filename: databasePath, disableWAL: true })
      ),
      storage
    })
  }))

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
  sqliteStorage(options, { packageName: "@effect/sql-sqlite-node", load: () => import("@effect/sql-sqlite-node") })
