/**
 * The schema of a live database, read from its catalog: the columns and the (non-primary) indexes of a table.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { CliDatabase } from "./CliDatabase.js"

/**
 * A column as the catalog reports it.
 */
export interface LiveColumn {
  readonly name: string
  /** Lower case; MySQL integer display widths ("bigint(20)") dropped. */
  readonly type: string
  readonly nullable: boolean
  /** MySQL only: the collation of a text column. */
  readonly collation: string | null
}

/**
 * An index with its columns in order.
 */
export interface LiveIndex {
  readonly name: string
  readonly columns: ReadonlyArray<string>
}

const normalizeType = (type: string): string => type.toLowerCase().replace(/^(bigint|int|integer)\(\d+\)/, "$1").trim()

/**
 * The columns of a table (empty if it does not exist).
 */
export const liveColumns = (table: string): Effect.Effect<ReadonlyArray<LiveColumn>, SqlError, CliDatabase> =>
  Effect.gen(function*() {
    const { sql, url } = yield* CliDatabase
    switch (url.dialect) {
      case "pg": {
        const rows = yield* sql<Record<string, unknown>>`SELECT column_name, data_type, is_nullable
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`
        return rows.map((row) => ({
          name: String(row.column_name),
          type: normalizeType(String(row.data_type)),
          nullable: row.is_nullable === "YES",
          collation: null
        }))
      }
      case "mysql": {
        const rows = yield* sql<Record<string, unknown>>`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type,
IS_NULLABLE AS nullable, COLLATION_NAME AS collation FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} ORDER BY ORDINAL_POSITION`
        return rows.map((row) => ({
          name: String(row.name),
          type: normalizeType(String(row.type)),
          nullable: row.nullable === "YES",
          collation: row.collation === null || row.collation === undefined ? null : String(row.collation)
        }))
      }
      case "sqlite": {
        const rows = yield* sql<Record<string, unknown>>`SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(${table})`
        return rows.map((row) => ({
          name: String(row.name),
          type: normalizeType(String(row.type)),
          // An INTEGER PRIMARY KEY is the rowid: never NULL, whatever was declared.
          nullable: Number(row.not_null) === 0 && Number(row.pk) === 0,
          collation: null
        }))
      }
    }
  })

/**
 * The indexes of a table, except its primary key.
 */
export const liveIndexes = (table: string): Effect.Effect<ReadonlyArray<LiveIndex>, SqlError, CliDatabase> =>
  Effect.gen(function*() {
    const { sql, url } = yield* CliDatabase
    const rows = url.dialect === "pg"
      ? yield* sql<Record<string, unknown>>`SELECT i.relname AS index_name, a.attname AS column_name
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema() AND t.relname = ${table} AND NOT x.indisprimary
ORDER BY i.relname, k.ord`
      : url.dialect === "mysql"
      ? yield* sql<Record<string, unknown>>`SELECT INDEX_NAME AS index_name, COLUMN_NAME AS column_name
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME <> 'PRIMARY'
ORDER BY INDEX_NAME, SEQ_IN_INDEX`
      : yield* sql<Record<string, unknown>>`SELECT il.name AS index_name, ii.name AS column_name
FROM pragma_index_list(${table}) il, pragma_index_info(il.name) ii WHERE il.origin = 'c'
ORDER BY il.name, ii.seqno`
    const indexes = new Map<string, Array<string>>()
    for (const row of rows) {
      const name = String(row.index_name)
      const columns = indexes.get(name) ?? []
      columns.push(String(row.column_name))
      indexes.set(name, columns)
    }
    return [...indexes].map(([name, columns]) => ({ name, columns }))
  })
