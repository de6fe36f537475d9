/**
 * Every operation on one checkpoint table, written once over `SqlClient` and the table's description, for both
 * tables and all three dialects.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { parseCheckpointId } from "../internal/checkpointId.js"
import { decodeCursor, encodeCursor } from "../internal/cursor.js"
import { decodeInput } from "../internal/decodeInput.js"
import { classifyDriverError } from "../internal/driverError.js"
import { encodeState } from "../internal/encodeState.js"
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
  StateTooLargeError,
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
}

/** The rows a filter may name, plus the createdAt range every filter has. */
interface FilterFields {
  readonly before?: number | undefined
  readonly after?: number | undefined
}

interface PageFields extends FilterFields {
  readonly orderBy?: "createdAt" | "id" | undefined
  readonly orderDir?: "ASC" | "DESC" | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
  readonly offset?: number | undefined
  readonly includeTotal?: boolean | undefined
}

const parseState = (table: string, id: string, json: string): Effect.Effect<CheckpointState, StateDecodeError> =>
  Effect.suspend(() => {
    let state: unknown
    try {
      state = JSON.parse(json)
    } catch (cause) {
      return Effect.fail(new StateDecodeError({ table, id, cause }))
    }
    return typeof state === "object" && state !== null && !Array.isArray(state)
      ? Effect.succeed(state as CheckpointState)
      : Effect.fail(new StateDecodeError({ table, id, cause: new Error("the JSON is not an object") }))
  })

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
  options: CheckpointTableOptions
) => {
  type Stored = Omit<Row, "state"> & { readonly state: CheckpointState }

  const tableName = sql(table.name)
  const columnList = (columns: ReadonlyArray<string>) => sql.csv(columns.map((column) => sql`${sql(column)}`))
  const listColumns = columnList(table.listColumns)
  const rowColumns = columnList([...table.listColumns, "state"])
  const validateInput = decodeInput(table.input, table.inputName)
  const validateFilter = decodeInput(table.filter, `${table.name} filter`)
  const validateListOptions = decodeInput(table.listOptions, `${table.name} list options`)
  const validateSelector = decodeInput(table.selector, `${table.name} selector`)
  const decodeRows = Schema.decodeUnknown(Schema.Array(table.row))
  const decodeListRows = Schema.decodeUnknown(Schema.Array(table.listRow))

  const failed = (operation: string) => (error: SqlError) => refailSqlError(dialect, operation)(error)
  // A row without the shape its table was created with (a NULL, a column of another type) was written or changed
  // outside this library.
  const unexpectedRow = (operation: string) => (cause: ParseResult.ParseError) =>
    new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause })

  const toStored = (operation: string) => (rows: ReadonlyArray<unknown>) =>
    decodeRows(rows).pipe(
      Effect.mapError(unexpectedRow(operation)),
      Effect.flatMap((decoded) =>
        Effect.forEach(decoded, (row): Effect.Effect<Stored, StateDecodeError> =>
          Effect.map(parseState(table.name, row.id, row.state), (state) => ({ ...row, state })))
      )
    )
  const toListItems = (operation: string) => (rows: ReadonlyArray<unknown>) =>
    Effect.mapError(decodeListRows(rows), unexpectedRow(operation))

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
    return orderBy === "id"
      ? sql`${sql("id")} ${beyond} ${position.id}`
      : sql`(${sql("createdAt")} ${beyond} ${position.sortValue} OR (${sql("createdAt")} = ${position.sortValue} AND ${
        sql("id")
      } ${beyond} ${position.id}))`
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

  // Two transactions locking keys can deadlock (MySQL gap locks); the database aborts one of them, which retries at
  // once (the other has its locks by then). No delay: a sleep would hang callers that test with a TestClock.
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

  const store = (operation: string, input: Input) =>
    Effect.gen(function*() {
      const checkpoint = yield* validateInput(input)
      const state = yield* encodeState(checkpoint.state)
      const sizeBytes = Buffer.byteLength(state, "utf8")
      if (options.maxStateBytes !== undefined && sizeBytes > options.maxStateBytes) {
        return yield* new StateTooLargeError({ sizeBytes, maxBytes: options.maxStateBytes })
      }
      const row: Record<string, unknown> = { state, sizeBytes }
      for (const column of table.inputColumns) row[column] = checkpoint[column]
      const parentId = checkpoint.parentId
      if (parentId !== undefined) row.parentId = Number(parentId)

      const insert = insertReturningId(row)
      if (parentId === undefined && !hasRetention) {
        return yield* Effect.mapError(insert, failed(operation))
      }
      return yield* sql.withTransaction(Effect.gen(function*() {
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
        Effect.retry({ times: 10, while: isDeadlock }),
        Effect.catchTag("SqlError", (error) => Effect.fail(failed(operation)(error)))
      )
    })

  const retrieve = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed(Option.none<Stored>()),
      onSome: (rowId) =>
        sql`SELECT ${rowColumns} FROM ${tableName} WHERE ${sql("id")} = ${rowId}`.pipe(
          Effect.mapError(failed(operation)),
          Effect.flatMap(toStored(operation)),
          Effect.map((stored) => Option.fromNullable(stored[0]))
        )
    })

  const latest = (operation: string, filter: Filter | undefined) =>
    Effect.gen(function*() {
      const valid = filter === undefined ? {} : yield* validateFilter(filter)
      const rows = yield* sql`SELECT ${rowColumns} FROM ${tableName} ${where(filterClauses(valid))} ${newestFirst} ${
        limitClause(1, undefined)
      }`.pipe(Effect.mapError(failed(operation)))
      const stored = yield* toStored(operation)(rows)
      return Option.fromNullable(stored[0])
    })

  const listAll = (operation: string) =>
    sql`SELECT ${listColumns} FROM ${tableName} ${newestFirst}`.pipe(
      Effect.mapError(failed(operation)),
      Effect.flatMap(toListItems(operation))
    )

  const countMatching = (operation: string, clauses: ReadonlyArray<Statement.Fragment>) =>
    sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM ${tableName} ${where(clauses)}`.pipe(
      Effect.mapError(failed(operation)),
      Effect.map((rows) => Number(rows[0]?.n ?? 0))
    )

  /** One page, read with the given columns: list items, or full rows when streaming with their state. */
  const readPage = <A extends { readonly id: string; readonly createdAt: number }, E>(
    operation: string,
    page: ListOptions,
    columns: Statement.Fragment,
    toItems: (rows: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<A>, E>
  ) =>
    Effect.gen(function*() {
      const subject = `${table.name} list options`
      const orderBy = page.orderBy ?? "createdAt"
      const orderDir = page.orderDir ?? "DESC"
      const limit = page.limit ?? DEFAULT_PAGE_SIZE
      if (page.cursor !== undefined && page.offset !== undefined) {
        return yield* invalid(subject, "cursor", "cannot be combined with offset")
      }
      const matching = filterClauses(page)
      const query = {
        filter: Object.fromEntries(
          [...table.filterColumns, "before", "after"].map((key) => [key, (page as Record<string, unknown>)[key] ?? null])
        ),
        orderBy,
        orderDir
      }
      const clauses = [...matching]
      if (page.cursor !== undefined) {
        const position = decodeCursor(query, page.cursor)
        if (Either.isLeft(position)) return yield* invalid(subject, "cursor", position.left)
        clauses.push(afterPosition(orderBy, orderDir, position.right))
      }
      const rows = yield* sql`SELECT ${columns} FROM ${tableName} ${where(clauses)} ${orderClause(orderBy, orderDir)} ${
        limitClause(limit + 1, page.offset)
      }`.pipe(Effect.mapError(failed(operation)))
      const items = yield* toItems(rows.slice(0, limit))
      const last = items.at(-1)
      const nextCursor = rows.length > limit && last !== undefined
        ? Option.some(encodeCursor(query, {
          sortValue: orderBy === "id" ? Number(last.id) : last.createdAt,
          id: Number(last.id)
        }))
        : Option.none<string>()
      const total = page.includeTotal === true
        ? Option.some(yield* countMatching(operation, matching))
        : Option.none<number>()
      return { items, nextCursor, total } satisfies CheckpointPage<A>
    })

  const listPage = (operation: string, options: ListOptions) =>
    Effect.flatMap(validateListOptions(options), (page) => readPage(operation, page, listColumns, toListItems(operation)))

  const streamPages = <A extends { readonly id: string; readonly createdAt: number }, E>(
    operation: string,
    options: (Filter & CheckpointStreamOptions) | undefined,
    columns: Statement.Fragment,
    toItems: (rows: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<A>, E>
  ) => {
    const { includeState: _, pageSize, ...rest } = options ?? ({} as Filter & CheckpointStreamOptions)
    const pageOptions = { ...rest, limit: pageSize ?? Math.min(1000, MAX_PAGE_SIZE) } as unknown as ListOptions
    return Stream.unwrap(Effect.map(validateListOptions(pageOptions), (first) =>
      Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
        Effect.map(
          readPage(operation, cursor === undefined ? first : { ...first, cursor }, columns, toItems),
          (page) => [Chunk.fromIterable(page.items), page.nextCursor.pipe(Option.map((next) => next as string | undefined))] as const
        ))))
  }

  const stream = (operation: string, options: (Filter & CheckpointStreamOptions) | undefined) =>
    options?.includeState === true
      ? streamPages(operation, options, rowColumns, toStored(operation))
      : streamPages(operation, options, listColumns, toListItems(operation))

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
