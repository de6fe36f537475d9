/**
 * The statements the storage runs on every call (retrieve by id, latest, a page, the INSERTs of stores), run on the
 * driver as prepared statements when the storage owns the driver (layerPostgres, layerMysql, the SQLite layers).
 *
 * Why: @effect/sql-pg sends every statement unnamed, so PostgreSQL parses and plans it again on every call, about
 * 40–80 µs of a 180 µs round trip on this machine (bench/profile.ts; node-postgres named statements against unnamed).
 * A layer that builds its own driver pool (layerPostgres) gives the storage a runner that names each statement text
 * once; node-postgres then prepares it once per connection and only binds and executes it afterwards. Everything
 * else, transactions included, still goes through @effect/sql on the same pool. On MySQL the client already uses
 * mysql2's prepared `execute`; running it on the pool directly spares @effect/sql's statement path (see
 * `mysqlPreparedStatements`).
 *
 * @internal
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { callbackWithin, type Deadline, within } from "./deadline.js"

/**
 * Whether the fiber runs inside a transaction of an @effect/sql client: its statements must then go through the
 * client, which hands them the transaction's connection.
 *
 * @internal
 */
export const inClientTransaction = (context: Context.Context<never>): boolean =>
  Context.getOption(context, SqlClient.TransactionConnection)._tag === "Some"

/**
 * Runs one statement, prepared once per connection. Given a deadline, the statement fails with its `onTimeout()`
 * once that has passed (waiting for a connection included): a storage operation that is one statement is bounded
 * here, by a timer on the driver's callback, instead of by a fiber around it (`withDeadline`).
 *
 * @internal
 */
export interface PreparedStatements {
  /** The rows of a statement that returns rows. */
  readonly rows: <E = never>(
    text: string,
    params: ReadonlyArray<unknown>,
    deadline?: Deadline<E> | undefined
  ) => Effect.Effect<ReadonlyArray<unknown>, SqlError | E>
  /** What the driver reports for any statement: the rows, or a result header (MySQL's `insertId`, `affectedRows`). */
  readonly raw: <E = never>(
    text: string,
    params: ReadonlyArray<unknown>,
    deadline?: Deadline<E> | undefined
  ) => Effect.Effect<unknown, SqlError | E>
}

/**
 * The default: the same statement through the `SqlClient`, which may prepare it (mysql2's `execute`, the SQLite
 * clients' statement caches) or not.
 *
 * @internal
 */
export const preparedStatementsOfClient = (sql: SqlClient.SqlClient): PreparedStatements => ({
  rows: (text, params, deadline) => within(deadline)(sql.unsafe(text, params)),
  raw: (text, params, deadline) => within(deadline)(sql.unsafe(text, params).raw)
})

/**
 * How a driver runs one statement itself: its result as the driver gives it (the rows, or a result header), in the
 * fiber context given.
 *
 * @internal
 */
export type DriverRun = <E>(
  context: Context.Context<never>,
  text: string,
  params: ReadonlyArray<unknown>,
  deadline: Deadline<E> | undefined
) => Effect.Effect<unknown, SqlError | E>

/**
 * Statements run by the driver itself when that is safe, else through the client. Not safe: inside a transaction of
 * the client (the statement belongs to the transaction's connection, which the client hands out), or when
 * `driverBusy()` says so. Through the client, the deadline bounds the statement with `withDeadline`. The storage reads
 * its own column names, exactly: never through the caller's name transforms.
 *
 * @internal
 */
export const preparedStatementsOnDriver = (
  client: SqlClient.SqlClient,
  run: DriverRun,
  driverBusy: () => boolean = () => false
): PreparedStatements => {
  const sql = client.withoutTransforms()
  const viaClient = (context: Context.Context<never>) => inClientTransaction(context) || driverBusy()
  return {
    rows: <E>(text: string, params: ReadonlyArray<unknown>, deadline?: Deadline<E>) =>
      Effect.withFiberRuntime<ReadonlyArray<unknown>, SqlError | E>((fiber) =>
        viaClient(fiber.currentContext)
          ? within(deadline)(sql.unsafe(text, params))
          // As the @effect/sql clients: a statement without rows (an INSERT's header) gives no rows.
          : Effect.map(
            run(fiber.currentContext, text, params, deadline),
            (result) => (Array.isArray(result) ? (result as ReadonlyArray<unknown>) : [])
          )
      ),
    raw: <E>(text: string, params: ReadonlyArray<unknown>, deadline?: Deadline<E>) =>
      Effect.withFiberRuntime<unknown, SqlError | E>((fiber) =>
        viaClient(fiber.currentContext)
          ? within(deadline)(sql.unsafe(text, params).raw)
          : run(fiber.currentContext, text, params, deadline)
      )
  }
}

/** How many statement texts one pool prepares at most. */
const MAX_NAMED_STATEMENTS = 256

/** The slice of a node-postgres `Pool` used here. */
export interface PgPoolLike {
  readonly query: (
    config: { readonly name?: string; readonly text: string; readonly values: Array<unknown> },
    callback: (error: Error | undefined, result: { readonly rows: ReadonlyArray<unknown> }) => void
  ) => void
}

/**
 * Named statements on a node-postgres pool. A statement runs on the pool only outside a transaction of the storage's
 * client; inside one it goes to the transaction's connection, through the client.
 *
 * @internal
 */
export const pgPreparedStatements = (pool: PgPoolLike, sql: SqlClient.SqlClient): PreparedStatements => {
  // One name per statement text, for the pool's lifetime: node-postgres prepares a name once per connection and
  // refuses to reuse it for another text. Each prepared statement holds memory in every server connection, so
  // only the first MAX_NAMED_STATEMENTS texts get a name (the storage's texts are few: a multi-row INSERT per batch
  // size seen, a latest per filter shape); any later one is sent unnamed.
  const names = new Map<string, string>()
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text)
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
      name = `effect_checkpoint_storage_${names.size + 1}`
      names.set(text, name)
    }
    return name
  }
  const onPool: DriverRun = (_context, text, params, deadline) =>
    callbackWithin(deadline, (done) => {
      const name = nameOf(text)
      const query = name === undefined ? { text, values: params as Array<unknown> } : { name, text, values: params as Array<unknown> }
      pool.query(query, (cause, result) => {
        done(
          cause === undefined || cause === null
            ? Effect.succeed(result.rows)
            : Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
        )
      })
    })
  return preparedStatementsOnDriver(sql, onPool)
}

/** The slice of a mysql2 `Pool` used here (its callback API). */
export interface MysqlPoolLike {
  readonly execute: (
    options: { readonly sql: string; readonly values: Array<unknown> },
    callback: (error: Error | null, result: unknown) => void
  ) => void
}

/**
 * Statements on a mysql2 pool with `execute`, which prepares each text once per connection (mysql2 keeps an LRU of
 * them per connection). Why not through @effect/sql-mysql2, which calls the same `execute`: its statement path (a
 * span, a scope, the acquirer, the result mapping) costs more than the rest of a read by id (bench/profile.ts). A
 * statement runs on the pool only outside a transaction of the storage's client; inside one it goes to the
 * transaction's connection, through the client.
 *
 * @internal
 */
export const mysqlPreparedStatements = (pool: MysqlPoolLike, sql: SqlClient.SqlClient): PreparedStatements => {
  const onPool: DriverRun = (_context, text, params, deadline) =>
    callbackWithin(deadline, (done) => {
      pool.execute({ sql: text, values: params as Array<unknown> }, (cause, result) => {
        done(
          cause === null || cause === undefined
            ? Effect.succeed(result)
            : Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
        )
      })
    })
  return preparedStatementsOnDriver(sql, onPool)
}

/**
 * The driver's prepared statements, provided by a layer that built the driver's pool itself.
 *
 * @internal
 */
export class DriverPreparedStatements extends Context.Tag("effect-checkpoint-storage/DriverPreparedStatements")<
  DriverPreparedStatements,
  PreparedStatements
>() {}
