/**
 * The @effect/sql `SqlClient` of the SQLite layers, one client for both drivers: better-sqlite3 under Node.js and
 * bun:sqlite under Bun, each reached through a small handle (clients/BetterSqlite3.ts, clients/BunSqlite.ts).
 *
 * Why a client of ours: the official one for Bun, @effect/sql-sqlite-bun, is at 0.50.2 and asks for an older
 * @effect/sql than the 0.52 this package is built on, so it cannot be installed beside it without overrides; a user
 * of `layerSqliteBun` would have to add them. Writing one client for both drivers also keeps the two runtimes on the
 * same statement path, so that the same file behaves the same whichever runtime opened it.
 *
 * It is built as @effect/sql-sqlite-node 0.53 builds its client (packages/sql-sqlite-node/src/SqliteClient.ts), with
 * the public `SqlClient.make`: one connection for every fiber, guarded by a one-permit semaphore that a transaction
 * holds until its scope closes; statements prepared once and kept in a cache (`prepareCacheSize`,
 * `prepareCacheTTL`); integers read as the fiber's `SqlClient.SafeIntegers` says; the same span attributes and
 * results (`executeRaw` of a statement without rows gives the driver's `{ changes, lastInsertRowid }`). Where it
 * differs, on purpose: the statement cache is a synchronous LRU (clients/SqliteStatementCache.ts) instead of an
 * Effect `Cache`; the integer mode is switched back off as well as on; and `executeStream` works (see there).
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { makeStatementCache } from "./SqliteStatementCache.js"

/**
 * A prepared statement of a SQLite driver, as the client uses it. Each method runs the statement to completion
 * synchronously, or throws the driver's own error (with its `code`: `SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`, …).
 *
 * @internal
 */
export interface SqliteStatementHandle {
  /** Whether the statement returns rows (a SELECT, a PRAGMA that answers, anything with RETURNING). */
  readonly returnsRows: boolean
  /** Every row, the statement stepped to its end. */
  readonly all: (params: ReadonlyArray<unknown>) => ReadonlyArray<object>
  /** The rows as arrays of column values. */
  readonly values: (params: ReadonlyArray<unknown>) => ReadonlyArray<ReadonlyArray<unknown>>
  /** Runs a statement that returns no rows. */
  readonly run: (params: ReadonlyArray<unknown>) => SqliteRunResult
  /** Read integers as `bigint` (on) or as `number` (off). */
  readonly safeIntegers: (enabled: boolean) => void
}

/**
 * What a statement that returns no rows reports (both drivers give these two fields).
 *
 * @internal
 */
export interface SqliteRunResult {
  readonly changes: number
  readonly lastInsertRowid: number | bigint
}

/**
 * An open SQLite connection.
 *
 * @internal
 */
export interface SqliteDatabaseHandle {
  /** Compiles one statement; throws the driver's error for invalid SQL. */
  readonly prepare: (sql: string) => SqliteStatementHandle
  readonly close: () => void
}

/**
 * Opens a database file with a driver (it creates a missing file unless `readonly`). Throws the driver's error.
 *
 * @internal
 */
export type OpenSqliteDatabase = (
  filename: string,
  options: { readonly readonly: boolean }
) => SqliteDatabaseHandle

/**
 * A SQLite driver, loaded when a layer is built, so that importing this package loads no driver.
 *
 * @internal
 */
export interface SqliteDriver {
  /** Named in the DRIVER_NOT_AVAILABLE error when it cannot be loaded. */
  readonly packageName: string
  readonly load: () => Promise<OpenSqliteDatabase>
}

/**
 * The client's options: those of @effect/sql-sqlite-node's `SqliteClientConfig`, by the same names, except the file
 * (`databasePath`) and WAL (`disableWAL`), which the layers take themselves (layers/SqliteSession.ts).
 *
 * @since 0.1.0
 */
export interface SqliteClientOptions {
  /** Open the file read-only. Default false. */
  readonly readonly?: boolean | undefined
  /** How many prepared statements to keep, least recently used out first. Default 200. */
  readonly prepareCacheSize?: number | undefined
  /** A prepared statement unused for this long is dropped (when another one is prepared). Default 10 minutes. */
  readonly prepareCacheTTL?: Duration.DurationInput | undefined
  /** Added to the span of every statement. */
  readonly spanAttributes?: Record<string, unknown> | undefined
  /** The client's name transforms. The storage ignores them (its column names are exact); your own queries on the
   * same client get them. */
  readonly transformResultNames?: ((str: string) => string) | undefined
  readonly transformQueryNames?: ((str: string) => string) | undefined
}

interface CachedStatement {
  readonly handle: SqliteStatementHandle
  /** The integer mode the statement was last run in, so that the driver is told only when it changes. */
  safeIntegers: boolean
}

type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

/** The rows of a statement that returns rows; none for one that does not (as @effect/sql-sqlite-node's `execute`). */
const rowsOf = (params: ReadonlyArray<unknown>) => (statement: SqliteStatementHandle): ReadonlyArray<object> => {
  if (statement.returnsRows) return statement.all(params)
  statement.run(params)
  return []
}

/** What the driver reports: the rows of a statement that returns rows, else its `{ changes, lastInsertRowid }`. */
const rawOf = (params: ReadonlyArray<unknown>) => (statement: SqliteStatementHandle): unknown =>
  statement.returnsRows ? statement.all(params) : statement.run(params)

const valuesOf =
  (params: ReadonlyArray<unknown>) => (statement: SqliteStatementHandle): ReadonlyArray<ReadonlyArray<unknown>> => {
    if (statement.returnsRows) return statement.values(params)
    statement.run(params)
    return []
  }

const withTransform = (
  rows: Effect.Effect<ReadonlyArray<object>, SqlError>,
  transformRows: TransformRows
): Effect.Effect<ReadonlyArray<object>, SqlError> =>
  transformRows === undefined ? rows : Effect.map(rows, transformRows)

/**
 * The `SqlClient` over an open connection. The connection stays open: the caller closes it (see {@link layer}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Reactivity from "@effect/experimental/Reactivity"
 * import { betterSqlite3 } from "./BetterSqlite3.js"
 * import * as SqliteClient from "./SqliteClient.js"
 *
 * const program = Effect.gen(function*() {
 *   const open = yield* Effect.promise(betterSqlite3.load)
 *   const sql = yield* SqliteClient.make(open(":memory:", { readonly: false }), {})
 *   return yield* sql`SELECT 1 AS one`
 * }).pipe(Effect.provide(Reactivity.layer))
 * ```
 *
 * @internal
 */
export const make = (
  db: SqliteDatabaseHandle,
  options: SqliteClientOptions
): Effect.Effect<SqlClient.SqlClient, never, Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const prepareOnce = (sql: string): CachedStatement => ({ handle: db.prepare(sql), safeIntegers: false })
    const prepareCached = makeStatementCache({
      capacity: options.prepareCacheSize ?? 200,
      timeToLiveMillis: Duration.toMillis(options.prepareCacheTTL ?? Duration.minutes(10)),
      prepare: prepareOnce
    })

    // The statement runs to its end on the calling fiber, without yielding: nothing else can use the connection
    // meanwhile. Integers are read as the fiber's `SqlClient.SafeIntegers` says, as the official clients do.
    const runOn = (prepare: (sql: string) => CachedStatement) =>
    <A>(sql: string, use: (statement: SqliteStatementHandle) => A): Effect.Effect<A, SqlError> =>
      Effect.withFiberRuntime((fiber) => {
        let statement: CachedStatement
        try {
          statement = prepare(sql)
        } catch (cause) {
          return Effect.fail(new SqlError({ cause, message: "Failed to prepare statement" }))
        }
        try {
          const safeIntegers = Context.get(fiber.currentContext, SqlClient.SafeIntegers)
          if (statement.safeIntegers !== safeIntegers) {
            statement.handle.safeIntegers(safeIntegers)
            statement.safeIntegers = safeIntegers
          }
          return Effect.succeed(use(statement.handle))
        } catch (cause) {
          return Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
        }
      })
    const run = runOn(prepareCached)
    // BEGIN, COMMIT, ROLLBACK and SAVEPOINT come through `executeUnprepared`: prepared each time, never cached.
    const runUnprepared = runOn(prepareOnce)

    // One connection for every fiber, as in @effect/sql-sqlite-node: a statement waits only while a transaction holds
    // the permit (its statements run on the connection it got), and a transaction holds it until its scope closes.
    const semaphore = yield* Effect.makeSemaphore(1)

    const connection: Connection = {
      execute: (sql, params, transformRows) => withTransform(run(sql, rowsOf(params)), transformRows),
      executeRaw: (sql, params) => run(sql, rawOf(params)),
      executeValues: (sql, params) => run(sql, valuesOf(params)),
      executeUnprepared: (sql, params, transformRows) =>
        withTransform(runUnprepared(sql, rowsOf(params)), transformRows),
      // The statement runs to its end when the stream is first pulled, and the stream then gives its rows. Not a
      // driver cursor (better-sqlite3's `iterate`): while one is open, the connection that every fiber shares refuses
      // every write ("This database connection is busy executing a query") and holds its read snapshot, so that no
      // checkpoint can empty the WAL. Outside a transaction of this client, it runs holding the permit: a transaction
      // another fiber began since the stream was made cannot take it in.
      executeStream: (sql, params, transformRows) => {
        const rows = withTransform(run(sql, rowsOf(params)), transformRows)
        return Stream.fromIterableEffect(Effect.flatMap(
          Effect.serviceOption(SqlClient.TransactionConnection),
          (transaction) =>
            Option.exists(transaction, ([held]) => held === connection) ? rows : semaphore.withPermits(1)(rows)
        ))
      }
    }

    const acquirer = semaphore.withPermits(1)(Effect.succeed(connection))
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(semaphore.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))
        ),
        connection
      )
    )
    return yield* SqlClient.make({
      acquirer,
      compiler: Statement.makeCompilerSqlite(options.transformQueryNames),
      transactionAcquirer,
      spanAttributes: [
        ...(options.spanAttributes === undefined ? [] : Object.entries(options.spanAttributes)),
        ["db.system.name", "sqlite"]
      ],
      transformRows: options.transformResultNames === undefined
        ? undefined
        : Statement.defaultTransforms(options.transformResultNames).array
    })
  })

/**
 * The client of a SQLite connection that `open` opens when the layer is built and that is closed when its scope
 * closes. A failure to open is a `SqlError` ("Failed to open database") with the driver's error as its cause.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { betterSqlite3 } from "./BetterSqlite3.js"
 * import * as SqliteClient from "./SqliteClient.js"
 *
 * const SqlLive = Layer.unwrapEffect(Effect.map(
 *   Effect.promise(betterSqlite3.load),
 *   (open) => SqliteClient.layer(() => open("./app.db", { readonly: false }), { prepareCacheSize: 100 })
 * ))
 * ```
 *
 * @internal
 */
export const layer = (
  open: () => SqliteDatabaseHandle,
  options: SqliteClientOptions
): Layer.Layer<SqlClient.SqlClient, SqlError> =>
  Layer.scoped(
    SqlClient.SqlClient,
    Effect.flatMap(
      Effect.acquireRelease(
        Effect.try({ try: open, catch: (cause) => new SqlError({ cause, message: "Failed to open database" }) }),
        (db) => Effect.sync(() => db.close())
      ),
      (db) => make(db, options)
    )
  ).pipe(Layer.provide(Reactivity.layer))
