/**
 * Every operation on one checkpoint table, written once over `SqlClient` and the table's description, for both
 * tables and all three dialects. The SQL lives in the modules this one puts together: statements and rows
 * (CheckpointStatements), INSERTs and their ids (CheckpointInserts), pages (CheckpointPages), retention
 * (CheckpointRetention), lineage, statistics and imports.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { parseCheckpointId } from "../internal/checkpointId.js"
import { decodeInput } from "../internal/decodeInput.js"
import { classifyDriverError } from "../internal/driverError.js"
import { encodedStateBytes, encodeState } from "../internal/encodeState.js"
import { makeInsertBatcher } from "../internal/InsertBatcher.js"
import type { RetentionPolicy } from "../schema/CheckpointQuery.js"
import {
  CheckpointNotFoundError,
  type CheckpointValidationError,
  type Dialect,
  type StateEncodeError,
  StateTooLargeError,
  type StorageConnectionError,
  type StorageQueryError
} from "../services/CheckpointStorageError.js"
import { makeCheckpointImports } from "./CheckpointImports.js"
import { type CheckpointInserts, type CheckpointRow, makeCheckpointInserts } from "./CheckpointInserts.js"
import { makeCheckpointLineage } from "./CheckpointLineage.js"
import { makeCheckpointPages } from "./CheckpointPages.js"
import { makeCheckpointRetention } from "./CheckpointRetention.js"
import { type CheckpointStatements, type FilterFields, makeCheckpointStatements } from "./CheckpointStatements.js"
import { makeCheckpointStatistics } from "./CheckpointStatistics.js"
import type { CheckpointTable, StoredOf } from "./CheckpointTables.js"

/**
 * What the storage's options say about every table, and how its statements are bounded.
 *
 * @since 0.1.0
 */
export interface CheckpointTableOptions {
  /** States whose JSON is larger than this many UTF-8 bytes are refused with StateTooLargeError. */
  readonly maxStateBytes?: number | undefined
  /** Applied in the transaction of every store. */
  readonly retention?: RetentionPolicy | undefined
  /** Whether the insert batcher runs each coalesced INSERT in the trace of its first store (statementSpans). */
  readonly carryTrace: boolean
  /** Bounds one statement of the insert batcher (the operation timeout). */
  readonly boundStatement: <A, E>(statement: Effect.Effect<A, E>) => Effect.Effect<A, E | StorageConnectionError>
}

/** How many rows one retention DELETE removes at most. */
const RETENTION_BATCH = 1000

/**
 * The operations of one table.
 *
 * @since 0.1.0
 */
export type CheckpointTableOperations<T extends CheckpointTable = CheckpointTable> = ReturnType<typeof operationsOf<T>>

/**
 * Builds the operations of `table`; its insert batcher lives as long as the scope.
 *
 * @since 0.1.0
 */
export const makeCheckpointTable = <T extends CheckpointTable>(
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  table: T,
  options: CheckpointTableOptions
) =>
  Effect.gen(function*() {
    const statements = makeCheckpointStatements(sql, dialect, table)
    const inserts = makeCheckpointInserts(statements)
    const batcher = yield* makeInsertBatcher<CheckpointRow, SqlError | StorageConnectionError>({
      insertOne: inserts.insertRow,
      insertMany: inserts.insertRows,
      // Not after a lost connection or a timeout: the statement may have committed.
      retryRowByRow: (error) =>
        error._tag === "SqlError" && !classifyDriverError(dialect, error.cause ?? error).isConnectionFailure,
      sizeOf: (row) => (row.sizeBytes as number) + 256,
      // Bound parameters: SQLite builds before 3.32 allow 999 (9 per row here), PostgreSQL 65 535. SQLite has one
      // connection: one statement at a time; the servers two, so that one batch forms while the other is in flight.
      maxRows: dialect === "sqlite" ? 100 : 1000,
      maxBytes: 4 * 1024 * 1024,
      maxInFlight: dialect === "sqlite" ? 1 : 2,
      boundStatement: options.boundStatement,
      carryTrace: options.carryTrace
    })
    return operationsOf(statements, inserts, options, batcher.insert)
  })

const operationsOf = <T extends CheckpointTable>(
  statements: CheckpointStatements<T>,
  inserts: CheckpointInserts,
  options: CheckpointTableOptions,
  batchInsert: (row: CheckpointRow) => Effect.Effect<string, SqlError | StorageConnectionError>
) => {
  const { sql, dialect, table, tableName, failed } = statements
  const retention = makeCheckpointRetention(statements)
  const pages = makeCheckpointPages(statements)
  const lineage = makeCheckpointLineage(statements)
  const statistics = makeCheckpointStatistics(statements)
  const imports = makeCheckpointImports(statements, inserts)
  const validateInput = decodeInput(table.input, table.inputName)
  const validateFilter = decodeInput(table.filter, `${table.name} filter`)
  const validateSelector = decodeInput(table.selector, `${table.name} selector`)
  const validateImports = decodeInput(Schema.Array(table.imported), `${table.importedName}[]`)

  const policy = options.retention ?? {}
  const rules = retention.rulesOf(policy)
  // The keys whose rows a store's retention counts: a column's value, or (undefined) the whole table.
  const keepLastColumns = rules.flatMap((rule) => (rule._tag === "KeepLast" ? [rule.column] : []))
  const hasRetention = rules.length > 0

  // --- Stores ------------------------------------------------------------------------------------------------------

  /** A validated checkpoint as the row to write: its state encoded once, here, and measured. */
  const rowOf = (
    checkpoint: Record<string, unknown>
  ): Either.Either<Record<string, unknown>, StateEncodeError | StateTooLargeError> => {
    const state = encodeState(checkpoint.state as object)
    if (Either.isLeft(state)) return Either.left(state.left)
    const sizeBytes = encodedStateBytes(state.right)
    if (options.maxStateBytes !== undefined && sizeBytes > options.maxStateBytes) {
      return Either.left(new StateTooLargeError({ sizeBytes, maxBytes: options.maxStateBytes }))
    }
    const row: Record<string, unknown> = { state: state.right, sizeBytes }
    for (const column of table.inputColumns) row[column] = checkpoint[column]
    row.parentId = checkpoint.parentId === undefined ? null : Number(checkpoint.parentId)
    return Either.right(row)
  }

  // Serializes the stores of one session (or agent, or of the table for a rule over all of it) while retention
  // prunes it, so that two concurrent stores cannot both keep the N-th row. PostgreSQL: an advisory lock until the
  // commit. MySQL: the key's rows and the index gap after them (for the table: its newest row, which every such
  // store locks first), locked until the commit. SQLite: nothing to do, the insert already holds the database's
  // write lock.
  const lockKey = sql.onDialectOrElse({
    pg: () => (column: string | undefined, value: string) =>
      Effect.asVoid(
        sql`SELECT pg_advisory_xact_lock(hashtext(${column === undefined ? table.name : `${table.name}.${column}=${value}`}))`
      ),
    mysql: () => (column: string | undefined, value: string) =>
      Effect.asVoid(
        column === undefined
          ? sql`SELECT ${sql("id")} FROM ${tableName} ORDER BY ${sql("id")} DESC LIMIT 1 FOR UPDATE`
          : sql`SELECT ${sql("id")} FROM ${tableName} WHERE ${sql(column)} = ${value} FOR UPDATE`
      ),
    orElse: () => (_column: string | undefined, _value: string) => Effect.void
  })

  // Two transactions locking keys can deadlock (MySQL gap locks); the database aborts one, which retries after a
  // short random pause so that two victims do not collide again at once. The pause is a real timer, not the Effect
  // Clock: a sleep on the Clock would hang callers that test with a TestClock.
  const isDeadlock = (error: unknown): boolean => {
    if (typeof error !== "object" || error === null || !("_tag" in error) || error._tag !== "SqlError") return false
    const { code } = classifyDriverError(dialect, (error as SqlError).cause)
    return code === "40P01" || code === "40001" || code === "ER_LOCK_DEADLOCK"
  }
  const retryDeadlocks = Schedule.recurs(30).pipe(
    Schedule.whileInput(isDeadlock),
    Schedule.tapInput(() =>
      Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 25))))
    )
  )

  /** A checkpoint with a parent, or under retention: the INSERT, the parent's check and the retention, atomically. */
  const storeInTransaction = (checkpoint: Record<string, unknown>, row: Record<string, unknown>) =>
    sql.withTransaction(Effect.gen(function*() {
      for (const column of keepLastColumns) {
        yield* lockKey(column, column === undefined ? "" : String(checkpoint[column]))
      }
      const id = yield* inserts.insertRow(row)
      if (row.parentId !== null) {
        const parent = yield* sql`SELECT ${sql("id")} FROM ${tableName} WHERE ${sql("id")} = ${row.parentId as number}`
        if (parent.length === 0) {
          return yield* new CheckpointNotFoundError({ table: table.name, id: String(row.parentId), role: "parent" })
        }
      }
      const scope = Object.fromEntries(
        keepLastColumns.flatMap((column) => column === undefined ? [] : [[column, checkpoint[column]]])
      )
      yield* retention.apply(policy, { batchSize: RETENTION_BATCH, scope, measure: false })
      return id
    })).pipe(Effect.retry(retryDeadlocks))

  // A plain store needs no transaction: one INSERT, coalesced with concurrent ones, is atomic by itself. Inside a
  // transaction of the caller's (`sql.withTransaction` around our calls) it must use that transaction's connection,
  // which the batcher's statements do not: it is written alone.
  const insertPlain = (row: Record<string, unknown>) =>
    Effect.flatMap(
      Effect.serviceOption(SqlClient.TransactionConnection),
      (transaction) => Option.isSome(transaction) ? inserts.insertRow(row) : batchInsert(row)
    )

  /** Validates, encodes and measures the checkpoint, then writes it; returns its id. Invalid input writes nothing. */
  const store = (operation: string, input: unknown): Effect.Effect<
    string,
    | CheckpointValidationError
    | StateEncodeError
    | StateTooLargeError
    | CheckpointNotFoundError
    | StorageConnectionError
    | StorageQueryError
  > =>
    Effect.flatMap(validateInput(input), (checkpoint: Record<string, unknown>) =>
      Effect.flatMap(rowOf(checkpoint), (row) =>
        statements.typed(operation)<string, SqlError | StorageConnectionError | CheckpointNotFoundError, never>(
          row.parentId === null && !hasRetention ? insertPlain(row) : storeInTransaction(checkpoint, row)
        )))

  // --- Reads -------------------------------------------------------------------------------------------------------

  const retrieveById = sql`SELECT ${statements.rowColumns} FROM ${tableName} WHERE ${sql("id")} = ${0}`.compile()[0]
  const firstStored = (operation: string) => (rows: ReadonlyArray<unknown>) =>
    Either.map(statements.toStored(operation)(rows), (stored) => Option.fromNullable(stored[0]))

  /** The checkpoint with this id, or None (also, without a statement, for ids that cannot exist). */
  const retrieve = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed(Option.none<StoredOf<T>>()),
      onSome: (rowId) =>
        Effect.flatMap(statements.run(operation, sql.unsafe(retrieveById, [rowId])), firstStored(operation))
    })

  /** The newest checkpoint matching the filter, or None. */
  const latest = (operation: string, filter: unknown) =>
    Effect.flatMap(filter === undefined ? Effect.succeed({}) : validateFilter(filter), (valid: FilterFields) =>
      Effect.flatMap(
        statements.run(
          operation,
          statements.compiledOnce(`latest:${statements.filterShape(valid)}`, statements.filterValues(valid), () =>
            sql`SELECT ${statements.rowColumns} FROM ${tableName} ${statements.where(statements.filterClauses(valid))} ${
              statements.newestFirst
            } ${statements.limitClause(1)}`)
        ),
        firstStored(operation)
      ))

  /** Every checkpoint, without its state, newest first. */
  const listAll = (operation: string) =>
    Effect.flatMap(
      statements.run(operation, sql`SELECT ${statements.listColumns} FROM ${tableName} ${statements.newestFirst}`),
      statements.toListItems(operation)
    )

  // --- Lifecycle ---------------------------------------------------------------------------------------------------

  const deleteById = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed(0),
      onSome: (rowId) =>
        statements.run(operation, statements.deleteCounting(sql`DELETE FROM ${tableName} WHERE ${sql("id")} = ${rowId}`))
    })

  const deleteWhere = (operation: string, selector: unknown) =>
    Effect.flatMap(validateSelector(selector), (valid: Record<string, unknown>) => {
      const clauses = table.selectorColumns.flatMap((column: string) =>
        valid[column] === undefined ? [] : [sql`${sql(column)} = ${valid[column] as string}`]
      )
      return statements.run(operation, statements.deleteCounting(sql`DELETE FROM ${tableName} ${statements.where(clauses)}`))
    })

  /** A new checkpoint continuing from `id`: a copy with the changes applied, `createdAt` now unless changed. */
  const fork = (operation: string, id: string, changes: object | undefined) =>
    Effect.gen(function*() {
      const source = yield* retrieve(operation, id)
      if (Option.isNone(source)) {
        return yield* new CheckpointNotFoundError({ table: table.name, id, role: "source" })
      }
      const copy: Record<string, unknown> = { state: source.value.state, createdAt: yield* Clock.currentTimeMillis }
      for (const column of table.inputColumns) if (column !== "createdAt") copy[column] = source.value[column]
      for (const [key, value] of Object.entries(changes ?? {})) if (value !== undefined) copy[key] = value
      copy.parentId = source.value.id
      return yield* store(operation, copy)
    })

  /** Imports checkpoints of `source` in one transaction: all of the batch or none, then the retention. */
  const importFrom = (operation: string, source: string, checkpoints: unknown) =>
    Effect.gen(function*() {
      const valid = yield* validateImports(checkpoints)
      const rows = []
      for (const entry of valid as ReadonlyArray<Record<string, unknown>>) {
        const row = rowOf(entry.checkpoint as Record<string, unknown>)
        if (Either.isLeft(row)) return yield* row.left
        rows.push({
          sourceId: Number(entry.sourceId),
          sourceParentId: entry.sourceParentId === undefined ? undefined : Number(entry.sourceParentId),
          row: row.right
        })
      }
      return yield* sql.withTransaction(Effect.tap(
        imports.write(source, rows),
        () => hasRetention ? retention.apply(policy, { batchSize: RETENTION_BATCH, measure: false }) : Effect.void
      )).pipe(Effect.mapError(failed(operation)))
    })

  /** Applies a policy to the whole table in batches, reporting the rows removed so far after each. */
  const prune = <E>(
    operation: string,
    prunePolicy: RetentionPolicy,
    pruneOptions: {
      readonly batchSize: number
      readonly atomicRules: boolean
      readonly onBatch: (deleted: number) => Effect.Effect<void, E>
    }
  ) => statements.typed(operation)(retention.apply(prunePolicy, pruneOptions))

  return {
    store,
    retrieve,
    latest,
    listAll,
    listPage: pages.listPage,
    stream: pages.stream,
    deleteById,
    deleteWhere,
    prune,
    planPrune: retention.plan,
    statistics: statistics.ofTable,
    sessionStatistics: statistics.perSession,
    lineage: lineage.ancestry,
    fork,
    importFrom,
    importPosition: imports.position
  }
}
