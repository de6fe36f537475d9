/**
 * The @effect/sql client of `layerMysql`, over a mysql2 pool built here instead of inside @effect/sql-mysql2
 * (`MysqlClient.layer`), so that the storage can also run its hot statements on the pool directly
 * (internal/preparedStatements.ts, `mysqlPreparedStatements`).
 *
 * Why: @effect/sql-mysql2 0.53 has no `fromPool` and does not expose its pool, and its statement path costs more
 * than the rest of a read by id (bench/profile.ts). The pool is configured, checked and closed as
 * `MysqlClient.make` does it, and the client is built as there: `SqlClient.make` over the pool for single
 * statements, a pooled connection held for each transaction, mysql2's `execute` (prepared once per connection) for
 * statements, `query` for BEGIN/COMMIT/ROLLBACK, and @effect/sql-mysql2's own compiler.
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import type { MysqlClientConfig } from "@effect/sql-mysql2/MysqlClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Mysql from "mysql2"
import { DriverPreparedStatements, mysqlPreparedStatements } from "./preparedStatements.js"

/**
 * The modules the layer loads when it is built.
 *
 * @internal
 */
export interface MysqlModules {
  readonly createPool: typeof Mysql.createPool
  readonly MysqlClient: typeof import("@effect/sql-mysql2/MysqlClient")
}

/** What a pool and a pooled connection have in common: the callback `execute` and `query`. */
interface Queryable {
  readonly execute: Mysql.Pool["execute"]
  readonly query: Mysql.Pool["query"]
}

type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const connectionOf = (conn: Queryable): Connection => {
  const runRaw = (sql: string, values: ReadonlyArray<unknown>, method: "execute" | "query", rowsAsArray = false) =>
    Effect.async<unknown, SqlError>((resume) => {
      const options = { sql, values: values as Array<unknown>, rowsAsArray }
      const callback = (cause: Error | null, results: unknown) =>
        resume(
          cause === null || cause === undefined
            ? Effect.succeed(results)
            : Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
        )
      if (method === "execute") conn.execute(options, callback)
      else conn.query(options, callback)
    })
  // A statement without rows (an INSERT's header) gives no rows.
  const rows = (sql: string, values: ReadonlyArray<unknown>, method: "execute" | "query", transform: TransformRows) =>
    Effect.map(runRaw(sql, values, method), (results) => {
      const array = Array.isArray(results) ? (results as Array<object>) : []
      return transform === undefined ? array : transform(array)
    })
  return {
    execute: (sql, params, transform) => rows(sql, params, "execute", transform),
    executeRaw: (sql, params) => runRaw(sql, params, "execute"),
    executeValues: (sql, params) =>
      Effect.map(
        runRaw(sql, params, "execute", true),
        (results) => (Array.isArray(results) ? (results as Array<ReadonlyArray<unknown>>) : [])
      ),
    executeUnprepared: (sql, params, transform) => rows(sql, params, "query", transform),
    // The storage reads pages (keyset queries), never a driver cursor, and nothing else reaches this client.
    executeStream: () => Effect.dieMessage("executeStream not implemented")
  }
}

/**
 * @internal
 */
export const mysqlClientLayer = (
  modules: MysqlModules,
  options: MysqlClientConfig
): Layer.Layer<SqlClient.SqlClient | DriverPreparedStatements, SqlError> =>
  Layer.scopedContext(Effect.gen(function*() {
    // As MysqlClient.make (its `url`-less form, which layerMysql always uses: it splits the URL itself).
    const settings: { readonly [K in keyof Mysql.PoolOptions]?: Mysql.PoolOptions[K] | undefined } = {
      host: options.host,
      port: options.port,
      database: options.database,
      user: options.username,
      password: options.password ? Redacted.value(options.password) : undefined,
      connectionLimit: options.maxConnections,
      idleTimeout: options.connectionTTL ? Duration.toMillis(options.connectionTTL) : undefined
    }
    const pool = modules.createPool({
      ...(options.poolConfig ?? {}),
      ...Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)),
      multipleStatements: true,
      supportBigNumbers: true,
      maxIdle: options.poolConfig?.maxIdle ?? 0
    })
    yield* Effect.acquireRelease(
      Effect.async<void, SqlError>((resume) => {
        pool.query("SELECT 1", (cause: Error | null) =>
          resume(
            cause
              ? Effect.fail(new SqlError({ cause, message: "MysqlClient: Failed to connect" }))
              : Effect.void
          ))
      }),
      () => Effect.async<void>((resume) => void pool.end(() => resume(Effect.void)))
    ).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(5),
        onTimeout: () => new SqlError({ cause: new Error("connection timeout"), message: "MysqlClient: Connection timeout" })
      })
    )
    const transformRows = options.transformResultNames === undefined
      ? undefined
      : Statement.defaultTransforms(options.transformResultNames).array
    const transactionAcquirer = Effect.map(
      Effect.acquireRelease(
        Effect.async<Mysql.PoolConnection, SqlError>((resume) => {
          pool.getConnection((cause, conn) =>
            resume(
              cause
                ? Effect.fail(new SqlError({ cause, message: "Failed to acquire connection" }))
                : Effect.succeed(conn)
            )
          )
        }),
        (conn) => Effect.sync(() => conn.release())
      ),
      (conn) => connectionOf(conn)
    )
    const spanAttributes: Array<[string, unknown]> = [
      ...(options.spanAttributes === undefined ? [] : Object.entries(options.spanAttributes)),
      ["db.system.name", "mysql"],
      ["server.address", options.host ?? "localhost"],
      ["server.port", options.port ?? 3306]
    ]
    if (options.database) spanAttributes.push(["db.namespace", options.database])
    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(connectionOf(pool)),
      transactionAcquirer,
      compiler: modules.MysqlClient.makeCompiler(options.transformQueryNames),
      spanAttributes,
      transformRows
    })
    return Context.make(SqlClient.SqlClient, client).pipe(
      Context.add(DriverPreparedStatements, mysqlPreparedStatements(pool, client))
    )
  })).pipe(Layer.provide(Reactivity.layer))
