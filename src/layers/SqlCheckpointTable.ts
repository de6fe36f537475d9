/**
 * Every operation on one checkpoint table, written once over `SqlClient` and the table's description, for both
 * tables and all three dialects.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { parseCheckpointId } from "../internal/checkpointId.js"
import { type CursorPosition, decodeCursor, encodeCursor } from "../internal/cursor.js"
import { decodeInput, validateInputEither } from "../internal/decodeInput.js"
import { cannotWithdraw, type Withdraw } from "../internal/directCalls.js"
import { classifyDriverError } from "../internal/driverError.js"
import { encodeState } from "../internal/encodeState.js"
import { makeInsertBatcher } from "../internal/InsertBatcher.js"
import { type Deadline, operationTimedOut, within } from "../internal/deadline.js"
import { inClientTransaction, type PreparedStatements } from "../internal/preparedStatements.js"
import { refailSqlError } from "../internal/refailSqlError.js"
import type { CheckpointState } from "../schema/CheckpointFields.js"
import {
  type CheckpointPage,
  type CheckpointStreamOptions,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type RetentionPolicy,
  type TableStatistics
} from "../schema/CheckpointQuery.js"
import {
  CheckpointNotFoundError,
  CheckpointValidationError,
  type Dialect,
  StateDecodeError,
  type StateEncodeError,
  StateTooLargeError,
  type StorageConnectionError,
  StorageQueryError
} from "../services/CheckpointStorageError.js"
import { type CheckpointTable, NumberColumn } from "./CheckpointTables.js"

/**
 * What the storage's options say about every table.
 *
 * @since 0.1.0
 */
export interface CheckpointTableOptions {
  /** States whose JSON is larger than this many UTF-8 bytes are refused with StateTooLargeError. */
  readonly maxStateBytes?: number | undefined
  /** Applied in the transaction of every store. */
  readonly retention?: RetentionPolicy | undefined
  /** The bound of a store (see SqlCheckpointStorageOptions.operationTimeout); the other operations are bounded by
   * the service around them. */
  readonly operationTimeout?: Option.Option<Duration.Duration> | undefined
}

/**
 * Where a table's statements run.
 *
 * @since 0.1.0
 */
export interface CheckpointTableExecution {
  /** The hot statements, prepared by the driver when the layer owns it. */
  readonly prepared: PreparedStatements
  /** The storage's runtime, where coalesced INSERTs run. */
  readonly runtime: Runtime.Runtime<never>
}

/** The rows a filter may name, plus the createdAt range every filter has. */
interface FilterFields {
  readonly before?: number | undefined
  readonly after?: number | undefined
}

/** The statement of a page, and what its rows need to become the page (the cursor is tied to `query`). */
interface PagePlan {
  readonly text: string
  readonly params: ReadonlyArray<unknown>
  readonly limit: number
  readonly orderBy: "createdAt" | "id"
  readonly query: object
}

interface PageFields extends FilterFields {
  readonly orderBy?: "createdAt" | "id" | undefined
  readonly orderDir?: "ASC" | "DESC" | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
  readonly offset?: number | undefined
  readonly includeTotal?: boolean | undefined
}

// Synchronous, like the decoding around it: a row costs no fiber step of its own.
const parseState = (table: string, id: string, json: string): Either.Either<CheckpointState, StateDecodeError> => {
  let state: unknown
  try {
    state = JSON.parse(json)
  } catch (cause) {
    return Either.left(new StateDecodeError({ table, id, cause }))
  }
  return typeof state === "object" && state !== null && !Array.isArray(state)
    ? Either.right(state as CheckpointState)
    : Either.left(new StateDecodeError({ table, id, cause: new Error("the JSON is not an object") }))
}

// What a driver sent on directly gave for a read: its rows (an INSERT's header, never asked for here, is none).
const rowsOfResult = (result: unknown): ReadonlyArray<unknown> => (Array.isArray(result) ? result : [])

/** The largest multi-row INSERT whose compiled text is kept. */
const MAX_CACHED_INSERT_ROWS = 128

/** How many shapes of latest and page statements keep their compiled text. */
const MAX_CACHED_TEXTS = 256

// A BIGINT as the drivers return it (a number, decimal text from node-postgres, a bigint), as the tables' BigIntColumn
// Schema reads it; `undefined` for anything else.
const bigIntColumn = (value: unknown): number | undefined => {
  if (typeof value === "number") return value
  if (typeof value === "bigint") return Number(value)
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value)
    return Number.isNaN(n) ? undefined : n
  }
  return undefined
}

const invalid = (subject: string, path: string, message: string) =>
  new CheckpointValidationError({ subject, issues: [{ path, message }] })

/**
 * The operations of one table.
 *
 * @since 0.1.0
 */
export const makeCheckpointTable = <
  Input extends { readonly state: CheckpointState; readonly parentId?: string | undefined },
  ListRow extends { readonly id: string; readonly createdAt: number },
  Row extends ListRow & { readonly state: string },
  Filter extends FilterFields,
  ListOptions extends Filter & PageFields,
  Selector,
  ListRowEncoded,
  RowEncoded
>(
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  table: CheckpointTable<Input, ListRow, Row, Filter, ListOptions, Selector, ListRowEncoded, RowEncoded>,
  options: CheckpointTableOptions,
  execution: CheckpointTableExecution
) => {
  const { prepared } = execution
  type Stored = Omit<Row, "state"> & { readonly state: CheckpointState }

  const tableName = sql(table.name)
  const columnList = (columns: ReadonlyArray<string>) => sql.csv(columns.map((column) => sql`${sql(column)}`))
  const listColumns = columnList(table.listColumns)
  const rowColumns = columnList([...table.listColumns, "state"])
  // The hot paths (store, retrieve, latest, a page) decode synchronously: the same Schemas, without an Effect per step.
  const validateInput = validateInputEither(table.input, table.inputName)
  const validateFilter = validateInputEither(table.filter, `${table.name} filter`)
  const validateListOptions = validateInputEither(table.listOptions, `${table.name} list options`)
  const validateSelector = decodeInput(table.selector, `${table.name} selector`)
  const decodeRows = Schema.decodeUnknownEither(Schema.Array(table.row))
  const decodeListRows = Schema.decodeUnknownEither(Schema.Array(table.listRow))

  const failed = (operation: string) => (error: SqlError) => refailSqlError(dialect, operation)(error)
  // A row without the shape its table was created with (a NULL, a column of another type) was written or changed
  // outside this library.
  const unexpectedRow = (operation: string) => (cause: ParseResult.ParseError) =>
    new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause })

  // Rows are decoded once, on the way out, and the state is parsed from its JSON text. A row of the expected shape
  // is read column by column (readRows), exactly as the table's row Schema would read it, at a tenth of the cost;
  // anything else goes through the Schema, which says what is wrong.
  const textColumns = table.listColumns.filter((column) => column !== "id" && column !== "createdAt" && column !== "parentId")
  function readRows(rows: ReadonlyArray<unknown>, withState: true): Array<Row> | undefined
  function readRows(rows: ReadonlyArray<unknown>, withState: false): Array<ListRow> | undefined
  function readRows(rows: ReadonlyArray<unknown>, withState: boolean): Array<ListRow> | undefined {
    const read: Array<ListRow> = []
    for (const raw of rows) {
      if (typeof raw !== "object" || raw === null) return undefined
      const row = raw as Record<string, unknown>
      const id = bigIntColumn(row.id)
      const createdAt = bigIntColumn(row.createdAt)
      if (id === undefined || createdAt === undefined || (withState && typeof row.state !== "string")) return undefined
      const out: Record<string, unknown> = { id: String(id), createdAt }
      if (row.parentId !== null && row.parentId !== undefined) {
        const parentId = bigIntColumn(row.parentId)
        if (parentId === undefined) return undefined
        out.parentId = String(parentId)
      }
      for (const column of textColumns) {
        const value = row[column]
        if (typeof value !== "string") return undefined
        out[column] = value
      }
      if (withState) out.state = row.state
      read.push(out as unknown as ListRow)
    }
    return read
  }
  const toStored = (operation: string) => (rows: ReadonlyArray<unknown>): Either.Either<Array<Stored>, StorageQueryError | StateDecodeError> => {
    let decoded = readRows(rows, true)
    if (decoded === undefined) {
      const viaSchema = decodeRows(rows)
      if (Either.isLeft(viaSchema)) return Either.left(unexpectedRow(operation)(viaSchema.left))
      decoded = viaSchema.right as Array<Row>
    }
    // The rows are fresh objects (read here, or the decoder's output): each gets its parsed state in place.
    for (const row of decoded) {
      const state = parseState(table.name, row.id, row.state)
      if (Either.isLeft(state)) return Either.left(state.left)
      ;(row as { state: unknown }).state = state.right
    }
    return Either.right(decoded as unknown as Array<Stored>)
  }
  const toListItems = (operation: string) => (rows: ReadonlyArray<unknown>): Either.Either<ReadonlyArray<ListRow>, StorageQueryError> => {
    const read = readRows(rows, false)
    return read !== undefined ? Either.right(read) : Either.mapLeft(decodeListRows(rows), unexpectedRow(operation))
  }

  // --- SQL fragments ---------------------------------------------------------------------------------------------

  const filterClauses = (filter: FilterFields): Array<Statement.Fragment> => {
    const clauses: Array<Statement.Fragment> = []
    for (const column of table.filterColumns) {
      const value = (filter as Record<string, unknown>)[column]
      if (value !== undefined) clauses.push(sql`${sql(column)} = ${value as string}`)
    }
    if (filter.before !== undefined) clauses.push(sql`${sql("createdAt")} < ${filter.before}`)
    if (filter.after !== undefined) clauses.push(sql`${sql("createdAt")} > ${filter.after}`)
    return clauses
  }
  const where = (clauses: ReadonlyArray<Statement.Fragment>) =>
    clauses.length === 0 ? sql`` : sql`WHERE ${sql.and(clauses)}`
  const orderClause = (orderBy: "createdAt" | "id", orderDir: "ASC" | "DESC") => {
    const direction = sql.literal(orderDir)
    return orderBy === "id"
      ? sql`ORDER BY ${sql("id")} ${direction}`
      : sql`ORDER BY ${sql("createdAt")} ${direction}, ${sql("id")} ${direction}`
  }
  const newestFirst = orderClause("createdAt", "DESC")
  // Rows strictly after `position` in the list order: the keyset condition that replaces OFFSET.
  const afterPosition = (
    orderBy: "createdAt" | "id",
    orderDir: "ASC" | "DESC",
    position: { readonly sortValue: number; readonly id: number }
  ) => {
    const beyond = sql.literal(orderDir === "DESC" ? "<" : ">")
    // The leading bound on createdAt alone lets PostgreSQL start the index scan at the position: with the OR only,
    // it applied the condition as a filter and read every row before the position (50,000 rows for a page half-way
    // down a 100k-row table).
    const upTo = sql.literal(orderDir === "DESC" ? "<=" : ">=")
    return orderBy === "id"
      ? sql`${sql("id")} ${beyond} ${position.id}`
      : sql`${sql("createdAt")} ${upTo} ${position.sortValue} AND (${sql("createdAt")} ${beyond} ${position.sortValue} OR (${
        sql("createdAt")
      } = ${position.sortValue} AND ${sql("id")} ${beyond} ${position.id}))`
  }
  // LIMIT and OFFSET are validated integers, written as literals: mysql2 rejects them as bound parameters.
  const limitClause = (limit: number, offset: number | undefined) =>
    offset === undefined || offset === 0
      ? sql`LIMIT ${sql.literal(String(limit))}`
      : sql`LIMIT ${sql.literal(String(limit))} OFFSET ${sql.literal(String(offset))}`

  // How many rows a DELETE removed: MySQL reports it in the result header (it has no DELETE … RETURNING);
  // PostgreSQL and SQLite return the deleted ids.
  const deleteCounting = sql.onDialectOrElse({
    mysql: () => (statement: Statement.Statement<unknown>) =>
      Effect.map(statement.raw, (header) => Number((header as { readonly affectedRows?: number }).affectedRows ?? 0)),
    orElse: () => (statement: Statement.Statement<unknown>) =>
      Effect.map(sql`${statement} RETURNING ${sql("id")}`, (rows) => rows.length)
  })

  // MySQL has no INSERT … RETURNING (MariaDB only since 10.5): its driver reports the new id in the result header.
  const insertReturningId = sql.onDialectOrElse({
    mysql: () => (row: Record<string, unknown>) =>
      Effect.map(
        sql`INSERT INTO ${tableName} ${sql.insert(row)}`.raw,
        (header) => String((header as { readonly insertId: number | string }).insertId)
      ),
    orElse: () => (row: Record<string, unknown>) =>
      Effect.map(
        sql<{ readonly id: number | string | bigint }>`INSERT INTO ${tableName} ${sql.insert(row)} RETURNING ${sql("id")}`,
        (rows) => String(rows[0]!.id)
      )
  })

  // The INSERT of plain stores (no parentId), one statement text per number of rows, compiled once: their columns are
  // always these.
  const plainColumns = ["state", "sizeBytes", ...table.inputColumns]
  const plainPlaceholder = Object.fromEntries(plainColumns.map((column) => [column, 0]))
  // Only the texts of batches up to MAX_CACHED_INSERT_ROWS rows are kept: a text grows with its rows (about 70
  // bytes each), and keeping every size up to the batcher's 1000 would hold tens of MiB of SQL text.
  // SQLite on the layers' own client: a single-row INSERT goes without RETURNING, and its id is the connection's last
  // insert rowid, which the driver reports with the statement (run() rather than rows to read: 1.4 µs of a 30 µs
  // insert with better-sqlite3, interleaved). Other SQLite clients (layerSql) may report no rowid: RETURNING.
  const singleInsertByRowid = dialect === "sqlite" && prepared.reportsInsertRowid
  const plainInserts = new Map<number, string>()
  const plainInsert = (count: number): string => {
    const known = plainInserts.get(count)
    if (known !== undefined) return known
    const rows = Array.from({ length: count }, () => plainPlaceholder)
    const insert = sql`INSERT INTO ${tableName} ${sql.insert(rows)}`
    const returningIds = sql`${insert} RETURNING ${sql("id")}`
    const text = sql.onDialectOrElse({
      mysql: () => insert,
      orElse: () => count === 1 && singleInsertByRowid ? insert : returningIds
    }).compile()[0]
    if (count <= MAX_CACHED_INSERT_ROWS) plainInserts.set(count, text)
    return text
  }
  const plainValues = (rows: ReadonlyArray<Record<string, unknown>>) => {
    const values: Array<unknown> = []
    for (const row of rows) for (const column of plainColumns) values.push(row[column])
    return values
  }
  type InsertError = SqlError | StorageConnectionError
  // What a statement sent straight on the driver failed with (reads and inserts), as the operation's typed error (a
  // deadline's error is one already).
  const typedDriverError = (operation: string) => (error: InsertError): StorageConnectionError | StorageQueryError =>
    error._tag === "SqlError" ? failed(operation)(error) : error

  // --- Coalesced inserts ---------------------------------------------------------------------------------------
  //
  // Concurrent plain stores (no parentId, no retention) are written by one multi-row INSERT (see InsertBatcher).
  // A multi-row INSERT is one statement: all its rows are written or none. Which id each row got:
  //
  // - PostgreSQL: the ids come from the table's sequence, whose `nextval` is evaluated for each row of the VALUES
  //   list in list order and only ever increases (also across sessions), so the rows' ids increase in list order.
  //   RETURNING gives them back; sorting them ascending maps them to the rows without relying on the order of
  //   RETURNING itself.
  // - SQLite: the statement holds the database's write lock and AUTOINCREMENT gives each row, in VALUES order, one
  //   more than the largest id ever used: again increasing in list order, and the same sort maps them.
  // - MySQL/MariaDB: no RETURNING. The result header's insertId is LAST_INSERT_ID(), the id of the *first* row, and
  //   InnoDB gives the rows of one multi-row INSERT consecutive ids (step auto_increment_increment) when
  //   innodb_autoinc_lock_mode is 0 ("traditional") or 1 ("consecutive", the default of MariaDB and of MySQL
  //   before 8.0): a "simple insert" reserves all its values at once
  //   (https://dev.mysql.com/doc/refman/8.0/en/innodb-auto-increment-handling.html). In mode 2 ("interleaved") the
  //   manual promises that only for simple inserts, so this is not relied on: the rows are then written one by
  //   one. The mode is read once, when the first batch forms. affectedRows must equal the number of rows.
  //   test/Batching.test.ts stores concurrent batches and checks that every id retrieves its caller's checkpoint.
  //
  // What the driver reported for a plain INSERT of `count` rows, as their ids in the order of the rows; a string
  // when it is not what such an INSERT reports (a defect). MySQL's header needs the id step when `count` > 1.
  const idsOfReturning = (result: unknown, count: number): ReadonlyArray<string> | string => {
    const rows = Array.isArray(result) ? (result as ReadonlyArray<{ readonly id: number | string | bigint }>) : []
    if (rows.length !== count) return `a ${count}-row INSERT returned ${rows.length} ids`
    if (count === 1) return [String(rows[0]!.id)]
    const ids = rows.map((row) => BigInt(row.id))
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return ids.map(String)
  }
  const idsOfPlainInsert = sql.onDialectOrElse({
    mysql: () => (result: unknown, count: number, step: number): ReadonlyArray<string> | string => {
      const header = result as { readonly insertId: number | string; readonly affectedRows: number }
      if (Number(header.affectedRows) !== count) return `a ${count}-row INSERT reported ${header.affectedRows} rows`
      if (count === 1) return [String(header.insertId)]
      const first = BigInt(header.insertId)
      return Array.from({ length: count }, (_, index) => String(first + BigInt(index * step)))
    },
    // A single row by rowid (see singleInsertByRowid): what the driver's run() reports. The rowid of an INTEGER
    // PRIMARY KEY table is its id, and the connection's last one is this statement's: the statement runs
    // synchronously on the one connection, and a trigger's own inserts do not change it once the trigger is done.
    orElse: () => (result: unknown, count: number, _step: number): ReadonlyArray<string> | string => {
      if (count > 1 || !singleInsertByRowid) return idsOfReturning(result, count)
      const header = result as { readonly changes?: number; readonly lastInsertRowid?: number | bigint }
      return header.changes === 1 && header.lastInsertRowid !== undefined
        ? [String(header.lastInsertRowid)]
        : `a 1-row INSERT reported ${header.changes} changes`
    }
  })
  const idsOrDie = (ids: ReadonlyArray<string> | string) =>
    typeof ids === "string" ? Effect.dieMessage(ids) : Effect.succeed(ids)
  // What idsOfPlainInsert reads: MySQL's result header; with singleInsertByRowid run()'s result for one row, else
  // the RETURNING rows (that client's `raw` gives either); the RETURNING rows elsewhere (PostgreSQL's `raw` is the
  // driver's own result object).
  const runPlainInsert = sql.onDialectOrElse({
    mysql: () => prepared.raw,
    orElse: () => singleInsertByRowid ? prepared.raw : prepared.rows
  })
  const insertPlainRow = (row: Record<string, unknown>, deadline?: Deadline<InsertError>) =>
    Effect.flatMap(
      runPlainInsert(plainInsert(1), plainValues([row]), deadline),
      (result) => Effect.map(idsOrDie(idsOfPlainInsert(result, 1, 1)), (ids) => ids[0]!)
    )
  // undefined until read; null when the ids of a multi-row INSERT cannot be known (then rows go one by one). The
  // table must be InnoDB: the lock modes are InnoDB's, and only a transactional engine rolls back a multi-row INSERT
  // that fails half-way (MyISAM keeps the rows written before the failure, which the row-by-row retry would repeat).
  let mysqlIdStep: number | null | undefined
  // Bounded only when it reads the server (once): a known step costs a batch no deadline fiber.
  const readMysqlIdStep = (deadline: Deadline<InsertError> | undefined) =>
    Effect.suspend(() =>
      mysqlIdStep !== undefined
        ? Effect.succeed(mysqlIdStep)
        : within(deadline)(Effect.map(
          sql<{ readonly mode: unknown; readonly step: unknown; readonly engine: unknown }>`SELECT
@@innodb_autoinc_lock_mode AS ${sql("mode")}, @@auto_increment_increment AS ${sql("step")},
(SELECT ${sql("ENGINE")} FROM ${sql("information_schema.TABLES")}
 WHERE ${sql("TABLE_SCHEMA")} = DATABASE() AND ${sql("TABLE_NAME")} = ${table.name}) AS ${sql("engine")}`,
          (rows) => {
            const mode = Number(rows[0]?.mode)
            const step = Number(rows[0]?.step)
            const innodb = String(rows[0]?.engine).toLowerCase() === "innodb"
            mysqlIdStep = innodb && (mode === 0 || mode === 1) && Number.isSafeInteger(step) && step >= 1 ? step : null
            return mysqlIdStep
          }
        ))
    )
  // The id step of a multi-row INSERT: MySQL's, read once (null: the rows go one by one); 1 elsewhere (unused).
  // `knownIdStep` is the step without reading the server: undefined while MySQL's is not known (or cannot be).
  const idStep = sql.onDialectOrElse({
    mysql: () => readMysqlIdStep,
    orElse: () => (_deadline: Deadline<InsertError> | undefined) => Effect.succeed(1)
  })
  const knownIdStep = sql.onDialectOrElse({
    mysql: () => (count: number): number | undefined => count === 1 ? 1 : mysqlIdStep ?? undefined,
    orElse: () => (_count: number): number | undefined => 1
  })
  const insertManyReturningIds = (rows: ReadonlyArray<Record<string, unknown>>, deadline: Deadline<InsertError> | undefined) =>
    Effect.flatMap(idStep(deadline), (step) =>
      step === null ? Effect.succeed(undefined) : Effect.flatMap(
        runPlainInsert(plainInsert(rows.length), plainValues(rows), deadline),
        (result) => idsOrDie(idsOfPlainInsert(result, rows.length, step))
      ))
  // The same INSERT straight on the driver, outside any fiber, when the step is known (see InsertBatcher.insertNow).
  const insertNow = (
    rows: ReadonlyArray<Record<string, unknown>>,
    deadline: Deadline<InsertError> | undefined,
    done: (outcome: Exit.Exit<ReadonlyArray<string>, InsertError>) => void
  ): boolean => {
    const step = knownIdStep(rows.length)
    if (step === undefined) return false
    return prepared.sendNow(plainInsert(rows.length), plainValues(rows), deadline, (outcome) => {
      if (Either.isLeft(outcome)) return done(Exit.fail(outcome.left))
      const ids = idsOfPlainInsert(outcome.right, rows.length, step)
      done(typeof ids === "string" ? Exit.die(new Error(ids)) : Exit.succeed(ids))
    })
  }
  // Limits per statement: SQLite builds before 3.32 allow 999 bound parameters (8 per row here), PostgreSQL 65 535;
  // MariaDB refuses packets over max_allowed_packet (16 MiB by default). SQLite has one connection: one statement
  // at a time. The servers: two, so that one batch forms while the other is in flight.
  // A store bounds itself: a plain one by the batcher's deadline (no fiber of its own), the others with withDeadline.
  // One deadline per operation name (a handful), made once.
  const timeout = options.operationTimeout ?? Option.none()
  const deadlines = new Map<string, Deadline<StorageConnectionError>>()
  const deadlineOf = (operation: string): Deadline<StorageConnectionError> | undefined => {
    if (Option.isNone(timeout)) return undefined
    let deadline = deadlines.get(operation)
    if (deadline === undefined) {
      deadline = { millis: Duration.toMillis(timeout.value), onTimeout: operationTimedOut(dialect, operation, timeout.value) }
      deadlines.set(operation, deadline)
    }
    return deadline
  }
  const statementDeadline = deadlineOf(table.name === "AgentCheckpoints" ? "storeAgentCheckpoint" : "storeAppCheckpoint")
  const batchInsert = makeInsertBatcher<Record<string, unknown>, InsertError>({
    insertOne: insertPlainRow,
    insertMany: insertManyReturningIds,
    insertNow: (rows, done) => insertNow(rows, statementDeadline, done),
    sizeOf: (row) => (row.sizeBytes as number) + 256,
    maxRows: dialect === "sqlite" ? 100 : 1000,
    maxBytes: 4 * 1024 * 1024,
    maxInFlight: dialect === "sqlite" ? 1 : 2,
    // Not after a timeout either (StorageConnectionError): the statement may still commit.
    retryRowByRow: (error) =>
      error._tag === "SqlError" && !classifyDriverError(dialect, error.cause ?? error).isConnectionFailure,
    runtime: execution.runtime,
    statementDeadline
  })
  // A store inside the caller's own transaction (sql.withTransaction around our calls) must use that transaction's
  // connection: it is not batched.
  const insertPlain = (operation: string, row: Record<string, unknown>) =>
    Effect.withFiberRuntime<string, SqlError | StorageConnectionError>((fiber) => {
      if (inClientTransaction(fiber.currentContext)) {
        return insertPlainRow(row, deadlineOf(operation))
      }
      return batchInsert(row, deadlineOf(operation))
    })

  // Serializes the stores of one session (or agent) while retention prunes it, so that two concurrent stores cannot
  // both keep the N-th row. PostgreSQL: an advisory lock until the commit. MySQL: the key's rows and the index gap
  // after them, locked until the commit. SQLite: nothing to do, the insert already holds the database's write lock.
  const lockKey = sql.onDialectOrElse({
    pg: () => (column: string, value: string) =>
      Effect.asVoid(sql`SELECT pg_advisory_xact_lock(hashtext(${`${table.name}.${column}=${value}`}))`),
    mysql: () => (column: string, value: string) =>
      Effect.asVoid(sql`SELECT ${sql("id")} FROM ${tableName} WHERE ${sql(column)} = ${value} FOR UPDATE`),
    orElse: () => (_column: string, _value: string) => Effect.void
  })

  // Two transactions locking keys can deadlock (MySQL gap locks); the database aborts one of them, which retries
  // after a short random pause, so that two victims do not collide again at once. The pause is a real timer, not the
  // Effect Clock: a sleep on the Clock would hang callers that test with a TestClock.
  const pauseBeforeRetry = Effect.promise(() =>
    new Promise<void>((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 25)))
  )
  const retryDeadlocks = Schedule.recurs(30).pipe(
    Schedule.whileInput((error: unknown) => isDeadlock(error)),
    Schedule.tapInput(() => pauseBeforeRetry)
  )
  const isDeadlock = (error: SqlError | unknown): boolean => {
    if (typeof error !== "object" || error === null || !("_tag" in error) || error._tag !== "SqlError") return false
    const { code } = classifyDriverError(dialect, (error as SqlError).cause)
    return code === "40P01" || code === "40001" || code === "ER_LOCK_DEADLOCK"
  }

  // --- Retention -------------------------------------------------------------------------------------------------

  const retention = options.retention ?? {}
  const keepLastRules = table.keepLastRules.flatMap(([rule, column]) => {
    const keep = retention[rule]
    return keep === undefined ? [] : [[column, keep] as const]
  })
  const maxAgeMillis = retention.maxAge === undefined ? undefined : Duration.toMillis(retention.maxAge)
  const hasRetention = keepLastRules.length > 0 || maxAgeMillis !== undefined

  // Keeps the newest `keep` rows whose `column` is `value`: finds the keep-th newest, deletes what is older.
  const keepNewest = (column: string, value: string, keep: number) =>
    Effect.flatMap(
      sql<{ readonly createdAt: unknown; readonly id: unknown }>`SELECT ${sql("createdAt")}, ${sql("id")} FROM ${tableName}
WHERE ${sql(column)} = ${value} ${newestFirst} ${limitClause(1, keep - 1)}`,
      (rows) => {
        const boundary = rows[0]
        if (boundary === undefined) return Effect.succeed(0)
        const position = { sortValue: Number(boundary.createdAt), id: Number(boundary.id) }
        return deleteCounting(
          sql`DELETE FROM ${tableName} WHERE ${sql(column)} = ${value} AND ${afterPosition("createdAt", "DESC", position)}`
        )
      }
    )

  const deleteOlderThan = (maxAge: number) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      deleteCounting(sql`DELETE FROM ${tableName} WHERE ${sql("createdAt")} < ${now - maxAge}`))

  // --- Operations ------------------------------------------------------------------------------------------------

  // Everything a store checks before anything is written, synchronously: the input's Schema, the state's JSON and
  // its size. The state is encoded once, here; nothing parses it back.
  const prepareRow = (input: Input): Either.Either<
    { readonly checkpoint: Input; readonly row: Record<string, unknown> },
    CheckpointValidationError | StateEncodeError | StateTooLargeError
  > => {
    const valid = validateInput(input)
    if (Either.isLeft(valid)) return Either.left(valid.left)
    const checkpoint = valid.right
    const state = encodeState(checkpoint.state)
    if (Either.isLeft(state)) return Either.left(state.left)
    const sizeBytes = Buffer.byteLength(state.right, "utf8")
    if (options.maxStateBytes !== undefined && sizeBytes > options.maxStateBytes) {
      return Either.left(new StateTooLargeError({ sizeBytes, maxBytes: options.maxStateBytes }))
    }
    const row: Record<string, unknown> = { state: state.right, sizeBytes }
    for (const column of table.inputColumns) row[column] = checkpoint[column]
    if (checkpoint.parentId !== undefined) row.parentId = Number(checkpoint.parentId)
    return Either.right({ checkpoint, row })
  }

  const store = (operation: string, input: Input) =>
    Effect.flatMap(Effect.suspend(() => prepareRow(input)), ({ checkpoint, row }) => {
      const parentId = checkpoint.parentId
      // A plain store needs no transaction: one INSERT (coalesced with concurrent ones) is atomic by itself.
      if (parentId === undefined && !hasRetention) {
        return Effect.catchTag(insertPlain(operation, row), "SqlError", (error) => Effect.fail(failed(operation)(error)))
      }
      const insert = insertReturningId(row)
      const transaction = sql.withTransaction(Effect.gen(function*() {
        for (const [column] of keepLastRules) yield* lockKey(column, String(checkpoint[column]))
        const id = yield* insert
        if (parentId !== undefined) {
          const parent = yield* sql`SELECT ${sql("id")} FROM ${tableName} WHERE ${sql("id")} = ${Number(parentId)}`
          if (parent.length === 0) {
            return yield* new CheckpointNotFoundError({ table: table.name, id: parentId, role: "parent" })
          }
        }
        for (const [column, keep] of keepLastRules) yield* keepNewest(column, String(checkpoint[column]), keep)
        if (maxAgeMillis !== undefined) yield* deleteOlderThan(maxAgeMillis)
        return id
      })).pipe(
        Effect.retry(retryDeadlocks),
        Effect.catchTag("SqlError", (error) => Effect.fail(failed(operation)(error)))
      )
      return within(deadlineOf(operation))(transaction)
    })

  // The statements of the hot paths are compiled once (the identifiers quoted, the placeholders of the dialect) and
  // run with `sql.unsafe(text, params)`: the same SQL and bound parameters, without building and compiling a
  // template per call.
  const retrieveById = sql`SELECT ${rowColumns} FROM ${tableName} WHERE ${sql("id")} = ${0}`.compile()[0]
  // The rows of one such statement, its driver error typed as the operation's.
  const statementRows = (
    operation: string,
    text: string,
    params: ReadonlyArray<unknown>,
    deadline?: Deadline<StorageConnectionError>
  ) =>
    prepared.rows(text, params, deadline).pipe(
      Effect.catchTag("SqlError", (error) => Effect.fail(failed(operation)(error)))
    )
  // The checkpoint of a read of one row (retrieve, latest), if there is one.
  const firstStored = (operation: string) => (rows: ReadonlyArray<unknown>) =>
    Either.map(toStored(operation)(rows), (stored) => Option.fromNullable(stored[0]))
  const retrieve = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed(Option.none<Stored>()),
      onSome: (rowId) =>
        Effect.flatMap(statementRows(operation, retrieveById, [rowId], deadlineOf(operation)), firstStored(operation))
    })

  // The statements of latest and of a page depend only on the shape of the request (which filter fields are given,
  // the order, the limit, whether a cursor is): each text is compiled once per shape, and its parameters are then the
  // given values in the order filterClauses (and afterPosition) write them. Kept only if the compiled parameters are
  // those values in that order, and for at most MAX_CACHED_TEXTS shapes (offsets are literals: a shape each).
  const compiledTexts = new Map<string, string>()
  const compiledOnce = (
    shape: string,
    values: ReadonlyArray<unknown>,
    build: () => Statement.Statement<unknown>
  ): readonly [string, ReadonlyArray<unknown>] => {
    const known = compiledTexts.get(shape)
    if (known !== undefined) return [known, values]
    const [text, params] = build().compile()
    if (
      compiledTexts.size < MAX_CACHED_TEXTS && params.length === values.length &&
      params.every((param, index) => param === values[index])
    ) {
      compiledTexts.set(shape, text)
    }
    return [text, params]
  }
  const filterValues = (filter: FilterFields): Array<unknown> => {
    const values: Array<unknown> = []
    for (const column of table.filterColumns) {
      const value = (filter as Record<string, unknown>)[column]
      if (value !== undefined) values.push(value)
    }
    if (filter.before !== undefined) values.push(filter.before)
    if (filter.after !== undefined) values.push(filter.after)
    return values
  }
  // Every field of a filter, in the order of a shape and of a cursor's query.
  const filterKeys = [...table.filterColumns, "before", "after"]
  const filterShape = (filter: FilterFields): string =>
    filterKeys
      .map((key) => ((filter as Record<string, unknown>)[key] === undefined ? "0" : "1"))
      .join("")
  const latestStatement = (filter: FilterFields) =>
    compiledOnce(`latest:${filterShape(filter)}`, filterValues(filter), () =>
      sql`SELECT ${rowColumns} FROM ${tableName} ${where(filterClauses(filter))} ${newestFirst} ${limitClause(1, undefined)}`)

  const latest = (operation: string, filter: Filter | undefined) =>
    Effect.flatMap(filter === undefined ? Either.right({} as FilterFields) : validateFilter(filter), (valid) => {
      const [text, params] = latestStatement(valid)
      return Effect.flatMap(statementRows(operation, text, params, deadlineOf(operation)), firstStored(operation))
    })

  // --- The hot operations as callbacks (internal/directCalls.ts: the service and the Promise facade) -------------
  //
  // store, retrieve, latest and a page as callbacks: the same checks, statements and decoding, sent from the caller's
  // stack and answered from the driver's callback (at once on SQLite reads). Why: a fiber started and ended per call
  // (what running the Effect from a Promise costs) was 12–20 µs of a 90–130 µs read by id on PostgreSQL, and 4 µs of
  // a 20 µs one on SQLite; the Effect steps around each call, 4.5 µs of a 21 µs SQLite read (interleaved rounds).
  // Each returns false, having done nothing, when the operation needs its Effect: a store with a parent or retention
  // (a transaction), or a statement the driver cannot take now (no driver of the storage's own, the SQLite connection
  // held by a transaction); the caller then runs the Effect. There is no transaction of the caller's to join here,
  // and no defect to map: the driver's errors come as failures.
  type ReadError = StorageConnectionError | StorageQueryError | StateDecodeError
  // An answer known before any statement (an id that names no row, invalid input): given at once, nothing to take back.
  const answeredNow = <A, E>(done: (outcome: Exit.Exit<A, E>) => void, outcome: Exit.Exit<A, E>): Withdraw => {
    done(outcome)
    return cannotWithdraw
  }
  // One read statement sent on the driver, its rows made into the answer by `toAnswer`.
  const readNow = <A, E>(
    operation: string,
    text: string,
    params: ReadonlyArray<unknown>,
    toAnswer: (rows: ReadonlyArray<unknown>) => Either.Either<A, E>,
    done: (outcome: Exit.Exit<A, NoInfer<E> | StorageConnectionError | StorageQueryError>) => void,
    firstRowOnly = false
  ): Withdraw | false =>
    prepared.sendNow(text, params, deadlineOf(operation), (outcome) => {
      if (Either.isLeft(outcome)) return done(Exit.fail(typedDriverError(operation)(outcome.left)))
      const read = toAnswer(rowsOfResult(outcome.right))
      done(Either.isRight(read) ? Exit.succeed(read.right) : Exit.fail(read.left))
    }, firstRowOnly) && cannotWithdraw
  const retrieveNow = (
    operation: string,
    id: string,
    done: (outcome: Exit.Exit<Option.Option<Stored>, ReadError>) => void
  ): Withdraw | false => {
    const rowId = parseCheckpointId(id)
    if (Option.isNone(rowId)) return answeredNow(done, Exit.succeed(Option.none()))
    return readNow(operation, retrieveById, [rowId.value], firstStored(operation), done, true)
  }
  const latestNow = (
    operation: string,
    filter: Filter | undefined,
    done: (outcome: Exit.Exit<Option.Option<Stored>, ReadError | CheckpointValidationError>) => void
  ): Withdraw | false => {
    const valid = filter === undefined ? Either.right({} as FilterFields) : validateFilter(filter)
    if (Either.isLeft(valid)) return answeredNow(done, Exit.fail(valid.left))
    const [text, params] = latestStatement(valid.right)
    return readNow(operation, text, params, firstStored(operation), done, true)
  }
  // A page: one statement, as latest; with a total, the count goes at the same time (on a pool, on a connection of
  // its own: one round trip instead of two).
  const pageNow = (
    operation: string,
    options: ListOptions,
    done: (outcome: Exit.Exit<CheckpointPage<ListRow>, StorageConnectionError | StorageQueryError | CheckpointValidationError>) => void
  ): Withdraw | false => {
    const valid = validateListOptions(options)
    if (Either.isLeft(valid)) return answeredNow(done, Exit.fail(valid.left))
    const page = valid.right
    const plan = planPage(page, false)
    if (Either.isLeft(plan)) return answeredNow(done, Exit.fail(plan.left))
    const toItems = toListItems(operation)
    const toPage = (rows: ReadonlyArray<unknown>) => pageOf(plan.right, rows, toItems)
    if (page.includeTotal !== true) return readNow(operation, plan.right.text, plan.right.params, toPage, done)
    const typed = typedDriverError(operation)
    const statement = [plan.right.text, plan.right.params] as const
    return prepared.sendBothNow(statement, countStatement(page), deadlineOf(operation), (outcome, counted) => {
      if (Either.isLeft(outcome)) return done(Exit.fail(typed(outcome.left)))
      if (Either.isLeft(counted)) return done(Exit.fail(typed(counted.left)))
      const read = toPage(rowsOfResult(outcome.right))
      done(Either.isRight(read) ? Exit.succeed(withTotal(read.right, rowsOfResult(counted.right))) : Exit.fail(read.left))
    }) && cannotWithdraw
  }
  const storeNow = (
    operation: string,
    input: Input,
    done: (
      outcome: Exit.Exit<
        string,
        CheckpointValidationError | StateEncodeError | StateTooLargeError | StorageConnectionError | StorageQueryError
      >
    ) => void
  ): Withdraw | false => {
    if (hasRetention) return false
    const ready = prepareRow(input)
    if (Either.isLeft(ready)) return answeredNow(done, Exit.fail(ready.left))
    // A parent means the transaction of `store` (which validates the input again: a store with a parent is no hot
    // path, and the input may be anything until validated).
    if (ready.right.checkpoint.parentId !== undefined) return false
    return batchInsert.submit(ready.right.row, deadlineOf(operation), (outcome) =>
      done(Exit.mapError(outcome, typedDriverError(operation))))
  }

  const listAll = (operation: string) =>
    sql`SELECT ${listColumns} FROM ${tableName} ${newestFirst}`.pipe(
      Effect.mapError(failed(operation)),
      Effect.flatMap(toListItems(operation))
    )

  // How many rows match a page's filter (includeTotal), compiled once per filter shape as latest is.
  const countStatement = (filter: FilterFields) =>
    compiledOnce(`count:${filterShape(filter)}`, filterValues(filter), () =>
      sql`SELECT COUNT(*) AS n FROM ${tableName} ${where(filterClauses(filter))}`)
  // A page with the total its COUNT(*) rows give: a number, or the decimal text of a BIGINT (node-postgres).
  const withTotal = <A>(page: CheckpointPage<A>, countRows: ReadonlyArray<unknown>): CheckpointPage<A> => ({
    ...page,
    total: Option.some(Number((countRows[0] as { readonly n?: unknown } | undefined)?.n ?? 0))
  })

  // A page is read in two synchronous halves around its one statement, shared by the page's Effect (readPage) and its
  // direct call (pageNow): the statement of the (validated) options, then the page of the rows it returned. Why not
  // one Effect.gen: its steps (the generator, the options' Schema decoder, a flatMap per yield) were most of what a
  // page cost above the raw driver's same query (50 rows on PostgreSQL: 486 µs of CPU per page against 329).
  const planPage = (page: ListOptions, withState: boolean): Either.Either<PagePlan, CheckpointValidationError> => {
    const subject = `${table.name} list options`
    const orderBy = page.orderBy ?? "createdAt"
    const orderDir = page.orderDir ?? "DESC"
    const limit = page.limit ?? DEFAULT_PAGE_SIZE
    if (page.cursor !== undefined && page.offset !== undefined) {
      return Either.left(invalid(subject, "cursor", "cannot be combined with offset"))
    }
    // What a cursor is tied to: the filter (every key, null when absent, in this order) and the order.
    const filter: Record<string, unknown> = {}
    for (const key of filterKeys) filter[key] = (page as Record<string, unknown>)[key] ?? null
    const query = { filter, orderBy, orderDir }
    let position: CursorPosition | undefined
    if (page.cursor !== undefined) {
      const decoded = decodeCursor(query, page.cursor)
      if (Either.isLeft(decoded)) return Either.left(invalid(subject, "cursor", decoded.left))
      position = decoded.right
    }
    const values = filterValues(page)
    if (position !== undefined) {
      if (orderBy === "id") values.push(position.id)
      else values.push(position.sortValue, position.sortValue, position.sortValue, position.id)
    }
    const shape = `page:${withState ? "rows" : "items"}:${filterShape(page)}:${orderBy}:${orderDir}:${limit}:${
      page.offset ?? 0
    }:${position === undefined ? "first" : "after"}`
    const [text, params] = compiledOnce(shape, values, () => {
      const clauses = filterClauses(page)
      if (position !== undefined) clauses.push(afterPosition(orderBy, orderDir, position))
      return sql`SELECT ${withState ? rowColumns : listColumns} FROM ${tableName} ${where(clauses)} ${
        orderClause(orderBy, orderDir)
      } ${limitClause(limit + 1, page.offset)}`
    })
    return Either.right({ text, params, limit, orderBy, query })
  }
  // The statement asks for one row more than the page holds: its presence says there is a next page.
  const pageOf = <A extends { readonly id: string; readonly createdAt: number }, E>(
    plan: PagePlan,
    rows: ReadonlyArray<unknown>,
    toItems: (rows: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, E>
  ): Either.Either<CheckpointPage<A>, E> => {
    const more = rows.length > plan.limit
    return Either.map(toItems(more ? rows.slice(0, plan.limit) : rows), (items) => {
      const last = items.at(-1)
      const nextCursor = more && last !== undefined
        ? Option.some(encodeCursor(plan.query, {
          sortValue: plan.orderBy === "id" ? Number(last.id) : last.createdAt,
          id: Number(last.id)
        }))
        : Option.none<string>()
      return { items, nextCursor, total: Option.none<number>() }
    })
  }

  /** One page: list items, or full rows (`withState`, when streaming with their state). Bounded by `deadline` when
   * given one (the page's statement; the count of includeTotal is not). */
  const readPage = <A extends { readonly id: string; readonly createdAt: number }, E>(
    operation: string,
    page: ListOptions,
    withState: boolean,
    toItems: (rows: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, E>,
    deadline?: Deadline<StorageConnectionError> | undefined
  ) =>
    Effect.flatMap(planPage(page, withState), (plan) => {
      const read = Effect.flatMap(
        statementRows(operation, plan.text, plan.params, deadline),
        (rows) => pageOf(plan, rows, toItems)
      )
      if (page.includeTotal !== true) return read
      const [countText, countParams] = countStatement(page)
      return Effect.flatMap(read, (found) =>
        Effect.map(statementRows(operation, countText, countParams), (rows) => withTotal(found, rows)))
    })

  // A page bounds itself: its one statement carries the deadline; with a total (two statements), both together.
  const listPage = (operation: string, options: ListOptions) =>
    Effect.flatMap(validateListOptions(options), (page) =>
      page.includeTotal === true
        ? within(deadlineOf(operation))(readPage(operation, page, false, toListItems(operation)))
        : readPage(operation, page, false, toListItems(operation), deadlineOf(operation)))

  const streamPages = <A extends { readonly id: string; readonly createdAt: number }, E>(
    operation: string,
    options: (Filter & CheckpointStreamOptions) | undefined,
    withState: boolean,
    toItems: (rows: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, E>
  ) => {
    const { includeState: _, pageSize, ...rest } = options ?? ({} as Filter & CheckpointStreamOptions)
    const pageOptions = { ...rest, limit: pageSize ?? Math.min(1000, MAX_PAGE_SIZE) } as unknown as ListOptions
    return Stream.unwrap(Effect.map(validateListOptions(pageOptions), (first) =>
      Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
        Effect.map(
          readPage(operation, cursor === undefined ? first : { ...first, cursor }, withState, toItems),
          (page) => [Chunk.fromIterable(page.items), page.nextCursor.pipe(Option.map((next) => next as string | undefined))] as const
        ))))
  }

  const stream = (operation: string, options: (Filter & CheckpointStreamOptions) | undefined) =>
    options?.includeState === true
      ? streamPages(operation, options, true, toStored(operation))
      : streamPages(operation, options, false, toListItems(operation))

  const deleteById = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed(0),
      onSome: (rowId) =>
        Effect.mapError(deleteCounting(sql`DELETE FROM ${tableName} WHERE ${sql("id")} = ${rowId}`), failed(operation))
    })

  const deleteWhere = (operation: string, selector: Selector) =>
    Effect.flatMap(validateSelector(selector), (valid) => {
      const clauses = table.selectorColumns.flatMap((column) => {
        const value = (valid as Record<string, unknown>)[column]
        return value === undefined ? [] : [sql`${sql(column)} = ${value as string}`]
      })
      return Effect.mapError(deleteCounting(sql`DELETE FROM ${tableName} ${where(clauses)}`), failed(operation))
    })

  // Retention over the whole table at once: number each key's rows newest first, delete those past the limit.
  // The ranked rows sit in a derived table so that MySQL accepts deleting from the table it reads.
  const prune = (policy: RetentionPolicy) =>
    Effect.gen(function*() {
      let removed = 0
      for (const [rule, column] of table.keepLastRules) {
        const keep = policy[rule]
        if (keep === undefined) continue
        removed += yield* deleteCounting(sql`DELETE FROM ${tableName} WHERE ${sql("id")} IN (
  SELECT ${sql("id")} FROM (
    SELECT ${sql("id")}, ROW_NUMBER() OVER (PARTITION BY ${sql(column)} ${newestFirst}) AS ${sql("position")}
    FROM ${tableName}
  ) ${sql("ranked")} WHERE ${sql("position")} > ${keep}
)`)
      }
      if (policy.maxAge !== undefined) removed += yield* deleteOlderThan(Duration.toMillis(policy.maxAge))
      return removed
    }).pipe(Effect.mapError(failed("prune")))

  const statistics = (operation: string) =>
    sql<Record<string, unknown>>`SELECT COUNT(*) AS ${sql("count")}, SUM(${sql("sizeBytes")}) AS ${sql("totalBytes")},
MAX(${sql("sizeBytes")}) AS ${sql("largestBytes")}, MIN(${sql("createdAt")}) AS ${sql("oldest")},
MAX(${sql("createdAt")}) AS ${sql("newest")} FROM ${tableName}`.pipe(
      Effect.mapError(failed(operation)),
      Effect.flatMap((rows) =>
        Effect.mapError(
          Schema.decodeUnknown(StatisticsRow)(rows[0]),
          unexpectedRow(operation)
        )
      ),
      Effect.map((row): TableStatistics => ({
        count: row.count,
        totalBytes: Option.getOrElse(row.totalBytes, () => 0),
        largestBytes: Option.getOrElse(row.largestBytes, () => 0),
        oldestCreatedAt: row.oldest,
        newestCreatedAt: row.newest
      }))
    )

  // Walks parentId back to the root with a recursive query. MySQL stops at cte_max_recursion_depth (1000 by default).
  const lineage = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed([] as ReadonlyArray<ListRow>),
      onSome: (rowId) => {
        const qualified = sql.csv(table.listColumns.map((column) => sql`${sql(`${table.name}.${column}`)}`))
        return sql`WITH RECURSIVE ${sql("lineage")} (${sql("id")}, ${sql("parentId")}, ${sql("depth")}) AS (
  SELECT ${sql("id")}, ${sql("parentId")}, 0 FROM ${tableName} WHERE ${sql("id")} = ${rowId}
  UNION ALL
  SELECT ${sql("child.id")}, ${sql("child.parentId")}, ${sql("lineage.depth")} + 1
  FROM ${tableName} ${sql("child")} JOIN ${sql("lineage")} ON ${sql("child.id")} = ${sql("lineage.parentId")}
)
SELECT ${qualified} FROM ${sql("lineage")} JOIN ${tableName} ON ${sql(`${table.name}.id`)} = ${sql("lineage.id")}
ORDER BY ${sql("lineage.depth")}`.pipe(
          Effect.mapError(failed(operation)),
          Effect.flatMap(toListItems(operation))
        )
      }
    })

  const fork = (operation: string, id: string, changes: { readonly [K in keyof Input]?: Input[K] | undefined } | undefined) =>
    Effect.gen(function*() {
      const source = yield* retrieve(operation, id)
      if (Option.isNone(source)) {
        return yield* new CheckpointNotFoundError({ table: table.name, id, role: "source" })
      }
      const now = yield* Clock.currentTimeMillis
      const copy: Record<string, unknown> = { state: source.value.state, createdAt: now }
      for (const column of table.inputColumns) {
        if (column !== "createdAt") copy[column] = (source.value as Record<string, unknown>)[column]
      }
      for (const [key, value] of Object.entries(changes ?? {})) if (value !== undefined) copy[key] = value
      copy.parentId = source.value.id
      return yield* store(operation, copy as Input)
    })

  return {
    store,
    retrieve,
    latest,
    storeNow,
    retrieveNow,
    latestNow,
    pageNow,
    listAll,
    listPage,
    stream,
    deleteById,
    deleteWhere,
    prune,
    statistics,
    lineage,
    fork
  }
}

const StatisticsRow = Schema.Struct({
  count: NumberColumn,
  totalBytes: Schema.OptionFromNullOr(NumberColumn),
  largestBytes: Schema.OptionFromNullOr(NumberColumn),
  oldest: Schema.OptionFromNullOr(NumberColumn),
  newest: Schema.OptionFromNullOr(NumberColumn)
})
