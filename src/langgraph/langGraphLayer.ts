/**
 * The LangGraph service alone on the database a URL names, read by the same rule as the CLI's `--db`.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { bunSqlite } from "../clients/BunSqlite.js"
import { betterSqlite3 } from "../clients/BetterSqlite3.js"
import { parseDatabaseUrl } from "../cli/DatabaseUrl.js"
import { langGraphServices, type StorageLayerError } from "../internal/clientLayer.js"
import { isBun } from "../layers/FromConfig.js"
import { mysqlServices } from "../layers/Mysql.js"
import { postgresServices } from "../layers/Postgres.js"
import { sqliteStorage } from "../layers/SqliteNode.js"
import { CheckpointValidationError } from "../services/CheckpointStorageError.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"

/**
 * `postgres://…`, `mysql://…` / `mariadb://…`, `sqlite:FILE` or a file path. A URL that names no database we know
 * fails the layer with a CheckpointValidationError (its password masked).
 *
 * @internal
 */
export const langGraphLayerOfUrl = (connectionString: string): Layer.Layer<LangGraphCheckpoints, StorageLayerError> =>
  Layer.unwrapEffect(
    parseDatabaseUrl(connectionString).pipe(
      Effect.mapError((error) =>
        new CheckpointValidationError({
          subject: "connection string",
          issues: [{ path: "", message: error.reason }]
        })
      ),
      Effect.map((url) => {
        switch (url.dialect) {
          case "sqlite":
            return sqliteStorage({ databasePath: url.databasePath }, isBun ? bunSqlite : betterSqlite3, langGraphServices)
          case "pg":
            return postgresServices({ connectionString: url.connectionString }, langGraphServices)
          case "mysql":
            return mysqlServices({ connectionString: url.connectionString }, langGraphServices)
        }
      })
    )
  )
