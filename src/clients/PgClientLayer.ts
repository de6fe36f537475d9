/**
 * The @effect/sql-pg client of `layerPostgres`: the official `PgClient`, over a node-postgres pool built here and
 * handed to it with `PgClient.fromPool` instead of built inside @effect/sql-pg (`PgClient.layer`), so that the pool's
 * connections name the statements they send and prepare each one once (internal/pgStatementNames.ts). The pool is
 * configured, checked and closed as `PgClient.make` does it (@effect/sql-pg 0.53).
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Pg from "pg"
import { namingStatements } from "./PgStatementNames.js"

/**
 * The modules the layer loads when it is built.
 *
 * @internal
 */
export interface PgModules {
  readonly Pool: typeof Pg.Pool
  readonly Client: typeof Pg.Client
  readonly PgClient: typeof import("@effect/sql-pg/PgClient")
}

/**
 * Provides the `PgClient` and, as the same client, the `SqlClient`, as `PgClient.layer` does.
 *
 * @internal
 */
export const pgClientLayer = (
  modules: PgModules,
  options: PgClient.PgClientConfig
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const connectTimeout = options.connectTimeout === undefined ? undefined : Duration.toMillis(options.connectTimeout)
    const pool = new modules.Pool({
      Client: namingStatements(modules.Client),
      connectionString: options.url ? Redacted.value(options.url) : undefined,
      user: options.username,
      host: options.host,
      database: options.database,
      password: options.password ? Redacted.value(options.password) : undefined,
      ssl: options.ssl,
      port: options.port,
      ...(options.stream ? { stream: options.stream } : {}),
      connectionTimeoutMillis: connectTimeout,
      idleTimeoutMillis: options.idleTimeout ? Duration.toMillis(options.idleTimeout) : undefined,
      max: options.maxConnections,
      min: options.minConnections,
      maxLifetimeSeconds: options.connectionTTL ? Duration.toSeconds(options.connectionTTL) : undefined,
      application_name: options.applicationName ?? "@effect/sql-pg",
      types: options.types
    })
    // An idle connection that fails is dropped by the pool; without a listener the error would end the process.
    pool.on("error", () => {})
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => pool.query("SELECT 1"),
        catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
      }),
      () => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    ).pipe(
      Effect.timeoutFail({
        duration: options.connectTimeout ?? Duration.seconds(5),
        onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
      })
    )
    const client = yield* modules.PgClient.fromPool({
      acquire: Effect.succeed(pool),
      applicationName: options.applicationName,
      spanAttributes: options.spanAttributes,
      transformResultNames: options.transformResultNames,
      transformQueryNames: options.transformQueryNames,
      transformJson: options.transformJson,
      types: options.types
    })
    return Context.make(modules.PgClient.PgClient, client).pipe(Context.add(SqlClient.SqlClient, client))
  })).pipe(Layer.provide(Reactivity.layer))
