/**
 * CheckpointStorage on a SQLite file through better-sqlite3, for Node.js, on the SQLite client of this package
 * (clients/SqliteClient.ts).
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { betterSqlite3 } from "../clients/BetterSqlite3.js"
import * as SqliteClient from "../clients/SqliteClient.js"
import {
  allServices,
  importDriver,
  type ServicesOverClient,
  type StorageLayerError,
  storageOverClient
} from "../internal/clientLayer.js"
import { decodeInputEither } from "../internal/decodeInput.js"
import { createPrivateDatabaseFile } from "../internal/privateDatabaseFile.js"
import { SqliteStorageConfig } from "../schema/StorageConfig.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import { type SqlCheckpointStorageOptions, splitStorageOptions } from "./SqlCheckpointStorage.js"
import { layerSqliteSession, type SqliteSessionOptions, SqliteSynchronous } from "./SqliteSession.js"

/**
 * The drizzle-storage SQLite config (`{ type: "sqlite", databasePath }`, `type` optional here), plus the client
 * options (named as @effect/sql-sqlite-node names them).
 *
 * @since 0.1.0
 */
export interface SqliteStorageOptions
  extends SqliteSessionOptions, SqlCheckpointStorageOptions, SqliteClient.SqliteClientOptions
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
  open: SqliteClient.OpenSqliteDatabase,
  options: SqliteClient.SqliteClientOptions & SqliteSessionOptions & { readonly databasePath: string }
): Layer.Layer<SqlClient.SqlClient, SqlError> => {
  const { busyTimeout, databasePath, disableWAL, synchronous, ...client } = options
  return Layer.unwrapEffect(Effect.as(
    createPrivateDatabaseFile(databasePath),
    Layer.provideMerge(
      layerSqliteSession({ busyTimeout, disableWAL, synchronous }),
      SqliteClient.layer(() => open(databasePath, { readonly: client.readonly ?? false }), client)
    )
  ))
}

/**
 * What both SQLite layers do: validate, load the driver, open the file, migrate.
 *
 * @internal
 */
export const sqliteStorage = <ROut>(
  options: SqliteStorageOptions,
  driver: SqliteClient.SqliteDriver,
  services: ServicesOverClient<ROut>
): Layer.Layer<ROut, StorageLayerError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const valid = validate(options)
    if (Either.isLeft(valid)) return yield* valid.left
    const open = yield* importDriver("sqlite", driver.packageName, driver.load)
    const [storage, { migrationsFolder: _, type: __, ...client }] = splitStorageOptions(options)
    return storageOverClient({
      dialect: "sqlite",
      target: options.databasePath,
      client: layerSqliteClient(open, client),
      storage,
      services
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
export const layerSqliteNode = (
  options: SqliteStorageOptions
): Layer.Layer<CheckpointStorage | LangGraphCheckpoints | PersistenceStorage, StorageLayerError> =>
  sqliteStorage(options, betterSqlite3, allServices)
