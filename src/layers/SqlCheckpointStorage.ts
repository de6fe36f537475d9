/**
 * CheckpointStorage over any @effect/sql `SqlClient`: one implementation for PostgreSQL, MySQL/MariaDB and SQLite.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { operationTimedOut, withDeadline } from "../internal/deadline.js"
import { decodeInput } from "../internal/decodeInput.js"
import { cannotWithdraw, type DirectCalls, withDirectCalls, type Withdraw } from "../internal/directCalls.js"
import { collectsSpans, withOperationSpan } from "../internal/operationSpan.js"
import { DriverPreparedStatements, inClientTransaction, preparedStatementsOfClient } from "../internal/preparedStatements.js"
import { refailSqlDefect } from "../internal/refailSqlError.js"
import {
  type AgentCheckpointFilter,
  type AgentCheckpointListOptions,
  type AppCheckpointFilter,
  type AppCheckpointListOptions,
  type CheckpointStreamOptions,
  RetentionPolicy as RetentionPolicySchema,
  type RetentionPolicy
} from "../schema/CheckpointQuery.js"
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"
import {
  type CheckpointValidationError,
  type Dialect,
  MigrationError,
  StorageConnectionError,
  type StorageQueryError
} from "../services/CheckpointStorageError.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"
import { agentCheckpoints, appCheckpoints } from "./CheckpointTables.js"
import { makeCheckpointTable } from "./SqlCheckpointTable.js"

/**
 * @since 0.1.0
 */
export interface SqlCheckpointStorageOptions {
  /** The table recording applied migrations. Default `effect_checkpoint_storage_migrations`. */
  readonly migrationsTable?: string | undefined
  /** Refuse states whose JSON is larger than this many UTF-8 bytes (StateTooLargeError). Default: no limit. */
  readonly maxStateBytes?: number | undefined
  /** Applied in the transaction of every store, so the tables never hold more than it allows. Default: none. */
  readonly retention?: RetentionPolicy | undefined
  /**
   * How long one operation may take, waiting for a pooled connection included, before it fails with a
   * `StorageConnectionError` whose `code` is `"TIMEOUT"` (for a stream: how long one page may take). The caller gets
   * the error at the bound, whatever the network does. With `layerPostgres` and `layerMysql` (not `layerSql`, whose
   * client is the caller's), a connection that carries nothing either way for as long is closed, so the pool never
   * hands out a connection whose peer went silent (an idle pooled one is closed too, and reopened when needed). A
   * store that times out may still have been written: only a store that returned an id is acknowledged.
   *
   * Default: `DEFAULT_OPERATION_TIMEOUT` (30 seconds) on PostgreSQL and MySQL/MariaDB. On SQLite, none unless set:
   * its statements run synchronously and cannot be cut short; waiting for a lock is bounded by `busyTimeout`.
   * `Duration.infinity` turns it off.
   */
  readonly operationTimeout?: Duration.DurationInput | undefined
}

/**
 * How long an operation on PostgreSQL or MySQL/MariaDB may take, unless `operationTimeout` says otherwise.
 *
 * @since 0.1.0
 */
export const DEFAULT_OPERATION_TIMEOUT: Duration.DurationInput = Duration.seconds(30)

/**
 * The operation timeout of a dialect, as the storage applies it: `None` when there is none.
 *
 * @internal
 */
export const resolveOperationTimeout = (
  dialect: Dialect,
  input: Duration.DurationInput | undefined
): Option.Option<Duration.Duration> => {
  const timeout = input === undefined
    ? (dialect === "sqlite" ? Option.none() : Option.some(Duration.decode(DEFAULT_OPERATION_TIMEOUT)))
    : Duration.decodeUnknown(input)
  return Option.filter(timeout, Duration.isFinite)
}

/**
 * Separates the storage's own options from those of the client they were given with.
 *
 * @internal
 */
export const splitStorageOptions = <T extends SqlCheckpointStorageOptions>(
  options: T
): readonly [SqlCheckpointStorageOptions, Omit<T, keyof SqlCheckpointStorageOptions>] => {
  const { maxStateBytes, migrationsTable, operationTimeout, retention, ...rest } = options
  return [{ maxStateBytes, migrationsTable, operationTimeout, retention }, rest]
}

const resolveDialect = (sql: SqlClient.SqlClient): Effect.Effect<Dialect, MigrationError> =>
  sql.onDialectOrElse({
    pg: () => Effect.succeed("pg" as const),
    mysql: () => Effect.succeed("mysql" as const),
    sqlite: () => Effect.succeed("sqlite" as const),
    orElse: () => Effect.fail(new MigrationError({ reason: "unsupported-dialect" }))
  })

const StorageOptions = Schema.Struct({
  maxStateBytes: Schema.optional(
    Schema.Number.pipe(Schema.filter((n) => (Number.isSafeInteger(n) && n > 0) || "must be a whole number of bytes, 1 or more"))
  ),
  retention: Schema.optional(RetentionPolicySchema),
  operationTimeout: Schema.optional(Schema.Unknown.pipe(Schema.filter((input) =>
    Option.match(Duration.decodeUnknown(input), {
      onNone: () => "must be a duration (\"30 seconds\", milliseconds, or a Duration)",
      onSome: (duration) => Duration.greaterThan(duration, Duration.zero) || "must be longer than zero"
    })
  )))
})
const validateOptions = decodeInput(StorageOptions, "SqlCheckpointStorageOptions")

/**
 * Builds the storage on the `SqlClient` in context, after applying the migrations.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(
  options: SqlCheckpointStorageOptions = {}
): Effect.fn.Return<
  CheckpointStorageService,
  MigrationError | StorageConnectionError | CheckpointValidationError,
  SqlClient.SqlClient
> {
  const { maxStateBytes, retention } = yield* validateOptions({
    maxStateBytes: options.maxStateBytes,
    retention: options.retention,
    operationTimeout: options.operationTimeout
  })
  // Our column names are exact (camelCase, as drizzle-storage made them): the caller's name transforms must not
  // bend them.
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const dialect = yield* resolveDialect(sql)
  yield* runCheckpointMigrations({ dialect, table: options.migrationsTable })

  const timeout = resolveOperationTimeout(dialect, options.operationTimeout)
  const runtime = yield* Effect.runtime<never>()
  // The driver's own prepared statements when the layer built the driver (layerPostgres), else the client's.
  const prepared = Option.getOrElse(
    yield* Effect.serviceOption(DriverPreparedStatements),
    () => preparedStatementsOfClient(sql)
  )
  const tableOptions = { maxStateBytes, retention, operationTimeout: timeout }
  const agents = makeCheckpointTable(sql, dialect, agentCheckpoints, tableOptions, { prepared, runtime })
  const apps = makeCheckpointTable(sql, dialect, appCheckpoints, tableOptions, { prepared, runtime })
  const validatePolicy = decodeInput(RetentionPolicySchema, "RetentionPolicy")

  // The bound of every operation (internal/deadline.ts): the caller gets the error at the bound, while the interrupted
  // statement is cleaned up in the background (interrupting it can take longer: @effect/sql acquires a transaction's
  // connection uninterruptibly, and @effect/sql-pg waits up to 5 s for its pg_cancel_backend). The connection it held
  // is closed by the connection watchdog (internal/connectionWatchdog.ts) once it has been silent as long.
  // `refailSqlDefect` first: a connection lost during a transaction's COMMIT or ROLLBACK reaches us as a defect.
  // The span (internal/operationSpan.ts) only when a tracer collects it.
  const bounded = <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | StorageConnectionError | StorageQueryError, R> => {
    const typed = refailSqlDefect(dialect, operation)(effect)
    const limited = Option.isNone(timeout)
      ? typed
      : withDeadline(Duration.toMillis(timeout.value), operationTimedOut(dialect, operation, timeout.value))(typed)
    return withOperationSpan(`CheckpointStorage.${operation}`)(limited)
  }
  // The operations that bound themselves: a store (a plain one waits in the insert batcher, which bounds the wait
  // itself), and the reads of one statement (retrieve, latest, a page), whose deadline rides on the driver's
  // callback (internal/preparedStatements.ts): no fiber per call.
  const selfBounded = <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | StorageConnectionError | StorageQueryError, R> =>
    withOperationSpan(`CheckpointStorage.${operation}`)(refailSqlDefect(dialect, operation)(effect))
  // The hot operations (store, retrieve, latest, a page) through the table's direct calls (internal/directCalls.ts,
  // which the Promise facade calls too): the same checks, statements and decoding, from the driver's callback, with
  // the answer at once when the driver gave it during the call (SQLite reads), else one wait for it; no span to make,
  // no defect to map. Otherwise the operation's Effect, bounded by selfBounded: when spans are collected, inside a
  // transaction of the caller's (the statement must use its connection), or when the call cannot run directly (a
  // store with a parent, a driver that cannot take the statement now). Why: the Effect around each step cost a lone
  // store on SQLite 0.74 → 0.84 of better-sqlite3's rate, 64 concurrent stores 2.4× → 2.9–3.0× (interleaved rounds),
  // and a read by id 0.83 → 0.88; pages, see SqlCheckpointTable `planPage`.
  const direct = <A, E>(
    operation: string,
    call: (done: (outcome: Exit.Exit<A, E>) => void) => Withdraw | false,
    effect: () => Effect.Effect<A, E>
  ): Effect.Effect<A, E | StorageConnectionError | StorageQueryError> =>
    Effect.withFiberRuntime((fiber) => {
      if (collectsSpans(fiber) || inClientTransaction(fiber.currentContext)) return selfBounded(operation, effect())
      let answer: Exit.Exit<A, E> | undefined
      let resume: ((outcome: Exit.Exit<A, E>) => void) | undefined
      let withdraw = call((outcome) => (resume === undefined ? (answer = outcome) : resume(outcome)))
      if (withdraw === false) return selfBounded(operation, effect())
      // Registered before the driver's callback can come, unless the fiber yielded in between: then the answer is
      // already here.
      return answer ?? Effect.async<A, E>((resumeFiber) => {
        if (answer !== undefined) return resumeFiber(answer)
        if (withdraw === cannotWithdraw) {
          resume = resumeFiber
          return
        }
        // A store whose fiber ends while its row still waits in the batcher (the fiber was interrupted: nothing else
        // ends it there) takes the row back. Watched from the fiber's end, not with a canceler: Effect wraps an
        // async that returns one in onInterrupt, which cost a lone store on SQLite 0.81 → 0.77 of better-sqlite3's
        // rate and 64 concurrent ones 2.7–2.9× → 2.3× (interleaved rounds).
        fiber.addObserver(withdraw as Withdraw)
        resume = (outcome) => {
          fiber.removeObserver(withdraw as Withdraw)
          // Let go of the call once answered. Objects of the async machinery of a finished call (this closure's
          // scope among them) survive young-generation collections until a full one, and through `withdraw` they
          // held all the call's own: the batcher's entry with the row (its state's JSON), the input, the callbacks.
          // Each young collection then promoted about 4 MB and took 4 ms instead of 1 (node --trace-gc, a store loop
          // on SQLite: 4.7 µs of collection per store instead of 1.0). Letting the batcher drop the row instead was
          // not enough (3.5 ms).
          withdraw = false
          resume = undefined
          resumeFiber(outcome)
        }
      })
    })
  // A stream is bounded page by page (each pull), never as a whole: its consumer sets the pace. Not disconnected: the
  // pull belongs to the stream's scope, which closes right after; with @effect/sql-pg the error may then come up to
  // 5 s after the bound (its pg_cancel_backend), still bounded.
  const boundedStream = <A, E, R>(operation: string, stream: Stream.Stream<A, E, R>) =>
    Option.match(timeout, {
      onNone: () => stream as Stream.Stream<A, E | StorageConnectionError, R>,
      onSome: (duration) =>
        Stream.fromPull(Effect.map(Stream.toPull(stream), (pull) =>
          pull.pipe(
            Effect.timeoutFail({
              duration,
              onTimeout: (): Option.Option<E | StorageConnectionError> => Option.some(operationTimedOut(dialect, operation, duration)())
            })
          )))
    })

  const listAgentCheckpoints = (options?: AgentCheckpointListOptions) =>
    options === undefined
      ? bounded("listAgentCheckpoints", agents.listAll("listAgentCheckpoints"))
      : direct(
        "listAgentCheckpoints",
        (done) => calls.listAgentCheckpoints(options, done),
        () => agents.listPage("listAgentCheckpoints", options)
      )
  const listAppCheckpoints = (options?: AppCheckpointListOptions) =>
    options === undefined
      ? bounded("listAppCheckpoints", apps.listAll("listAppCheckpoints"))
      : direct(
        "listAppCheckpoints",
        (done) => calls.listAppCheckpoints(options, done),
        () => apps.listPage("listAppCheckpoints", options)
      )
  const streamAgentCheckpoints = (options?: AgentCheckpointFilter & CheckpointStreamOptions) =>
    boundedStream("streamAgentCheckpoints", agents.stream("streamAgentCheckpoints", options))
  const streamAppCheckpoints = (options?: AppCheckpointFilter & CheckpointStreamOptions) =>
    boundedStream("streamAppCheckpoints", apps.stream("streamAppCheckpoints", options))

  // The hot operations as callbacks, once: the service's Effects run them (direct), the Promise facade calls them.
  const calls: DirectCalls = {
    storeAgentCheckpoint: (checkpoint, done) => agents.storeNow("storeAgentCheckpoint", checkpoint, done),
    retrieveAgentCheckpoint: (id, done) => agents.retrieveNow("retrieveAgentCheckpoint", id, done),
    retrieveLatestAgentCheckpoint: (filter, done) => agents.latestNow("retrieveLatestAgentCheckpoint", filter, done),
    listAgentCheckpoints: (options, done) => agents.pageNow("listAgentCheckpoints", options, done),
    storeAppCheckpoint: (checkpoint, done) => apps.storeNow("storeAppCheckpoint", checkpoint, done),
    retrieveAppCheckpoint: (id, done) => apps.retrieveNow("retrieveAppCheckpoint", id, done),
    retrieveLatestAppCheckpoint: (filter, done) => apps.latestNow("retrieveLatestAppCheckpoint", filter, done),
    listAppCheckpoints: (options, done) => apps.pageNow("listAppCheckpoints", options, done)
  }

  const service = CheckpointStorage.of({
    storeAgentCheckpoint: (checkpoint) =>
      direct(
        "storeAgentCheckpoint",
        (done) => calls.storeAgentCheckpoint(checkpoint, done),
        () => agents.store("storeAgentCheckpoint", checkpoint)
      ),
    retrieveAgentCheckpoint: (id) =>
      direct(
        "retrieveAgentCheckpoint",
        (done) => calls.retrieveAgentCheckpoint(id, done),
        () => agents.retrieve("retrieveAgentCheckpoint", id)
      ),
    listAgentCheckpoints: listAgentCheckpoints as CheckpointStorageService["listAgentCheckpoints"],
    storeAppCheckpoint: (checkpoint) =>
      direct(
        "storeAppCheckpoint",
        (done) => calls.storeAppCheckpoint(checkpoint, done),
        () => apps.store("storeAppCheckpoint", checkpoint)
      ),
    retrieveAppCheckpoint: (id) =>
      direct(
        "retrieveAppCheckpoint",
        (done) => calls.retrieveAppCheckpoint(id, done),
        () => apps.retrieve("retrieveAppCheckpoint", id)
      ),
    listAppCheckpoints: listAppCheckpoints as CheckpointStorageService["listAppCheckpoints"],
    retrieveLatestAppCheckpoint: (filter) =>
      direct(
        "retrieveLatestAppCheckpoint",
        (done) => calls.retrieveLatestAppCheckpoint(filter, done),
        () => apps.latest("retrieveLatestAppCheckpoint", filter)
      ),
    retrieveLatestAgentCheckpoint: (filter) =>
      direct(
        "retrieveLatestAgentCheckpoint",
        (done) => calls.retrieveLatestAgentCheckpoint(filter, done),
        () => agents.latest("retrieveLatestAgentCheckpoint", filter)
      ),
    streamAgentCheckpoints: ((options) =>
      Stream.withSpan(streamAgentCheckpoints(options), "CheckpointStorage.streamAgentCheckpoints")) as CheckpointStorageService[
        "streamAgentCheckpoints"
      ],
    streamAppCheckpoints: ((options) =>
      Stream.withSpan(streamAppCheckpoints(options), "CheckpointStorage.streamAppCheckpoints")) as CheckpointStorageService[
        "streamAppCheckpoints"
      ],
    deleteAgentCheckpoint: (id) => bounded("deleteAgentCheckpoint", agents.deleteById("deleteAgentCheckpoint", id)),
    deleteAppCheckpoint: (id) => bounded("deleteAppCheckpoint", apps.deleteById("deleteAppCheckpoint", id)),
    deleteAgentCheckpoints: (selector) =>
      bounded("deleteAgentCheckpoints", agents.deleteWhere("deleteAgentCheckpoints", selector)),
    deleteAppCheckpoints: (selector) => bounded("deleteAppCheckpoints", apps.deleteWhere("deleteAppCheckpoints", selector)),
    prune: (policy) =>
      bounded(
        "prune",
        Effect.gen(function*() {
          const valid = yield* validatePolicy(policy)
          return { agentCheckpoints: yield* agents.prune(valid), appCheckpoints: yield* apps.prune(valid) }
        })
      ),
    statistics: () =>
      bounded(
        "statistics",
        Effect.gen(function*() {
          return {
            agentCheckpoints: yield* agents.statistics("statistics"),
            appCheckpoints: yield* apps.statistics("statistics")
          }
        })
      ),
    listAgentLineage: (id) => bounded("listAgentLineage", agents.lineage("listAgentLineage", id)),
    listAppLineage: (id) => bounded("listAppLineage", apps.lineage("listAppLineage", id)),
    forkAgentCheckpoint: (id, changes) => bounded("forkAgentCheckpoint", agents.fork("forkAgentCheckpoint", id, changes)),
    forkAppCheckpoint: (id, changes) => bounded("forkAppCheckpoint", apps.fork("forkAppCheckpoint", id, changes))
  })
  // The facade uses them only where no tracer records spans: they make none.
  return withDirectCalls(service, calls)
})

/**
 * CheckpointStorage from any @effect/sql `SqlClient` (PostgreSQL, MySQL/MariaDB or SQLite). Building the layer
 * applies the migrations.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { layerSql } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerSql().pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) }))
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layerSql = (
  options?: SqlCheckpointStorageOptions
): Layer.Layer<
  CheckpointStorage,
  MigrationError | StorageConnectionError | CheckpointValidationError,
  SqlClient.SqlClient
> =>
  Layer.effect(CheckpointStorage, make(options))
