/**
 * The SQL of one checkpoint table, written once over `SqlClient` for every dialect: its column lists, the fragments
 * of filters, orders and keyset positions, statements compiled once per shape, the typing of a failed statement and
 * the reading of its rows.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { refailSqlError } from "../internal/refailSqlError.js"
import type { CheckpointState } from "../schema/CheckpointFields.js"
import {
  type Dialect,
  StateDecodeError,
  type StorageConnectionError,
  StorageQueryError
} from "../services/CheckpointStorageError.js"
import { makeBatchDelete } from "./BatchDelete.js"
import { compileRowReader } from "./CheckpointColumns.js"
import type { CheckpointTable, ListItemOf, StoredOf } from "./CheckpointTables.js"

/**
 * The createdAt range every filter has, beside the exact columns of its table.
 *
 * @since 0.1.0
 */
export interface FilterFields {
  readonly before?: number | undefined
  readonly after?: number | undefined
}

/**
 * A keyset position: the sort value and id of the last row of a page.
 *
 * @since 0.1.0
 */
export interface KeysetPosition {
  readonly sortValue: number
  readonly id: number
}

/** How many shapes of latest and page statements keep their compiled text. */
const MAX_CACHED_TEXTS = 256

/**
 * The statements of one table.
 *
 * @since 0.1.0
 */
export type CheckpointStatements<T extends CheckpointTable = CheckpointTable> = ReturnType<
  typeof makeCheckpointStatements<T>
>

/**
 * Builds the statements of `table` over `sql` (a client without name transforms).
 *
 * @since 0.1.0
 */
export const makeCheckpointStatements = <T extends CheckpointTable>(
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  table: T
) => {
  const tableName = sql(table.name)
  const columnList = (columns: ReadonlyArray<string>) => sql.csv(columns.map((column) => sql`${sql(column)}`))
  const listColumns = columnList(table.listColumns)
  const rowColumns = columnList(table.rowColumns)

  // --- Failures and rows -----------------------------------------------------------------------------------------

  /** A failed statement of `operation` as our typed error (by the driver's code: internal/driverError.ts). */
  const failed = (operation: string) => (error: SqlError): StorageConnectionError | StorageQueryError =>
    refailSqlError(dialect, operation)(error)
  /** The rows of a statement, its failure typed. */
  const run = <A>(operation: string, statement: Effect.Effect<A, SqlError>) =>
    Effect.mapError(statement, failed(operation))
  /** An effect of several statements (and failures of its own), its statements' failures typed. */
  const typed = (operation: string) =>
  <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, SqlError> | StorageConnectionError | StorageQueryError, R> =>
    Effect.mapError(effect, (error) =>
      (error as { readonly _tag?: unknown })._tag === "SqlError"
        ? failed(operation)(error as SqlError)
        : error as Exclude<E, SqlError>)

  // A row without the shape its table was created with (a NULL, a column of another type) was written or changed
  // outside this library.
  const unexpectedRow = (operation: string) => (cause: ParseResult.ParseError) =>
    new StorageQueryError({ dialect, operation, code: "UNEXPECTED_ROW", cause })
  // Rows of the expected shape are read by readers compiled from the row Schemas; the Schemas decode the others, to
  // say what is wrong with them (see CheckpointColumns.ts).
  const readRows = compileRowReader(table.row.fields)
  const readListRows = compileRowReader(table.listRow.fields)
  const decodeRows = Schema.decodeUnknownEither(Schema.Array(table.row))
  const decodeListRows = Schema.decodeUnknownEither(Schema.Array(table.listRow))

  const parseState = (id: string, json: string): Either.Either<CheckpointState, StateDecodeError> => {
    let state: unknown
    try {
      state = JSON.parse(json)
    } catch (cause) {
      return Either.left(new StateDecodeError({ table: table.name, id, cause }))
    }
    return typeof state === "object" && state !== null && !Array.isArray(state)
      ? Either.right(state as CheckpointState)
      : Either.left(new StateDecodeError({ table: table.name, id, cause: new Error("the JSON is not an object") }))
  }

  /** Full rows, decoded once by the table's row Schema, each with its state parsed from its JSON text. */
  const toStored = (operation: string) =>
  (
    rows: ReadonlyArray<unknown>
  ): Either.Either<Array<StoredOf<T>>, StorageQueryError | StateDecodeError> => {
    let read = readRows(rows)
    if (read === undefined) {
      const decoded = decodeRows(rows)
      if (Either.isLeft(decoded)) return Either.left(unexpectedRow(operation)(decoded.left))
      read = decoded.right as Array<Record<string, unknown>>
    }
    // Fresh objects (the reader's or the decoder's): each gets its parsed state in place.
    for (const row of read) {
      const state = parseState(row.id as string, row.state as string)
      if (Either.isLeft(state)) return Either.left(state.left)
      row.state = state.right
    }
    return Either.right(read as Array<StoredOf<T>>)
  }

  /** List rows (no state), decoded by the table's list row Schema. */
  const toListItems = (operation: string) =>
  (
    rows: ReadonlyArray<unknown>
  ): Either.Either<ReadonlyArray<ListItemOf<T>>, StorageQueryError> => {
    const read = readListRows(rows) as Array<ListItemOf<T>> | undefined
    return read !== undefined ? Either.right(read) : Either.mapLeft(decodeListRows(rows), unexpectedRow(operation))
  }

  // --- Fragments -------------------------------------------------------------------------------------------------

  /** Every field of a filter, in the order of a statement's shape and of a cursor's query. */
  const filterKeys: ReadonlyArray<string> = [...table.filterColumns, "before", "after"]

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
  /** The values filterClauses binds, in its order. */
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
  /** Which fields of a filter are given, as text: the part of a statement's shape the filter decides. */
  const filterShape = (filter: FilterFields): string => {
    let shape = ""
    for (const key of filterKeys) shape += (filter as Record<string, unknown>)[key] === undefined ? "0" : "1"
    return shape
  }

  const where = (clauses: ReadonlyArray<Statement.Fragment>) =>
    clauses.length === 0 ? sql`` : sql`WHERE ${sql.and(clauses)}`
  const orderClause = (orderBy: "createdAt" | "id", orderDir: "ASC" | "DESC") => {
    const direction = sql.literal(orderDir)
    return orderBy === "id"
      ? sql`ORDER BY ${sql("id")} ${direction}`
      : sql`ORDER BY ${sql("createdAt")} ${direction}, ${sql("id")} ${direction}`
  }
  /** The order of every list: newest first, and on a tie the higher id. */
  const newestFirst = orderClause("createdAt", "DESC")

  /** Rows strictly after `position` in the list order: the keyset condition that replaces OFFSET. */
  const afterPosition = (orderBy: "createdAt" | "id", orderDir: "ASC" | "DESC", position: KeysetPosition) => {
    const beyond = sql.literal(orderDir === "DESC" ? "<" : ">")
    // The leading bound on createdAt alone lets PostgreSQL start the index scan at the position: with the OR only, it
    // applied the condition as a filter and read every row before the position.
    const upTo = sql.literal(orderDir === "DESC" ? "<=" : ">=")
    return orderBy === "id"
      ? sql`${sql("id")} ${beyond} ${position.id}`
      : sql`${sql("createdAt")} ${upTo} ${position.sortValue} AND (${sql("createdAt")} ${beyond} ${position.sortValue} OR (${
        sql("createdAt")
      } = ${position.sortValue} AND ${sql("id")} ${beyond} ${position.id}))`
  }
  /** The values afterPosition binds, in its order. */
  const positionValues = (orderBy: "createdAt" | "id", position: KeysetPosition): Array<unknown> =>
    orderBy === "id" ? [position.id] : [position.sortValue, position.sortValue, position.sortValue, position.id]

  // LIMIT and OFFSET are validated integers, written as literals: mysql2 rejects them as bound parameters.
  const limitClause = (limit: number, offset?: number | undefined) =>
    offset === undefined || offset === 0
      ? sql`LIMIT ${sql.literal(String(limit))}`
      : sql`LIMIT ${sql.literal(String(limit))} OFFSET ${sql.literal(String(offset))}`

  // --- Compiled once ---------------------------------------------------------------------------------------------

  // The statements of latest, pages and counts depend only on the shape of the request (which filter fields are
  // given, the order, the limit, whether a cursor is): each text is compiled once per shape and run with
  // `sql.unsafe(text, values)`, the same SQL and bound parameters without building and compiling a template per
  // call. A text is kept only if its compiled parameters are exactly the given values in order, and for at most
  // MAX_CACHED_TEXTS shapes (offsets are literals: a shape each).
  const compiledTexts = new Map<string, string>()
  const compiledOnce = (
    shape: string,
    values: ReadonlyArray<unknown>,
    build: () => Statement.Statement<unknown>
  ): Statement.Statement<object> => {
    const known = compiledTexts.get(shape)
    if (known !== undefined) return sql.unsafe(known, values)
    const [text, params] = build().compile()
    if (
      compiledTexts.size < MAX_CACHED_TEXTS && params.length === values.length &&
      params.every((param, index) => param === values[index])
    ) {
      compiledTexts.set(shape, text)
    }
    return sql.unsafe(text, params)
  }

  const batchDelete = makeBatchDelete(sql, { table: table.name, key: "id", textColumn: "state", sizeColumn: "sizeBytes" })

  return {
    sql,
    dialect,
    table,
    tableName,
    listColumns,
    rowColumns,
    failed,
    run,
    typed,
    unexpectedRow,
    toStored,
    toListItems,
    filterKeys,
    filterClauses,
    filterValues,
    filterShape,
    where,
    orderClause,
    newestFirst,
    afterPosition,
    positionValues,
    limitClause,
    compiledOnce,
    deleteCounting: batchDelete.deleteCounting,
    deleteSelected: batchDelete.deleteSelected
  }
}
