/**
 * Deleting the rows a query selects, in batches: how retention removes checkpoints and metrics. Each batch is one
 * DELETE of at most `batchSize` rows, so no statement grows with the table; with `atomic` the batches run in one
 * transaction, so that the whole selection goes or none of it does.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import { utf8Bytes } from "./textBytes.js"

/**
 * How many rows went, and the UTF-8 bytes of their JSON text.
 *
 * @since 0.1.0
 */
export interface Deleted {
  readonly count: number
  readonly bytes: number
}

/**
 * @since 0.1.0
 */
export interface BatchDeleteOptions<E> {
  readonly batchSize: number
  /** One transaction for every batch. */
  readonly atomic?: boolean | undefined
  /** Whether to measure the rows' bytes (on MySQL a locking read per batch). Default true. */
  readonly measure?: boolean | undefined
  /** Called after each batch that removed rows, with the total so far. */
  readonly onBatch?: ((deleted: number) => Effect.Effect<void, E>) | undefined
}

/**
 * The batch deletes of one table, whose rows are identified by `key` and whose JSON text is in `textColumn`.
 * `sizeColumn`, when the table has one, holds the text's size already (NULL in rows written by others).
 *
 * @since 0.1.0
 */
export const makeBatchDelete = (
  sql: SqlClient.SqlClient,
  options: {
    readonly table: string
    readonly key: string
    readonly textColumn: string
    readonly sizeColumn?: string | undefined
  }
) => {
  const table = sql(options.table)
  const key = sql(options.key)
  const textBytes = utf8Bytes(sql, options.textColumn)
  const bytes = options.sizeColumn === undefined
    ? textBytes
    : sql`COALESCE(${sql(options.sizeColumn)}, ${textBytes})`
  // How many rows a DELETE removed: MySQL reports it in the result header; PostgreSQL and SQLite return the keys.
  const deleteCounting: (statement: Statement.Statement<unknown>) => Effect.Effect<number, SqlError> = sql
    .onDialectOrElse({
      mysql: () => (statement: Statement.Statement<unknown>) =>
        Effect.map(statement.raw, (header) => Number((header as { readonly affectedRows?: number }).affectedRows ?? 0)),
      orElse: () => (statement: Statement.Statement<unknown>) =>
        Effect.map(sql`${statement} RETURNING ${key}`, (rows) => rows.length)
    })
  const sum = (rows: ReadonlyArray<{ readonly bytes: unknown }>) =>
    rows.reduce((total, row) => total + Number(row.bytes ?? 0), 0)

  // One batch: the first `batchSize` keys of the selection (a query of one `key` column), by key. The keys sit in a
  // derived table so that MySQL accepts deleting from the table the selection reads. PostgreSQL and SQLite return
  // the deleted rows' sizes; MySQL has no DELETE … RETURNING, so the batch's rows are locked and measured first, in
  // the batch's own transaction, and those rows deleted.
  const deleteBatch = (
    selection: Statement.Fragment,
    batchSize: number,
    measure: boolean
  ): Effect.Effect<Deleted, SqlError> => {
    const batch = sql`SELECT ${key} FROM (SELECT ${key} FROM (${selection}) ${sql("selected")} ORDER BY ${key} LIMIT ${
      sql.literal(String(batchSize))
    }) ${sql("batch")}`
    if (!measure) return Effect.map(deleteCounting(sql`DELETE FROM ${table} WHERE ${key} IN (${batch})`), (count) => ({ count, bytes: 0 }))
    return sql.onDialectOrElse({
      mysql: () =>
        sql.withTransaction(Effect.gen(function*() {
          const rows = yield* sql<{ readonly key: string | number; readonly bytes: unknown }>`SELECT ${key} AS ${
            sql("key")
          }, ${bytes} AS ${sql("bytes")} FROM ${table} WHERE ${key} IN (${batch}) FOR UPDATE`
          if (rows.length === 0) return { count: 0, bytes: 0 }
          const count = yield* deleteCounting(sql`DELETE FROM ${table} WHERE ${sql.in(options.key, rows.map((row) => row.key))}`)
          return { count, bytes: sum(rows) }
        })),
      orElse: () =>
        Effect.map(
          sql<{ readonly bytes: unknown }>`DELETE FROM ${table} WHERE ${key} IN (${batch}) RETURNING ${bytes} AS ${
            sql("bytes")
          }`,
          (rows) => ({ count: rows.length, bytes: sum(rows) })
        )
    })
  }

  /** Deletes every row of the selection, a batch at a time. */
  const deleteSelected = <E = never>(
    selection: Statement.Fragment,
    deleteOptions: BatchDeleteOptions<E>
  ): Effect.Effect<Deleted, SqlError | E> => {
    const loop = Effect.gen(function*() {
      let count = 0
      let freed = 0
      while (true) {
        const deleted = yield* deleteBatch(selection, deleteOptions.batchSize, deleteOptions.measure !== false)
        count += deleted.count
        freed += deleted.bytes
        if (deleted.count > 0 && deleteOptions.onBatch !== undefined) yield* deleteOptions.onBatch(count)
        if (deleted.count < deleteOptions.batchSize) return { count, bytes: freed }
      }
    })
    return deleteOptions.atomic === true ? sql.withTransaction(loop) : loop
  }

  return { deleteSelected, deleteCounting }
}
