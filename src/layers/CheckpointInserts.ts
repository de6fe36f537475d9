/**
 * The INSERT of checkpoint rows and the ids they got: one statement for one row or many, for stores, coalesced
 * stores and bulk writes alike.
 *
 * Which id each row of a multi-row INSERT got (it is one statement: all its rows are written or none):
 *
 * - PostgreSQL: the ids come from the table's sequence, whose `nextval` is evaluated for each row of the VALUES list
 *   in list order and only ever increases (also across sessions), so the ids increase in list order. RETURNING gives
 *   them back; sorting them ascending maps them to the rows without relying on the order of RETURNING itself.
 * - SQLite: the statement holds the database's write lock and AUTOINCREMENT gives each row, in VALUES order, one
 *   more than the largest id ever used: again increasing in list order, and the same sort maps them.
 * - MySQL/MariaDB: no RETURNING. The result header's insertId is LAST_INSERT_ID(), the id of the *first* row, and
 *   InnoDB gives the rows of one multi-row INSERT consecutive ids (step auto_increment_increment) when
 *   innodb_autoinc_lock_mode is 0 ("traditional") or 1 ("consecutive"): a "simple insert" reserves all its values
 *   at once (https://dev.mysql.com/doc/refman/8.0/en/innodb-auto-increment-handling.html). In mode 2
 *   ("interleaved") the manual does not promise it for every statement, so it is not relied on: the rows are then
 *   written one by one. The table must be InnoDB: only a transactional engine rolls back a multi-row INSERT that
 *   fails half-way. The mode is read once. affectedRows must equal the number of rows.
 *
 * test/Batching.test.ts stores concurrent batches on every database and checks that every id retrieves its caller's
 * checkpoint.
 *
 * @since 0.1.0
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type { CheckpointStatements } from "./CheckpointStatements.js"

/** The largest multi-row INSERT whose compiled text is kept (a text grows with its rows, about 80 bytes each). */
const MAX_CACHED_INSERT_ROWS = 128

/**
 * The INSERTs of one table.
 *
 * @since 0.1.0
 */
export type CheckpointInserts = ReturnType<typeof makeCheckpointInserts>

/**
 * A row ready to be written: every column of the table but `id`, in the storage's own encoding (the state as JSON
 * text, `parentId` a number or null).
 *
 * @since 0.1.0
 */
export type CheckpointRow = Readonly<Record<string, unknown>>

/**
 * @since 0.1.0
 */
export const makeCheckpointInserts = (statements: CheckpointStatements) => {
  const { sql, table, tableName } = statements
  const columns = ["state", "sizeBytes", ...table.inputColumns, "parentId"]
  const placeholder = Object.fromEntries(columns.map((column) => [column, 0]))

  // One statement text per number of rows, compiled once: every row has these columns.
  const texts = new Map<number, string>()
  const insertText = (count: number): string => {
    const known = texts.get(count)
    if (known !== undefined) return known
    const insert = sql`INSERT INTO ${tableName} ${sql.insert(Array.from({ length: count }, () => placeholder))}`
    const text = sql.onDialectOrElse({
      mysql: () => insert,
      orElse: () => sql`${insert} RETURNING ${sql("id")}`
    }).compile()[0]
    if (count <= MAX_CACHED_INSERT_ROWS) texts.set(count, text)
    return text
  }
  const valuesOf = (rows: ReadonlyArray<CheckpointRow>): Array<unknown> => {
    const values: Array<unknown> = []
    for (const row of rows) for (const column of columns) values.push(row[column] ?? null)
    return values
  }

  // The ids of a `count`-row INSERT, in the order of its rows, from what the statement returned; a string when it is
  // not what such an INSERT returns (a defect).
  const idsOfReturning = (rows: ReadonlyArray<{ readonly id: unknown }>, count: number): ReadonlyArray<string> | string => {
    if (rows.length !== count) return `a ${count}-row INSERT returned ${rows.length} ids`
    const ids = rows.map((row) => BigInt(row.id as number | string | bigint))
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return ids.map(String)
  }
  const idsOfHeader = (
    header: { readonly insertId: number | string; readonly affectedRows: number },
    count: number,
    step: number
  ): ReadonlyArray<string> | string => {
    if (Number(header.affectedRows) !== count) return `a ${count}-row INSERT reported ${header.affectedRows} rows`
    const first = BigInt(header.insertId)
    return Array.from({ length: count }, (_, index) => String(first + BigInt(index * step)))
  }
  const idsOrDie = (ids: ReadonlyArray<string> | string) =>
    typeof ids === "string" ? Effect.dieMessage(ids) : Effect.succeed(ids)

  // MySQL's id step: undefined until read, null when a multi-row INSERT's ids cannot be known.
  let mysqlIdStep: number | null | undefined
  const readMysqlIdStep: Effect.Effect<number | null, SqlError> = Effect.suspend(() =>
    mysqlIdStep !== undefined ? Effect.succeed(mysqlIdStep) : Effect.map(
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
    )
  )

  /**
   * Writes the rows in one statement and returns their ids in the order of the rows; `undefined`, having written
   * nothing, when the database cannot say which id each row of a multi-row INSERT got (MySQL in interleaved mode).
   */
  const insertRows: (rows: ReadonlyArray<CheckpointRow>) => Effect.Effect<ReadonlyArray<string> | undefined, SqlError> =
    sql.onDialectOrElse({
      mysql: () => (rows: ReadonlyArray<CheckpointRow>) =>
        Effect.flatMap(rows.length === 1 ? Effect.succeed(1) : readMysqlIdStep, (step) =>
          step === null ? Effect.succeed(undefined) : Effect.flatMap(
            sql.unsafe(insertText(rows.length), valuesOf(rows)).raw,
            (header) => idsOrDie(idsOfHeader(header as never, rows.length, step))
          )),
      orElse: () => (rows: ReadonlyArray<CheckpointRow>) =>
        Effect.flatMap(
          sql.unsafe<{ readonly id: unknown }>(insertText(rows.length), valuesOf(rows)),
          (returned) => idsOrDie(idsOfReturning(returned, rows.length))
        )
    })

  /** Writes one row and returns its id. */
  const insertRow = (row: CheckpointRow): Effect.Effect<string, SqlError> =>
    Effect.map(insertRows([row]), (ids) => ids![0]!)

  /** Writes the rows in one statement and returns their ids in order; one by one where a multi-row INSERT's ids
   * cannot be known. */
  const insertAll = (rows: ReadonlyArray<CheckpointRow>): Effect.Effect<ReadonlyArray<string>, SqlError> =>
    Effect.flatMap(insertRows(rows), (ids) => ids !== undefined ? Effect.succeed(ids) : Effect.forEach(rows, insertRow))

  return { insertRows, insertRow, insertAll }
}
