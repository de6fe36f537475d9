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
import * as Either from "effect/Either"
import { callbackWithin, type Deadline, raceDeadline, within } from "./deadline.js"

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
  /** Whether `raw` reports a SQLite INSERT without RETURNING as `{ changes, lastInsertRowid }` (the SQLite layers'
   * own client does, through the client too; @effect/sql-sqlite-bun's gives its rows, none). */
  readonly reportsInsertRowid: boolean
  /**
   * Sends a statement to the driver outside any fiber, when this storage owns its driver and no transaction of the
   * client holds the connection: `done` then gets what `raw` would give (once, within the deadline if there is one),
   * and this returns true. Otherwise it sends nothing and returns false. For code that runs outside the callers'
   * fibers (the insert batcher): no fiber of its own to start, resume and end per statement. With `firstRowOnly`
   * (a read of one row: by id, or LIMIT 1), a driver may read just that row: the rows are then that row or none.
   */
  readonly sendNow: <E>(
    text: string,
    params: ReadonlyArray<unknown>,
    deadline: Deadline<E> | undefined,
    done: (outcome: Either.Either<unknown, SqlError | E>) => void,
    firstRowOnly?: boolean
  ) => boolean
  /** Two statements sent as `sendNow` sends one, both or neither, at once: on a pool, each on a connection of its own
   * (SQLite: one after the other). `done` gets both outcomes once both are in. */
  readonly sendBothNow: <E>(
    first: readonly [text: string, params: ReadonlyArray<unknown>],
    second: readonly [text: string, params: ReadonlyArray<unknown>],
    deadline: Deadline<E> | undefined,
    done: (first: Either.Either<unknown, SqlError | E>, second: Either.Either<unknown, SqlError | E>) => void
  ) => boolean
}

/**
 * The default: the same statement through the `SqlClient`, which may prepare it (mysql2's `execute`, the SQLite
 * clients' statement caches) or not.
 *
 * @internal
 */
export const preparedStatementsOfClient = (sql: SqlClient.SqlClient): PreparedStatements => ({
  rows: (text, params, deadline) => within(deadline)(sql.unsafe(text, params)),
  raw: (text, params, deadline) => within(deadline)(sql.unsafe(text, params).raw),
  reportsInsertRowid: false,
  sendNow: () => false,
  sendBothNow: () => false
})

/**
 * How a driver runs one statement itself: `done` gets its result as the driver gives it (the rows, or a result
 * header), or the driver's error as a SqlError; at once (SQLite) or later (the servers). Integers are read as the
 * fiber's `SqlClient.SafeIntegers` says in `context` (the default when there is no fiber).
 *
 * @internal
 */
export type DriverSend = (
  context: Context.Context<never>,
  text: string,
  params: ReadonlyArray<unknown>,
  done: (outcome: Either.Either<unknown, SqlError>) => void,
  firstRowOnly?: boolean
) => void

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
  driver: { readonly send: DriverSend; readonly synchronous: boolean; readonly reportsInsertRowid?: boolean },
  driverBusy: () => boolean = () => false
): PreparedStatements => {
  const sql = client.withoutTransforms()
  const { send } = driver
  const viaClient = (context: Context.Context<never>) => inClientTransaction(context) || driverBusy()
  // A synchronous driver (SQLite) answers within `send`: its outcome is the Effect (an Either is one), no suspension.
  // It has no deadline either: a synchronous statement cannot be cut short.
  const run: <E>(
    context: Context.Context<never>,
    text: string,
    params: ReadonlyArray<unknown>,
    deadline?: Deadline<E>
  ) => Effect.Effect<unknown, SqlError | E> = driver.synchronous
    ? (context, text, params) => {
      let outcome: Either.Either<unknown, SqlError> | undefined
      send(context, text, params, (answer) => {
        outcome = answer
      })
      return outcome ?? Effect.dieMessage("a synchronous driver did not answer at once")
    }
    : (context, text, params, deadline) =>
      callbackWithin(deadline, (done) => send(context, text, params, (outcome) => done(outcome)))
  // Outside any fiber: the default integers, and the deadline raced on the driver's callback (none on SQLite).
  const sendWithin = <E>(
    text: string,
    params: ReadonlyArray<unknown>,
    deadline: Deadline<E> | undefined,
    done: (outcome: Either.Either<unknown, SqlError | E>) => void,
    firstRowOnly?: boolean
  ): void => {
    if (driver.synchronous) return send(Context.empty(), text, params, done, firstRowOnly)
    raceDeadline<Either.Either<unknown, SqlError | E>>(
      deadline,
      () => Either.left(deadline!.onTimeout()),
      (answer) => send(Context.empty(), text, params, answer, firstRowOnly),
      done
    )
  }
  return {
    reportsInsertRowid: driver.reportsInsertRowid ?? false,
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
      ),
    sendNow: <E>(
      text: string,
      params: ReadonlyArray<unknown>,
      deadline: Deadline<E> | undefined,
      done: (outcome: Either.Either<unknown, SqlError | E>) => void,
      firstRowOnly?: boolean
    ) => {
      if (driverBusy()) return false
      sendWithin(text, params, deadline, done, firstRowOnly)
      return true
    },
    sendBothNow: <E>(
      first: readonly [text: string, params: ReadonlyArray<unknown>],
      second: readonly [text: string, params: ReadonlyArray<unknown>],
      deadline: Deadline<E> | undefined,
      done: (first: Either.Either<unknown, SqlError | E>, second: Either.Either<unknown, SqlError | E>) => void
    ) => {
      if (driverBusy()) return false
      let firstOutcome: Either.Either<unknown, SqlError | E> | undefined
      let secondOutcome: Either.Either<unknown, SqlError | E> | undefined
      const settle = () => {
        if (firstOutcome !== undefined && secondOutcome !== undefined) done(firstOutcome, secondOutcome)
      }
      sendWithin(first[0], first[1], deadline, (outcome) => {
        firstOutcome = outcome
        settle()
      })
      sendWithin(second[0], second[1], deadline, (outcome) => {
        secondOutcome = outcome
        settle()
      })
      return true
    }
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
  const onPool: DriverSend = (_context, text, params, done) => {
    const name = nameOf(text)
    const query = name === undefined ? { text, values: params as Array<unknown> } : { name, text, values: params as Array<unknown> }
    pool.query(query, (cause, result) => {
      done(
        cause === undefined || cause === null
          ? Either.right(result.rows)
          : Either.left(new SqlError({ cause, message: "Failed to execute statement" }))
      )
    })
  }
  return preparedStatementsOnDriver(sql, { send: onPool, synchronous: false })
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
  const onPool: DriverSend = (_context, text, params, done) => {
    pool.execute({ sql: text, values: params as Array<unknown> }, (cause, result) => {
      done(
        cause === null || cause === undefined
          ? Either.right(result)
          : Either.left(new SqlError({ cause, message: "Failed to execute statement" }))
      )
    })
  }
  return preparedStatementsOnDriver(sql, { send: onPool, synchronous: false })
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
