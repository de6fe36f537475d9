/**
 * CheckpointStorage on MySQL or MariaDB through mysql2, on the official `MysqlClient` of @effect/sql-mysql2.
 *
 * @since 0.1.0
 */
import type { MysqlClientConfig } from "@effect/sql-mysql2/MysqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Net from "node:net"
import {
  allServices,
  importDriver,
  type ServicesOverClient,
  type StorageLayerError,
  storageOverClient
} from "../internal/clientLayer.js"
import { type ConnectionWatchdog, makeConnectionWatchdog } from "../internal/connectionWatchdog.js"
import { connectionStringValue, maskConnectionString } from "../internal/connectionTarget.js"
import { decodeInputEither } from "../internal/decodeInput.js"
import { MysqlStorageConfig } from "../schema/StorageConfig.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import { DEFAULT_CONNECT_TIMEOUT } from "./Postgres.js"
import { type SqlCheckpointStorageOptions, splitStorageOptions } from "./SqlCheckpointStorage.js"

/**
 * The drizzle-storage MySQL config (`{ type: "mysql", connectionString }`, `type` optional here), plus any
 * @effect/sql-mysql2 client option (`maxConnections`, `connectionTTL`, mysql2 `poolConfig`).
 *
 * @since 0.1.0
 */
export interface MysqlStorageOptions extends SqlCheckpointStorageOptions, Omit<MysqlClientConfig, "url"> {
  readonly type?: "mysql" | undefined
  /** `mysql://user:password@host:3306/database` (or `mariadb://`), plain or `Redacted`. */
  readonly connectionString: string | Redacted.Redacted<string>
  /** How long to wait for a new connection. Default 5 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

const validate = decodeInputEither(
  Schema.Struct({ ...MysqlStorageConfig.fields, type: Schema.optionalWith(Schema.Literal("mysql"), { exact: true }) }),
  "MysqlStorageConfig"
)

// mysql2's options as URL query parameters (`?ssl={"rejectUnauthorized":true}&charset=…`), read as mysql2 reads them.
const queryOptions = (url: URL): Record<string, unknown> =>
  Object.fromEntries([...url.searchParams].map(([key, value]) => {
    try {
      return [key, JSON.parse(value)]
    } catch {
      return [key, value]
    }
  }))

// What mysql2 passes to a `stream` factory: the connection's config.
interface StreamFactoryOptions {
  readonly config: {
    readonly host?: string | undefined
    readonly port?: number | undefined
    readonly socketPath?: string | undefined
    readonly enableKeepAlive?: boolean | undefined
    readonly keepAliveInitialDelay?: number | undefined
  }
}

// mysql2 opens each connection on the socket this returns (its `stream` option), so that a connection that stops
// answering can be closed (see internal/connectionWatchdog.ts). It opens the socket as mysql2 does without the option
// (lib/base/connection.js: keep-alive and TCP_NODELAY); a factory of the caller's is watched, a stream object kept.
const watchedStream = (watchdog: ConnectionWatchdog, own: unknown) => (options: StreamFactoryOptions): unknown => {
  if (typeof own === "function") return watchdog.watch(own(options))
  if (own !== undefined && own !== null) return own
  const { config } = options
  if (config.socketPath) return watchdog.watch(Net.connect(config.socketPath))
  const socket = watchdog.watch(Net.connect(config.port ?? 3306, config.host ?? "localhost"))
  if (config.enableKeepAlive !== false) {
    socket.once("connect", () => socket.setKeepAlive(true, config.keepAliveInitialDelay ?? 0))
  }
  socket.setNoDelay(true)
  return socket
}

/**
 * The options of the `MysqlClient` the layer builds. @effect/sql-mysql2 ignores `poolConfig` (timeouts included) when
 * given a URL, so the URL is split into the client's fields here and every pool option still reaches mysql2.
 *
 * @internal
 */
export const mysqlClientConfig = (options: MysqlStorageOptions, watchdog: ConnectionWatchdog): MysqlClientConfig => {
  const [, { connectTimeout, connectionString, type: _, ...client }] = splitStorageOptions(options)
  const url = new URL(connectionStringValue(connectionString))
  const maxConnections = client.maxConnections ?? 10
  return {
    ...client,
    host: client.host ?? (url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost"),
    port: client.port ?? (url.port === "" ? 3306 : Number(url.port)),
    username: client.username ?? (decodeURIComponent(url.username) || "root"),
    password: client.password ?? (url.password === "" ? undefined : Redacted.make(decodeURIComponent(url.password))),
    database: client.database ?? (url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined),
    maxConnections,
    poolConfig: {
      ...queryOptions(url),
      connectTimeout: Math.round(Duration.toMillis(connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)),
      // The client's default keeps no idle connection, so every query would open a new one.
      maxIdle: maxConnections,
      ...client.poolConfig,
      stream: watchedStream(watchdog, client.poolConfig?.stream)
    }
  }
}

/**
 * CheckpointStorage on MySQL or MariaDB. The password never appears in an error or a log line.
 *
 * @example
 * ```ts
 * import { layerMysql } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerMysql({ connectionString: "mysql://app:secret@localhost:3306/agents" })
 * ```
 *
 * @since 0.1.0
 */
export const layerMysql = (
  options: MysqlStorageOptions
): Layer.Layer<CheckpointStorage | LangGraphCheckpoints | PersistenceStorage, StorageLayerError> => mysqlServices(options, allServices)

/**
 * The given services on a MySQL/MariaDB connection pool.
 *
 * @internal
 */
export const mysqlServices = <ROut>(
  options: MysqlStorageOptions,
  services: ServicesOverClient<ROut>
): Layer.Layer<ROut, StorageLayerError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const valid = validate(options)
    if (Either.isLeft(valid)) return yield* valid.left
    const MysqlClient = yield* importDriver("mysql", "@effect/sql-mysql2", () => import("@effect/sql-mysql2/MysqlClient"))
    const watchdog = makeConnectionWatchdog()
    return storageOverClient({
      dialect: "mysql",
      target: maskConnectionString(options.connectionString),
      client: MysqlClient.layer(mysqlClientConfig(options, watchdog)),
      storage: splitStorageOptions(options)[0],
      watchdog,
      services
    })
  }))
