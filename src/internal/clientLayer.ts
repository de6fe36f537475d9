/**
 * What every per-client layer does around its @effect/sql client (the official `PgClient` and `MysqlClient`, the
 * SQLite client of clients/SqliteClient.ts): load the driver only when the layer is built, turn a failure to connect
 * into StorageConnectionError, and put the storage on top.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { SqlCheckpointStorageOptions } from "../layers/SqlCheckpointStorage.js"
import { layerSql, resolveOperationTimeout } from "../layers/SqlCheckpointStorage.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import { layerLangGraphSql } from "../layers/SqlLangGraphCheckpoints.js"
import { layerPersistenceSql } from "../layers/SqlPersistenceStorage.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import {
  type CheckpointValidationError,
  type Dialect,
  type MigrationError,
  StorageConnectionError
} from "../services/CheckpointStorageError.js"
import type { ConnectionWatchdog } from "./connectionWatchdog.js"
import { classifyDriverError } from "./driverError.js"

/**
 * The errors of building a storage layer.
 *
 * @internal
 */
export type StorageLayerError = StorageConnectionError | MigrationError | CheckpointValidationError

/**
 * Imports a driver package when the layer is built, so that importing this library loads no driver the caller
 * does not use.
 *
 * @internal
 */
export const importDriver = <A>(
  dialect: Dialect,
  packageName: string,
  load: () => Promise<A>
): Effect.Effect<A, StorageConnectionError> =>
  Effect.tryPromise({
    try: load,
    catch: (cause) =>
      new StorageConnectionError({
        dialect,
        operation: "connect",
        code: "DRIVER_NOT_AVAILABLE",
        cause: new Error(
          `the driver ${packageName} could not be loaded (is it installed?): ${
            cause instanceof Error ? cause.message : String(cause)
          }`
        )
      })
  })

const connectFailure = (dialect: Dialect, target: string, cause: unknown): StorageConnectionError => {
  // The clients (the official ones and clients/SqliteClient.ts) wrap the driver's error in a SqlError ("Failed to
  // connect", "Failed to open database"); anything else that failed is reported as it is.
  const driverError = typeof cause === "object" && cause !== null && "_tag" in cause && cause._tag === "SqlError" &&
      "cause" in cause && cause.cause !== undefined
    ? cause.cause
    : cause
  const { code } = classifyDriverError(dialect, driverError)
  return new StorageConnectionError({
    dialect,
    operation: "connect",
    target,
    cause: driverError,
    ...(code === undefined ? {} : { code })
  })
}

/**
 * The services a layer builds over its client, from the storage options.
 *
 * @internal
 */
export type ServicesOverClient<ROut> = (
  storage: SqlCheckpointStorageOptions | undefined
) => Layer.Layer<ROut, StorageLayerError, SqlClient.SqlClient>

/**
 * What every layer of this library provides: CheckpointStorage, and the LangGraph checkpoints and the persistence
 * (the SQL backing of @effect/experimental's Persistence), whose tables are created only when first used.
 *
 * @internal
 */
export const allServices: ServicesOverClient<CheckpointStorage | LangGraphCheckpoints | PersistenceStorage> = (
  storage
) => {
  const shared = { operationTimeout: storage?.operationTimeout, statementSpans: storage?.statementSpans }
  return Layer.mergeAll(layerSql(storage), layerLangGraphSql(shared), layerPersistenceSql(shared))
}

/**
 * The LangGraph checkpoints alone, for the LangGraph saver's own connections: a database used only by LangGraph
 * gets only LangGraph's tables.
 *
 * @internal
 */
export const langGraphServices: ServicesOverClient<LangGraphCheckpoints> = (storage) =>
  layerLangGraphSql({ operationTimeout: storage?.operationTimeout, statementSpans: storage?.statementSpans })

/**
 * The services over a client layer, with any failure to build the client reported as a StorageConnectionError that
 * names the (masked) target. Given the watchdog of the client's sockets, arms it with the operation timeout once the
 * services are built (after the migrations, which may rightly take longer).
 *
 * @internal
 */
export const storageOverClient = <ROut, E, R>(options: {
  readonly dialect: Dialect
  readonly target: string
  readonly client: Layer.Layer<SqlClient.SqlClient, E, R>
  readonly storage?: SqlCheckpointStorageOptions | undefined
  readonly watchdog?: ConnectionWatchdog | undefined
  readonly services: ServicesOverClient<ROut>
}): Layer.Layer<ROut, StorageLayerError, R> => {
  const client = Layer.catchAllCause(options.client, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Layer.failCause(cause as Cause.Cause<never>)
      : Layer.fail(connectFailure(options.dialect, options.target, Cause.squash(cause))))
  const storage = options.services(options.storage).pipe(Layer.provide(client))
  const { watchdog } = options
  if (watchdog === undefined) return storage
  const timeout = resolveOperationTimeout(options.dialect, options.storage?.operationTimeout)
  return Layer.tap(storage, () =>
    Effect.sync(() => {
      if (Option.isSome(timeout)) watchdog.arm(Duration.toMillis(timeout.value))
    }))
}
