/**
 * The check at the end of `copy`: both sides hold the same checkpoints. Each side is read in source-id order and
 * every checkpoint (its source id, its parent's source id, its columns and its state text) goes into one SHA-256;
 * the counts and the digests must be equal. On the target, only the checkpoints the ledger says came from this
 * source are read, so a target that also holds other checkpoints still verifies.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import { LEDGER_TABLE } from "./CopyLedger.js"
import { readRows, toTransferRow, type TransferRow, type TransferTable } from "./TransferTables.js"

/**
 * How many checkpoints a side holds, and the digest of all of them.
 */
export interface TableDigest {
  readonly count: number
  readonly sha256: string
}

const PAGE = 1000

const digestPages = (
  readPage: (afterSourceId: number) => Effect.Effect<ReadonlyArray<TransferRow>, SqlError>
): Effect.Effect<TableDigest, SqlError> =>
  Effect.gen(function*() {
    const hash = Crypto.createHash("sha256")
    let count = 0
    let after = 0
    while (true) {
      const rows = yield* readPage(after)
      for (const row of rows) {
        hash.update(JSON.stringify([row.sourceId, row.parentSourceId, ...Object.values(row.columns), row.state]))
        hash.update("\n")
      }
      count += rows.length
      const last = rows.at(-1)
      if (last === undefined || rows.length < PAGE) break
      after = last.sourceId
    }
    return { count, sha256: hash.digest("hex") }
  })

/**
 * The digest of a source table.
 */
export const sourceDigest = (sql: SqlClient.SqlClient, table: TransferTable): Effect.Effect<TableDigest, SqlError> =>
  digestPages((after) => readRows(sql, table, after, PAGE))

/**
 * The digest of what the target received from the source `key`, with ids and parent ids read back as source ids.
 */
export const targetDigest = (
  sql: SqlClient.SqlClient,
  key: string,
  table: TransferTable
): Effect.Effect<TableDigest, SqlError> => {
  const columns = sql.csv(table.columns.map((column) => sql`${sql(`c.${column}`)}`))
  return digestPages((after) =>
    sql<Record<string, unknown>>`SELECT ${sql("m.sourceId")} AS ${sql("id")}, ${sql("pm.sourceId")} AS ${sql("parentId")},
${columns}, ${sql("c.state")} AS ${sql("state")}
FROM ${sql(LEDGER_TABLE)} ${sql("m")}
JOIN ${sql(table.name)} ${sql("c")} ON ${sql("c.id")} = ${sql("m.targetId")}
LEFT JOIN ${sql(LEDGER_TABLE)} ${sql("pm")} ON ${sql("pm.sourceKey")} = ${sql("m.sourceKey")}
  AND ${sql("pm.tableName")} = ${sql("m.tableName")} AND ${sql("pm.targetId")} = ${sql("c.parentId")}
WHERE ${sql("m.sourceKey")} = ${key} AND ${sql("m.tableName")} = ${table.name} AND ${sql("m.sourceId")} > ${after}
ORDER BY ${sql("m.sourceId")} LIMIT ${sql.literal(String(PAGE))}`.pipe(
      Effect.map((rows) => rows.map((row) => toTransferRow(table, row)))
    )
  )
}
