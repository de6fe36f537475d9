/**
 * CheckpointStorage over any @effect/sql `SqlClient`: one implementation for PostgreSQL, MySQL/MariaDB and SQLite.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { decodeInput } from "../internal/decodeInput.js"
import { operationTimedOut, withOperationTimeout } from "../internal/operationTimeout.js"
import { refailSqlDefect, refailSqlError } from "../internal/refailSqlError.js"
import {
  type AgentCheckpointFilter,
  type AgentCheckpointListOptions,
  type AppCheckpointFilter,
  type AppCheckpointListOptions,
  type CheckpointStreamOptions,
  type PruneOptions,
  type PruneProgress,
  RetentionPolicy as RetentionPolicySchema,
  type RetentionPolicy
} from "../schema/CheckpointQuery.js"
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"
import {
  type CheckpointValidationError,
  type Dialect,
  MigrationError,
  type StorageConnectionError,
  type StorageQueryError
} from "../services/CheckpointStorageError.js"
import { makeAgentMetricsTable } from "./AgentMetricsTable.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"
import { makeCheckpointSessions } from "./CheckpointSessions.js"
import { agentCheckpoints, appCheckpoints } from "./CheckpointTables.js"
import { type CheckpointTableOperations, makeCheckpointTable } from "./SqlCheckpointTable.js"

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
  /**
   * Whether each SQL statement gets a span of its own (@effect/sql's) inside the operation's span
   * `CheckpointStorage.<operation>`. Default false: one span per operation.
   */
  readonly statementSpans?: boolean | undefined
}

/**
 * @effect/sql makes a span per statement; inside an operation's own span they are left out unless asked for, as
 * Effect's SqlMessageStorage does: tracing changes what is recorded, never what runs.
 *
 * @internal
 */
export const statementTracingOf = (
  statementSpans: boolean | undefined
): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> =>
  statementSpans === true ? identity : Effect.withTracerEnabled(false)

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
  const { maxStateBytes, migrationsTable, operationTimeout, retention, statementSpans, ...rest } = options
  return [{ maxStateBytes, migrationsTable, operationTimeout, retention, statementSpans }, rest]
}

/**
 * The dialect of a client, or a MigrationError for one this library does not support.
 *
 * @internal
 */
export const resolveDialect = (sql: SqlClient.SqlClient): Effect.Effect<Dialect, MigrationError> =>
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

const WholeNumber = (min: number, max: number) =>
  Schema.Number.pipe(Schema.filter((n) => (Number.isInteger(n) && n >= min && n <= max) || `must be a whole number from ${min} to ${max}`))
const PruneOptionsSchema = Schema.Struct({ batchSize: Schema.optional(WholeNumber(1, 10_000)) })
const validatePlanOptions = decodeInput(Schema.Struct({ sampleSize: Schema.optional(WholeNumber(0, 10_000)) }), "PrunePlanOptions")
const validateSessionOptions = decodeInput(Schema.Struct({ limit: Schema.optional(WholeNumber(1, 10_000)) }), "SessionStatisticsOptions")

/** Spans of the operations are made without a stack trace: capturing one costs more than a SQLite read. */
const spanOptions = { captureStackTrace: false } as const

/**
 * Builds the storage on the `SqlClient` in context, after applying the migrations. Its insert batchers live as long
 * as the scope.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(
  options: SqlCheckpointStorageOptions = {}
): Effect.fn.Return<
  CheckpointStorageService,
  MigrationError | StorageConnectionError | CheckpointValidationError,
  SqlClient.SqlClient | Scope.Scope
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
  const statementTracing = statementTracingOf(options.statementSpans)
  const bound = <A, E, R>(operation: string) => (effect: Effect.Effect<A, E, R>) =>
    Option.isNone(timeout)
      ? effect as Effect.Effect<A, E | StorageConnectionError, R>
      : withOperationTimeout(timeout.value, () => operationTimedOut(dialect, operation, timeout.value))(effect)
  // The coalesced INSERTs of a table's stores run in the insert batcher's fibers, bounded like the stores.
  const tableOptions = (store: string) => ({
    maxStateBytes,
    retention,
    carryTrace: options.statementSpans === true,
    boundStatement: <A, E>(statement: Effect.Effect<A, E>) => statementTracing(bound<A, E, never>(store)(statement))
  })
  const agents = yield* makeCheckpointTable(sql, dialect, agentCheckpoints, tableOptions("storeAgentCheckpoint"))
  const apps = yield* makeCheckpointTable(sql, dialect, appCheckpoints, tableOptions("storeAppCheckpoint"))
  const metrics = makeAgentMetricsTable(sql, dialect, { maxStateBytes })
  const summaries = makeCheckpointSessions(sql, dialect)
  const validatePolicy = decodeInput(RetentionPolicySchema, "RetentionPolicy")
  const validatePruneOptions = decodeInput(PruneOptionsSchema, "PruneOptions")

  /**
   * Every operation, the same way on every tracer: one span `CheckpointStorage.<operation>`, its statements'
   * failures typed (`refailSqlDefect`: a connection lost during a transaction's COMMIT or ROLLBACK reaches us as a
   * defect), and the operation timeout.
   */
  const operation = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>) =>
    Effect.withSpan(
      bound<A, E | StorageConnectionError | StorageQueryError, R>(name)(
        refailSqlDefect(dialect, name)(statementTracing(effect))
      ),
      `CheckpointStorage.${name}`,
      spanOptions
    )
  // A stream is bounded page by page (each pull), never as a whole: its consumer sets the pace.
  const streamOperation = <A, E, R>(name: string, stream: Stream.Stream<A, E, R>) => {
    const pulls = Effect.map(Stream.toPull(stream), (pull) => {
      const traced = statementTracing(pull)
      return Option.isNone(timeout) ? traced : withOperationTimeout(
        timeout.value,
        (): Option.Option<E | StorageConnectionError> => Option.some(operationTimedOut(dialect, name, timeout.value))
      )(traced)
    })
    return Stream.withSpan(Stream.fromPull(pulls), `CheckpointStorage.${name}`, spanOptions)
  }

  const both = <A, E>(run: (table: CheckpointTableOperations) => Effect.Effect<A, E>) =>
    Effect.map(
      Effect.all([run(agents), run(apps)]),
      ([agentCheckpoints, appCheckpoints]) => ({ agentCheckpoints, appCheckpoints })
    )

  const prune = (policy: RetentionPolicy, pruneOptions?: PruneOptions) =>
    operation(
      "prune",
      Effect.gen(function*() {
        const valid = yield* validatePolicy(policy)
        const { batchSize = 1000 } = yield* validatePruneOptions({ batchSize: pruneOptions?.batchSize })
        const atomicRules = pruneOptions?.atomicRules === true
        const onProgress = pruneOptions?.onProgress
        const progressOf = (table: PruneProgress["table"]) => (deleted: number) =>
          onProgress === undefined ? Effect.void : Effect.withTracerEnabled(onProgress({ table, deleted }), true)
        const agentCheckpoints = yield* agents.prune("prune", valid, {
          batchSize,
          atomicRules,
          onBatch: progressOf("AgentCheckpoints")
        })
        const appCheckpoints = yield* apps.prune("prune", valid, {
          batchSize,
          atomicRules,
          onBatch: progressOf("AppCheckpoints")
        })
        const agentMetrics = yield* Effect.mapError(
          metrics.prune(valid, { batchSize, atomic: atomicRules, onBatch: progressOf("AgentMetrics") }),
          refailSqlError(dialect, "prune")
        )
        return {
          agentCheckpoints: agentCheckpoints.count,
          appCheckpoints: appCheckpoints.count,
          agentMetrics: agentMetrics.count,
          freedBytes: agentCheckpoints.bytes + appCheckpoints.bytes + agentMetrics.bytes
        }
      })
    )

  const planPrune = (policy: RetentionPolicy, planOptions?: { readonly sampleSize?: number | undefined }) =>
    operation(
      "planPrune",
      Effect.gen(function*() {
        const valid = yield* validatePolicy(policy)
        const { sampleSize = 10 } = yield* validatePlanOptions({ sampleSize: planOptions?.sampleSize })
        const tables = yield* both((table) => table.planPrune("planPrune", valid, sampleSize))
        return { ...tables, agentMetrics: yield* metrics.plan("planPrune", valid, sampleSize) }
      })
    )

  return CheckpointStorage.of({
    storeAgentCheckpoint: (checkpoint) => operation("storeAgentCheckpoint", agents.store("storeAgentCheckpoint", checkpoint)),
    retrieveAgentCheckpoint: (id) =>
      operation("retrieveAgentCheckpoint", agents.retrieve("retrieveAgentCheckpoint", id)),
    listAgentCheckpoints: ((listOptions?: AgentCheckpointListOptions) =>
      listOptions === undefined
        ? operation("listAgentCheckpoints", agents.listAll("listAgentCheckpoints"))
        : operation("listAgentCheckpoints", agents.listPage("listAgentCheckpoints", listOptions))) as never,
    storeAppCheckpoint: (checkpoint) => operation("storeAppCheckpoint", apps.store("storeAppCheckpoint", checkpoint)),
    retrieveAppCheckpoint: (id) => operation("retrieveAppCheckpoint", apps.retrieve("retrieveAppCheckpoint", id)),
    listAppCheckpoints: ((listOptions?: AppCheckpointListOptions) =>
      listOptions === undefined
        ? operation("listAppCheckpoints", apps.listAll("listAppCheckpoints"))
        : operation("listAppCheckpoints", apps.listPage("listAppCheckpoints", listOptions))) as never,
    retrieveLatestAppCheckpoint: (filter) =>
      operation("retrieveLatestAppCheckpoint", apps.latest("retrieveLatestAppCheckpoint", filter)),
    retrieveLatestAgentCheckpoint: (filter) =>
      operation("retrieveLatestAgentCheckpoint", agents.latest("retrieveLatestAgentCheckpoint", filter)),
    streamAgentCheckpoints: ((streamOptions?: AgentCheckpointFilter & CheckpointStreamOptions) =>
      streamOperation("streamAgentCheckpoints", agents.stream("streamAgentCheckpoints", streamOptions))) as never,
    streamAppCheckpoints: ((streamOptions?: AppCheckpointFilter & CheckpointStreamOptions) =>
      streamOperation("streamAppCheckpoints", apps.stream("streamAppCheckpoints", streamOptions))) as never,
    deleteAgentCheckpoint: (id) => operation("deleteAgentCheckpoint", agents.deleteById("deleteAgentCheckpoint", id)),
    deleteAppCheckpoint: (id) => operation("deleteAppCheckpoint", apps.deleteById("deleteAppCheckpoint", id)),
    deleteAgentCheckpoints: (selector) =>
      operation("deleteAgentCheckpoints", agents.deleteWhere("deleteAgentCheckpoints", selector)),
    deleteAppCheckpoints: (selector) =>
      operation("deleteAppCheckpoints", apps.deleteWhere("deleteAppCheckpoints", selector)),
    storeAgentMetrics: (record) => operation("storeAgentMetrics", metrics.store("storeAgentMetrics", record)),
    retrieveAgentMetrics: (agentId) =>
      operation("retrieveAgentMetrics", metrics.retrieve("retrieveAgentMetrics", agentId)),
    listAgentMetrics: () => operation("listAgentMetrics", metrics.list("listAgentMetrics")),
    deleteAgentMetrics: (agentId) =>
      operation("deleteAgentMetrics", metrics.deleteByAgent("deleteAgentMetrics", agentId)),
    prune,
    planPrune,
    statistics: () => operation("statistics", both((table) => table.statistics("statistics"))),
    sessionStatistics: (statisticsOptions) =>
      operation(
        "sessionStatistics",
        Effect.flatMap(validateSessionOptions({ limit: statisticsOptions?.limit }), ({ limit = 20 }) =>
          both((table) => table.sessionStatistics("sessionStatistics", limit)))
      ),
    listSessions: (listOptions) => operation("listSessions", summaries.listSessions("listSessions", listOptions)),
    listAgents: (listOptions) => operation("listAgents", summaries.listAgents("listAgents", listOptions ?? {})),
    importAgentCheckpoints: (source, checkpoints) =>
      operation("importAgentCheckpoints", agents.importFrom("importAgentCheckpoints", source, checkpoints)),
    importAppCheckpoints: (source, checkpoints) =>
      operation("importAppCheckpoints", apps.importFrom("importAppCheckpoints", source, checkpoints)),
    importPosition: (source) =>
      operation("importPosition", both((table) => table.importPosition("importPosition", source))),
    listAgentLineage: (id) => operation("listAgentLineage", agents.lineage("listAgentLineage", id)),
    listAppLineage: (id) => operation("listAppLineage", apps.lineage("listAppLineage", id)),
    forkAgentCheckpoint: (id, changes) =>
      operation("forkAgentCheckpoint", agents.fork("forkAgentCheckpoint", id, changes)),
    forkAppCheckpoint: (id, changes) => operation("forkAppCheckpoint", apps.fork("forkAppCheckpoint", id, changes))
  })
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
  Layer.scoped(CheckpointStorage, make(options))
