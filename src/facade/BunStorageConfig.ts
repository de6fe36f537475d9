/**
 * bun-storage 0.2's configuration: its schema, its durations, the database its connection string names, and its
 * retention as the service's policy. Each rule once, here; the class and the plugin use them.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { maskConnectionString } from "../internal/connectionTarget.js"
import type { StorageLayerError } from "../internal/clientLayer.js"
import { toValidationError } from "../internal/decodeInput.js"
import { isBun } from "../layers/FromConfig.js"
import { layerMysql } from "../layers/Mysql.js"
import { layerPostgres } from "../layers/Postgres.js"
import { layerSqliteBun } from "../layers/SqliteBun.js"
import { layerSqliteNode } from "../layers/SqliteNode.js"
import type { RetentionPolicy } from "../schema/CheckpointQuery.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"

const UNIT_MILLIS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^(\d+)(ms|s|m|h|d)$/

/**
 * A bun-storage duration in milliseconds: a whole number and a unit, `ms`, `s`, `m` (minutes), `h` or `d` ("30d"),
 * or undefined for anything else.
 *
 * @since 0.1.0
 */
export const durationMillis = (text: string): number | undefined => {
  const match = DURATION.exec(text)
  if (match === null) return undefined
  const millis = Number(match[1]) * UNIT_MILLIS[match[2] as keyof typeof UNIT_MILLIS]
  return Number.isSafeInteger(millis) ? millis : undefined
}

const Duration = Schema.String.pipe(
  Schema.filter((text) =>
    durationMillis(text) !== undefined || "must be a duration such as \"30d\": a whole number and ms, s, m, h or d"
  )
)
const Interval = Duration.pipe(Schema.filter((text) => durationMillis(text)! > 0 || "must be longer than zero"))
const Count = Schema.Number.pipe(
  Schema.filter((n) => (Number.isSafeInteger(n) && n >= 1) || "must be a whole number, 1 or more")
)

/**
 * bun-storage's `RetentionConfigSchema`.
 *
 * @since 0.1.0
 */
export const BunStorageRetention = Schema.Struct({
  agentCheckpoints: Schema.optional(Schema.Struct({
    maxAge: Schema.optional(Duration),
    maxPerAgent: Schema.optional(Count),
    /** With maxAge, keep each agent's newest checkpoint however old. Default true. */
    keepLatest: Schema.optional(Schema.Boolean)
  })),
  appCheckpoints: Schema.optional(Schema.Struct({
    maxAge: Schema.optional(Duration),
    maxTotal: Schema.optional(Count)
  })),
  agentMetrics: Schema.optional(Schema.Struct({ maxAge: Schema.optional(Duration) })),
  /** How often the cleanup runs after start(). Default "24h". */
  cleanupInterval: Schema.optional(Interval)
})

/**
 * @since 0.1.0
 */
export type BunStorageRetention = typeof BunStorageRetention.Type

/**
 * bun-storage's `bunStorageConfigSchema`: everything optional.
 *
 * @since 0.1.0
 */
export const BunStorageConfig = Schema.Struct({
  /** Default: `sqlite:` and the app's workspace `database.sqlite`. */
  connectionString: Schema.optional(Schema.String),
  retention: Schema.optional(BunStorageRetention)
})

/**
 * @since 0.1.0
 */
export type BunStorageConfig = typeof BunStorageConfig.Type

const decodeConfig = Schema.decodeUnknownEither(BunStorageConfig, { errors: "all" })

/**
 * The config, validated: throws a `CheckpointValidationError` naming each field that is wrong.
 *
 * @since 0.1.0
 */
export const validateBunStorageConfig = (config: unknown): BunStorageConfig => {
  const decoded = decodeConfig(config ?? {})
  if (Either.isLeft(decoded)) throw toValidationError("BunStorageConfig", decoded.left)
  return decoded.right
}

/**
 * The interval of the cleanup timer, in milliseconds.
 *
 * @since 0.1.0
 */
export const cleanupIntervalMillis = (interval: string): number => {
  const decoded = Schema.decodeUnknownEither(Interval, { errors: "all" })(interval)
  if (Either.isLeft(decoded)) throw toValidationError("cleanupInterval", decoded.left)
  return durationMillis(decoded.right)!
}

/**
 * @since 0.1.0
 */
export type BunStorageDialect = "sqlite" | "mysql" | "postgres"

/**
 * The database a connection string names, as bun-storage detects it: `:memory:`, `sqlite:` and `file:` are SQLite,
 * `mysql:`, `mysql2:` and `mariadb:` MySQL, anything else PostgreSQL.
 *
 * @since 0.1.0
 */
export const detectDialect = (connectionString: string): BunStorageDialect =>
  connectionString === ":memory:" || /^(sqlite|file):/.test(connectionString)
    ? "sqlite"
    : /^(mysql|mysql2|mariadb):\/\//.test(connectionString)
    ? "mysql"
    : "postgres"

/**
 * The storage layer of a connection string.
 *
 * @since 0.1.0
 */
export const layerOfConnectionString = (
  connectionString: string
): Layer.Layer<CheckpointStorage, StorageLayerError> => {
  switch (detectDialect(connectionString)) {
    case "sqlite": {
      const databasePath = connectionString.replace(/^(sqlite|file):(\/\/)?/, "")
      return isBun ? layerSqliteBun({ databasePath }) : layerSqliteNode({ databasePath })
    }
    case "mysql":
      return layerMysql({ connectionString: connectionString.replace(/^(mysql2|mariadb):/, "mysql:") })
    case "postgres":
      return layerPostgres({ connectionString })
  }
}

/**
 * `Bun SQL <dialect> (<where>)`: a SQLite file's path, a server's URL with its password masked.
 *
 * @since 0.1.0
 */
export const displayNameOf = (connectionString: string): string => {
  const dialect = detectDialect(connectionString)
  return `Bun SQL ${dialect} (${dialect === "sqlite" ? connectionString : maskConnectionString(connectionString)})`
}

/**
 * Token Ring's retention as the service's policy.
 *
 * @since 0.1.0
 */
export const toRetentionPolicy = (retention: BunStorageRetention): RetentionPolicy => {
  const { agentCheckpoints: agents, agentMetrics: metrics, appCheckpoints: apps } = retention
  const millis = (duration: string | undefined) => duration === undefined ? undefined : durationMillis(duration)
  return {
    agentCheckpoints: agents && {
      maxAge: millis(agents.maxAge),
      keepLastPerAgent: agents.maxPerAgent,
      maxAgeSparesNewestPerAgent: agents.keepLatest ?? true
    },
    appCheckpoints: apps && { maxAge: millis(apps.maxAge), keepLast: apps.maxTotal },
    agentMetrics: metrics && { maxAge: millis(metrics.maxAge) }
  }
}
