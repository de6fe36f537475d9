/**
 * CheckpointStorage on a SQLite file through bun:sqlite (`@effect/sql-sqlite-bun`), for Bun.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { type StorageLayerError, importDriver, storageOverClient } from "../internal/clientLayer.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import { type SqliteStorageOptions, sqliteClientOptions, validateSqliteOptions } from "./SqliteNode.js"
import { layerSqliteSession } from "./SqliteSession.js"

/**
 * CheckpointStorage on a SQLite file, through Bun's built-in bun:sqlite. Same options and behaviour as
 * `layerSqliteNode`; building it under Node.js fails with a StorageConnectionError (code DRIVER_NOT_AVAILABLE).
 *
 * @example
 * ```ts
 * import { layerSqliteBun } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerSqliteBun({ databasePath: "./agent_state.db" })
 * ```
 *
 * @since 0.1.0
 */
export const layerSqliteBun = (options: SqliteStorageOptions): Layer.Layer<CheckpointStorage, StorageLayerError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const valid = validateSqliteOptions(options)
    if (Either.isLeft(valid)) return yield* valid.left
    const { SqliteClient } = yield* importDriver("sqlite", "@effect/sql-sqlite-bun (Bun only)", () =>
      import("@effect/sql-sqlite-bun"))
    const { client, session, storage } = sqliteClientOptions(options)
    return storageOverClient({
      dialect: "sqlite",
      target: options.databasePath,
      client: Layer.provideMerge(layerSqliteSession(session), SqliteClient.layer(client)),
      storage
    })
  }))
