/**
 * CheckpointStorage on a SQLite file through bun:sqlite, for Bun, on the SQLite client of this package
 * (clients/SqliteClient.ts).
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import { bunSqlite } from "../clients/BunSqlite.js"
import { allServices, type StorageLayerError } from "../internal/clientLayer.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import { type SqliteStorageOptions, sqliteStorage } from "./SqliteNode.js"

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
export const layerSqliteBun = (
  options: SqliteStorageOptions
): Layer.Layer<CheckpointStorage | LangGraphCheckpoints | PersistenceStorage, StorageLayerError> =>
  sqliteStorage(options, bunSqlite, allServices)
