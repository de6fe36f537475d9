/**
 * CheckpointStorage on PostgreSQL through node-postgres, on the official `PgClient` of @effect/sql-pg (over a pool of
 * the layer's own, see internal/pgClientLayer.ts).
 *
 * @since 0.1.0
 */
import type { PgClientConfig } from "@effect/sql-pg/PgClient"
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
import { makeConnectionWatchdog } from "../internal/connectionWatchdog.js"
import { connectionStringValue, maskConnectionString } from "../internal/connectionTarget.js"
import { pgClientLayer } from "../clients/PgClientLayer.js"
import { decodeInputEither } from "../internal/decodeInput.js"
import { PostgresStorageConfig } from "../schema/StorageConfig.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import { type SqlCheckpointStorageOptions, splitStorageOptions } from "./SqlCheckpointStorage.js"

/**
 * How long to wait for a connection (the first one and every one taken from the pool later), unless set.
 *
 * @since 0.1.0
 */
export const DEFAULT_CONNECT_TIMEOUT: Duration.DurationInput = Duration.seconds(5)

/**
 * The drizzle-storage Postgres config (`{ type: "postgres", connectionString }`, `type` optional here), plus any
 * @effect/sql-pg client option (pool size, timeouts, ssl, …).
 *
 * @since 0.1.0
 */
export interface PostgresStorageOptions extends SqlCheckpointStorageOptions, Omit<PgClientConfig, "url"> {
  readonly type?: "postgres" | undefined
  /** `postgres://user:password@host:5432/database`, plain or `Redacted`. */
  readonly connectionString: string | Redacted.Redacted<string>
}

const validate = decodeInputEither(
  Schema.Struct({ ...PostgresStorageConfig.fields, type: Schema.optionalWith(Schema.Literal("postgres"), { exact: true }) }),
  "PostgresStorageConfig"
)

/**
 * CheckpointStorage on PostgreSQL. The password never appears in an error or a log line.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { layerPostgres } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerPostgres({
 *   connectionString: Redacted.make(process.env.DATABASE_URL!),
 *   maxConnections: 10
 * })
 * ```
 *
 * @since 0.1.0
 */
export const layerPostgres = (
  options: PostgresStorageOptions
): Layer.Layer<CheckpointStorage | LangGraphCheckpoints | PersistenceStorage, StorageLayerError> => postgresServices(options, allServices)

/**
 * The given services on a PostgreSQL connection pool.
 *
 * @internal
 */
export const postgresServices = <ROut>(
  options: PostgresStorageOptions,
  services: ServicesOverClient<ROut>
): Layer.Layer<ROut, StorageLayerError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const valid = validate(options)
    if (Either.isLeft(valid)) return yield* valid.left
    const PgClient = yield* importDriver("pg", "@effect/sql-pg", () => import("@effect/sql-pg/PgClient"))
    const { Client, Pool } = yield* importDriver("pg", "pg", () => import("pg").then((pg) => pg.default ?? pg))
    const [storage, { connectionString, stream, type: _, ...client }] = splitStorageOptions(options)
    // node-postgres opens each connection on the socket this returns (its `stream` option; the caller's own, if
    // given), so that a connection that stops answering can be closed (see internal/connectionWatchdog.ts).
    const watchdog = makeConnectionWatchdog()
    return storageOverClient({
      dialect: "pg",
      target: maskConnectionString(connectionString),
      client: pgClientLayer({ Client, Pool, PgClient }, {
        connectTimeout: DEFAULT_CONNECT_TIMEOUT,
        ...client,
        stream: () => watchdog.watch(stream === undefined ? new Net.Socket() : stream()),
        url: Redacted.make(connectionStringValue(connectionString))
      }),
      storage,
      watchdog,
      services
    })
  }))
