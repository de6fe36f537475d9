/**
 * The @effect/sql `SqlClient` of the SQLite layers, over a SQLite connection opened here (better-sqlite3 under
 * Node.js, bun:sqlite under Bun), so that the storage can also run its hot statements on the driver directly.
 *
 * Why not @effect/sql-sqlite-node: a SELECT by id through its client costs about 51 µs against 15 µs on
 * better-sqlite3 itself (bench/profile.ts, 1 KiB states): each statement gets a span, a scope, a semaphore permit and
 * an Effect `Cache` lookup of its prepared statement, and the client does not expose its better-sqlite3 handle.
 * The client here is built as that one is (`SqlClient.make` over one connection guarded by a one-permit semaphore,
 * held for a whole transaction), with a plain synchronous statement cache; the storage's hot statements skip the
 * client altogether when no transaction is open (`sqlitePreparedStatements`).
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
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { DriverPreparedStatements, type PreparedStatements, preparedStatementsOnDriver } from "./preparedStatements.js"
import { makeStatementCache } from "./sqliteStatementCache.js"

/**
 * A prepared statement of a SQLite driver, as the client uses it. Each method runs the statement to completion
 * synchronously, or throws the driver's own error (with its `code`, `SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`, …).
 *
 * @internal
 */
export interface SqliteStatementHandle {
  /** Whether the statement returns rows (a SELECT, a PRAGMA that answers, anything with RETURNING). */
  readonly returnsRows: boolean
  /** Every row, the statement stepped to its end. Never only the first row of an INSERT … RETURNING (better-sqlite3's
   * `get`): SQLite runs its WAL auto-checkpoint only when a statement steps to SQLITE_DONE, so the WAL of a
   * connection that only did that would grow without bound. */
  readonly all: (params: ReadonlyArray<unknown>) => ReadonlyArray<object>
  /** The first row, or undefined; the statement is then reset. For reads only (`all`'s reason is a write's): a read
   * by id or with LIMIT 1, where it saves building the array of rows (0.1–0.3 µs of a 4–8 µs read by id). */
  readonly first: (params: ReadonlyArray<unknown>) => object | undefined
  /** The rows as arrays of column values. */
  readonly values: (params: ReadonlyArray<unknown>) => ReadonlyArray<ReadonlyArray<unknown>>
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
  /** Whether a transaction is open on the connection (SQLite is out of autocommit mode). */
  readonly inTransaction: () => boolean
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
 * The client options of the SQLite layers: those of @effect/sql-sqlite-node's `SqliteClientConfig`, by the same
 * names, except the file (`databasePath`) and WAL (`disableWAL`), which the layers take themselves.
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
  /** Added to the span of every statement run through the `SqlClient`. */
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

const rowsOf = (params: ReadonlyArray<unknown>) => (statement: SqliteStatementHandle): ReadonlyArray<object> => {
  if (statement.returnsRows) return statement.all(params)
  statement.run(params)
  return []
}

/**
 * Runs a SQL text on the connection, to completion and synchronously, in the fiber context given: its outcome, an
 * Either (which is also the Effect of it).
 *
 * @internal
 */
type RunStatement = <A>(
  context: Context.Context<never>,
  sql: string,
  use: (statement: SqliteStatementHandle) => A
) => Either.Either<A, SqlError>

/**
 * The `SqlClient` over an open connection, and the storage's direct path to its prepared statements.
 *
 * @internal
 */
export const makeSqliteClient = (
  db: SqliteDatabaseHandle,
  options: SqliteClientOptions
): Effect.Effect<
  { readonly client: SqlClient.SqlClient; readonly preparedStatements: PreparedStatements },
  never,
  Reactivity.Reactivity
> =>
  Effect.gen(function*() {
    const prepareOnce = (sql: string): CachedStatement => ({ handle: db.prepare(sql), safeIntegers: false })
    const cached = makeStatementCache({
      capacity: options.prepareCacheSize ?? 200,
      timeToLiveMillis: Duration.toMillis(options.prepareCacheTTL ?? Duration.minutes(10)),
      prepare: prepareOnce
    })

    // The statement runs on the calling fiber, without yielding: nothing else can use the connection meanwhile.
    // Integers are read as the fiber's `SqlClient.SafeIntegers` says, as the official clients do.
    const runWith = (prepare: (sql: string) => CachedStatement): RunStatement => (context, sql, use) => {
      let statement: CachedStatement
      try {
        statement = prepare(sql)
      } catch (cause) {
        return Either.left(new SqlError({ cause, message: "Failed to prepare statement" }))
      }
      try {
        const safeIntegers = Context.get(context, SqlClient.SafeIntegers)
        if (statement.safeIntegers !== safeIntegers) {
          statement.handle.safeIntegers(safeIntegers)
          statement.safeIntegers = safeIntegers
        }
        return Either.right(use(statement.handle))
      } catch (cause) {
        return Either.left(new SqlError({ cause, message: "Failed to execute statement" }))
      }
    }
    const runCached = runWith(cached)
    const runUncached = runWith(prepareOnce)
    const run = <A>(sql: string, use: (statement: SqliteStatementHandle) => A, runner: RunStatement = runCached) =>
      Effect.withFiberRuntime<A, SqlError>((fiber) => runner(fiber.currentContext, sql, use))

    const connection: Connection = {
      execute: (sql, params, transformRows) =>
        transformRows === undefined ? run(sql, rowsOf(params)) : Effect.map(run(sql, rowsOf(params)), transformRows),
      // As @effect/sql-sqlite-node: the rows of a statement that returns rows, else what the driver reports.
      executeRaw: (sql, params) =>
        run(sql, (statement) => statement.returnsRows ? statement.all(params) : statement.run(params)),
      executeValues: (sql, params) =>
        run(sql, (statement) => {
          if (statement.returnsRows) return statement.values(params)
          statement.run(params)
          return []
        }),
      // BEGIN, COMMIT, ROLLBACK and SAVEPOINT come here: prepared each time, never cached.
      executeUnprepared: (sql, params, transformRows) => {
        const rows = run(sql, rowsOf(params), runUncached)
        return transformRows === undefined ? rows : Effect.map(rows, transformRows)
      },
      // As @effect/sql-sqlite-node: a driver cursor would keep the connection busy between pulls.
      executeStream: () => Effect.dieMessage("executeStream not implemented")
    }

    // One connection for every fiber, as in @effect/sql-sqlite-node: a statement waits only while a transaction holds
    // the permit (its statements run on the connection it got), and a transaction holds it until its scope closes.
    const semaphore = yield* Effect.makeSemaphore(1)
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
    const client = yield* SqlClient.make({
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

    return { client, preparedStatements: sqlitePreparedStatements(db, client, runCached) }
  })

/**
 * The storage's hot statements (retrieve by id, latest, the INSERT … RETURNING of a store), run on the driver's
 * prepared statement at once when that is safe, else through the client.
 *
 * Safe means: this fiber is in no transaction of the client (else the statement belongs to that transaction, whose
 * connection the client hands out) and SQLite is in autocommit mode (`!inTransaction`), so no other fiber's
 * transaction is open on the connection, which the statement would otherwise join, to be committed or rolled back
 * with it. The check and the statement run in one synchronous step, so no other fiber can begin a transaction in
 * between. Another fiber may hold the client's permit while no transaction is open (between taking it and BEGIN,
 * or between COMMIT and giving it back): a statement run then commits by itself, as if it had run just before or
 * after that transaction. When it is not safe, `client.unsafe` waits for the transaction's permit like every other
 * statement, within the deadline if there is one (a statement run at once cannot be cut short: it is synchronous).
 */
const sqlitePreparedStatements = (
  db: SqliteDatabaseHandle,
  client: SqlClient.SqlClient,
  runNow: RunStatement
): PreparedStatements => {
  const rawOf = (params: ReadonlyArray<unknown>) => (statement: SqliteStatementHandle): unknown =>
    statement.returnsRows ? statement.all(params) : statement.run(params)
  const firstRowOf = (params: ReadonlyArray<unknown>) => (statement: SqliteStatementHandle): unknown => {
    const row = statement.first(params)
    return row === undefined ? [] : [row]
  }
  return preparedStatementsOnDriver(
    client,
    {
      send: (context, text, params, done, firstRowOnly) =>
        done(runNow(context, text, firstRowOnly === true ? firstRowOf(params) : rawOf(params))),
      synchronous: true,
      // `rawOf` here and the client's executeRaw both give run()'s result for a statement without rows.
      reportsInsertRowid: true
    },
    () => db.inTransaction()
  )
}

/**
 * The client layer of a SQLite file: opens it with `open` and closes it when the layer's scope closes. Provides the
 * `SqlClient` and the storage's `DriverPreparedStatements`.
 *
 * @internal
 */
export const sqliteClientLayer = (
  open: () => SqliteDatabaseHandle,
  options: SqliteClientOptions
): Layer.Layer<SqlClient.SqlClient | DriverPreparedStatements, SqlError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({ try: open, catch: (cause) => new SqlError({ cause, message: "Failed to open database" }) }),
      (db) => Effect.sync(() => db.close())
    )
    const { client, preparedStatements } = yield* makeSqliteClient(db, options)
    return Context.make(SqlClient.SqlClient, client).pipe(Context.add(DriverPreparedStatements, preparedStatements))
  })).pipe(Layer.provide(Reactivity.layer))
