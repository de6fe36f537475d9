/**
 * The two checkpoint tables as `export`, `import` and `copy` move them: a row is its source id, the id of its
 * parent, its columns and its state as the JSON text it is stored as (copied byte for byte, never re-encoded).
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

/**
 * One table: its short name on the command line and in export files, and the columns a checkpoint is made of
 * (besides id, parentId, state and sizeBytes).
 */
export interface TransferTable {
  readonly kind: "agent" | "app"
  readonly name: "AgentCheckpoints" | "AppCheckpoints"
  readonly columns: ReadonlyArray<string>
}

/**
 * AgentCheckpoints.
 */
export const agentTable: TransferTable = {
  kind: "agent",
  name: "AgentCheckpoints",
  columns: ["sessionId", "agentId", "agentType", "name", "createdAt"]
}

/**
 * AppCheckpoints.
 */
export const appTable: TransferTable = {
  kind: "app",
  name: "AppCheckpoints",
  columns: ["sessionId", "hostname", "projectDirectory", "createdAt"]
}

/**
 * Both tables, in the order they are moved.
 */
export const transferTables: ReadonlyArray<TransferTable> = [agentTable, appTable]

/**
 * A checkpoint on its way from one database (or file) to another.
 */
export interface TransferRow {
  /** Its id where it comes from. */
  readonly sourceId: number
  /** The source id of the checkpoint it continues, if any. */
  readonly parentSourceId: number | null
  /** The table's columns: text identifiers, and createdAt as a number. */
  readonly columns: Readonly<Record<string, string | number>>
  /** The state as stored: JSON text. */
  readonly state: string
}

// Drivers return BIGINT as a number (mysql2, SQLite) or as decimal text (node-postgres).
const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value))

/**
 * A raw row (with `id`, `parentId`, the columns and `state`) as a transfer row.
 */
export const toTransferRow = (table: TransferTable, row: Record<string, unknown>): TransferRow => ({
  sourceId: toNumber(row.id),
  parentSourceId: row.parentId === null || row.parentId === undefined ? null : toNumber(row.parentId),
  columns: Object.fromEntries(
    table.columns.map((column) => [column, column === "createdAt" ? toNumber(row[column]) : String(row[column])])
  ),
  state: String(row.state)
})

/**
 * Up to `limit` rows of the table with an id above `afterId`, in id order: a keyset page, as fast at the end of a
 * large table as at its start. The parent id is kept only when that parent exists (a deleted parent leaves a
 * dangling id, which cannot be mapped to anything in another database).
 */
export const readRows = (
  sql: SqlClient.SqlClient,
  table: TransferTable,
  afterId: number,
  limit: number
): Effect.Effect<ReadonlyArray<TransferRow>, SqlError> => {
  const columns = sql.csv(table.columns.map((column) => sql`${sql(`c.${column}`)}`))
  return sql<Record<string, unknown>>`SELECT ${sql("c.id")} AS ${sql("id")}, ${sql("p.id")} AS ${sql("parentId")}, ${columns},
${sql("c.state")} AS ${sql("state")}
FROM ${sql(table.name)} ${sql("c")} LEFT JOIN ${sql(table.name)} ${sql("p")} ON ${sql("p.id")} = ${sql("c.parentId")}
WHERE ${sql("c.id")} > ${afterId} ORDER BY ${sql("c.id")} LIMIT ${sql.literal(String(limit))}`.pipe(
    Effect.map((rows) => rows.map((row) => toTransferRow(table, row)))
  )
}

/**
 * How many rows the table has.
 */
export const countRows = (sql: SqlClient.SqlClient, table: TransferTable): Effect.Effect<number, SqlError> =>
  Effect.map(
    sql<{ readonly n: unknown }>`SELECT COUNT(*) AS ${sql("n")} FROM ${sql(table.name)}`,
    (rows) => toNumber(rows[0]?.n ?? 0)
  )
