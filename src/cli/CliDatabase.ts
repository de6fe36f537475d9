/**
 * The database a command works on. Every command reaches it through the `CheckpointStorage` service; only `doctor`
 * and `migrate` get the bare client, for the functions of src/layers that inspect and migrate the schema (building
 * a storage would apply the migrations, and `doctor` must change nothing).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { StorageLayerError } from "../internal/clientLayer.js"
import { importDriver } from "../internal/clientLayer.js"
import { classifyDriverError } from "../internal/driverError.js"
import { DEFAULT_CONNECT_TIMEOUT } from "../layers/Postgres.js"
import { layerSql } from "../layers/SqlCheckpointStorage.js"
import { layerLangGraphSql } from "../layers/SqlLangGraphCheckpoints.js"
import { layerPersistenceSql } from "../layers/SqlPersistenceStorage.js"
import { betterSqlite3 } from "../clients/BetterSqlite3.js"
import { layerSqliteClient } from "../layers/SqliteNode.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import { type MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import type { DatabaseUrl } from "./DatabaseUrl.js"

/**
 * The database of a command, as its URL names it.
 */
export class CliDatabase extends Context.Tag("effect-checkpoint-storage/cli/CliDatabase")<CliDatabase, {
  readonly url: DatabaseUrl
}>() {}

const connectFailure = (url: DatabaseUrl, cause: unknown): StorageConnectionError => {
  // The clients wrap the driver's error in a SqlError; better-sqlite3 opening a file throws it as it is.
  const driverError = typeof cause === "object" && cause !== null && "_tag" in cause && cause._tag === "SqlError" &&
      "cause" in cause && cause.cause !== undefined
    ? cause.cause
    : cause
  const { code } = classifyDriverError(url.dialect, driverError)
  return new StorageConnectionError({
    dialect: url.dialect,
    operation: "connect",
    target: url.display,
    cause: driverError,
    ...(code === undefined ? {} : { code })
  })
}

const connectTimeoutMillis = Math.round(Duration.toMillis(DEFAULT_CONNECT_TIMEOUT))

const clientLayer = (url: DatabaseUrl): Layer.Layer<SqlClient.SqlClient, StorageConnectionError> => {
  switch (url.dialect) {
    case "sqlite":
      return Layer.unwrapEffect(Effect.map(
        importDriver("sqlite", betterSqlite3.packageName, betterSqlite3.load),
        // The client of layerSqliteNode, with its WAL and busy timeout, so the CLI can run beside a live agent.
        (open) => layerSqliteClient(open, { databasePath: url.databasePath })
      )).pipe(mapConnectFailure(url))
    case "pg":
      return Layer.unwrapEffect(Effect.map(
        importDriver("pg", "@effect/sql-pg", () => import("@effect/sql-pg")),
        ({ PgClient }) =>
          PgClient.layer({ url: url.connectionString, connectTimeout: DEFAULT_CONNECT_TIMEOUT, maxConnections: 4 })
      )).pipe(mapConnectFailure(url))
    case "mysql":
      return Layer.unwrapEffect(Effect.map(
        importDriver("mysql", "@effect/sql-mysql2", () => import("@effect/sql-mysql2")),
        ({ MysqlClient }) => {
          // @effect/sql-mysql2 ignores poolConfig (the connect timeout) when given a URL: pass the URL's parts.
          const parsed = new URL(Redacted.value(url.connectionString))
          const password = decodeURIComponent(parsed.password)
          const database = decodeURIComponent(parsed.pathname.slice(1))
          return MysqlClient.layer({
            host: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
            port: parsed.port === "" ? 3306 : Number(parsed.port),
            username: decodeURIComponent(parsed.username) || "root",
            ...(password === "" ? {} : { password: Redacted.make(password) }),
            ...(database === "" ? {} : { database }),
            maxConnections: 4,
            poolConfig: { connectTimeout: connectTimeoutMillis, maxIdle: 4 }
          })
        }
      )).pipe(mapConnectFailure(url))
  }
}

const mapConnectFailure = (url: DatabaseUrl) => <A, E>(layer: Layer.Layer<A, E>): Layer.Layer<A, StorageConnectionError> =>
  Layer.catchAllCause(layer, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Layer.failCause(cause as Cause.Cause<never>)
      : Layer.fail(connectFailure(url, Cause.squash(cause))))

/**
 * The database's client without the storage: connects, but applies no migration (for `doctor` and `migrate`).
 */
export const layerDatabase = (
  url: DatabaseUrl
): Layer.Layer<CliDatabase | SqlClient.SqlClient, StorageConnectionError> =>
  Layer.merge(Layer.succeed(CliDatabase, { url }), clientLayer(url))

/**
 * The storage of the database (building it applies the pending migrations, as every layer does), with the
 * persistence service over the same client, whose table is only read (`installed`) unless a command writes to it.
 */
export const layerStorage = (
  url: DatabaseUrl
): Layer.Layer<CliDatabase | CheckpointStorage | PersistenceStorage, StorageLayerError> =>
  Layer.merge(
    Layer.succeed(CliDatabase, { url }),
    Layer.merge(layerSql(), layerPersistenceSql()).pipe(Layer.provide(clientLayer(url)))
  )

/**
 * The LangGraph checkpoints of the database, and only them: the `langgraph` commands build no CheckpointStorage, so
 * they create no agent or app table. The LangGraph migrations run on the service's first operation.
 */
export const layerLangGraph = (
  url: DatabaseUrl
): Layer.Layer<CliDatabase | LangGraphCheckpoints, StorageConnectionError | MigrationError> =>
  Layer.merge(Layer.succeed(CliDatabase, { url }), layerLangGraphSql().pipe(Layer.provide(clientLayer(url))))
