/**
 * CheckpointStorage from a drizzle-storage config object, whichever database it names.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { StorageLayerError } from "../internal/clientLayer.js"
import { decodeInput } from "../internal/decodeInput.js"
import { StorageConfig } from "../schema/StorageConfig.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import { layerMysql } from "./Mysql.js"
import { layerPostgres } from "./Postgres.js"
import { layerSqliteBun } from "./SqliteBun.js"
import { layerSqliteNode } from "./SqliteNode.js"

const validate = decodeInput(StorageConfig, "StorageConfig")

/**
 * True when running under Bun, where SQLite is bun:sqlite; under Node.js it is better-sqlite3.
 *
 * @since 0.1.0
 */
export const isBun: boolean = typeof process !== "undefined" && typeof process.versions?.bun === "string"

/**
 * CheckpointStorage for a `{ type: "sqlite" | "mysql" | "postgres", … }` config, as Token Ring's drizzle-storage
 * plugin takes it. SQLite uses bun:sqlite under Bun and better-sqlite3 under Node.js.
 *
 * @example
 * ```ts
 * import { layerFromConfig } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerFromConfig({ type: "sqlite", databasePath: "./agent_state.db" })
 * ```
 *
 * @since 0.1.0
 */
export const layerFromConfig = (
  config: typeof StorageConfig.Encoded
): Layer.Layer<CheckpointStorage | LangGraphCheckpoints | PersistenceStorage, StorageLayerError> =>
  Layer.unwrapEffect(Effect.map(validate(config), (valid) => {
    switch (valid.type) {
      case "sqlite":
        return isBun ? layerSqliteBun(valid) : layerSqliteNode(valid)
      case "mysql":
        return layerMysql(valid)
      case "postgres":
        return layerPostgres(valid)
    }
  }))
