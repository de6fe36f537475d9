/**
 * The ledger that makes `copy` and `import` resumable without duplicates. Ids are autoincrement in every database,
 * so a copied checkpoint gets a new id; the target database records, for each checkpoint it received, where it came
 * from and the id it got:
 *
 *   effect_checkpoint_storage_copies (sourceKey, tableName, sourceId, targetId)
 *   primary key (sourceKey, tableName, sourceId), unique (sourceKey, tableName, targetId)
 *
 * `sourceKey` names the source (a SHA-256 of the source database's URL without its password, or of an export
 * file's exportId). A batch of checkpoints and their ledger rows are written in one transaction: after a crash or
 * Ctrl-C, either both are there or neither is, so a new run skips exactly what was copied. The ledger also maps a
 * parentId to the new id of the parent.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { Dialect } from "../services/CheckpointStorageError.js"
import type { TransferRow, TransferTable } from "./TransferTables.js"

/**
 * The ledger's table.
 */
export const LEDGER_TABLE = "effect_checkpoint_storage_copies"

/**
 * The ledger key of a source: a fixed-size digest of its identity.
 */
export const sourceKey = (identity: string): string => Crypto.createHash("sha256").update(identity).digest("hex")

/**
 * A database written to: its client and dialect.
 */
export interface LedgerTarget {
  readonly sql: SqlClient.SqlClient
  readonly dialect: Dialect
}

/**
 * Creates the ledger table (and its unique index by target id, used to map parents back when verifying; unique so
 * that MySQL joins on it by key rather than scanning a whole source) if missing.
 */
export const ensureLedger = ({ dialect, sql }: LedgerTarget): Effect.Effect<void, SqlError> => {
  const integer = dialect === "sqlite" ? sql.literal("INTEGER") : sql.literal("BIGINT")
  const create = sql`CREATE TABLE IF NOT EXISTS ${sql(LEDGER_TABLE)} (
  ${sql("sourceKey")} VARCHAR(64) NOT NULL,
  ${sql("tableName")} VARCHAR(32) NOT NULL,
  ${sql("sourceId")} ${integer} NOT NULL,
  ${sql("targetId")} ${integer} NOT NULL,
  PRIMARY KEY (${sql("sourceKey")}, ${sql("tableName")}, ${sql("sourceId")})
)`
  const indexName = `${LEDGER_TABLE}_target`
  const columns = sql`${sql("sourceKey")}, ${sql("tableName")}, ${sql("targetId")}`
  // MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has): ask the catalog first.
  const index = dialect === "mysql"
    ? Effect.flatMap(
      sql<{ readonly n: unknown }>`SELECT COUNT(*) AS n FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${LEDGER_TABLE} AND INDEX_NAME = ${indexName}`,
      (rows) =>
        Number(rows[0]?.n ?? 0) > 0
          ? Effect.void
          : Effect.asVoid(sql`CREATE UNIQUE INDEX ${sql(indexName)} ON ${sql(LEDGER_TABLE)} (${columns})`)
    )
    : Effect.asVoid(sql`CREATE UNIQUE INDEX IF NOT EXISTS ${sql(indexName)} ON ${sql(LEDGER_TABLE)} (${columns})`)
  return Effect.zipRight(create, index)
}

/**
 * How much of a source's table the target already holds: the count and the highest source id.
 */
export const ledgerPosition = (
  { sql }: LedgerTarget,
  key: string,
  table: TransferTable
): Effect.Effect<{ readonly copied: number; readonly lastSourceId: number }, SqlError> =>
  Effect.map(
    sql<{ readonly n: unknown; readonly last: unknown }>`SELECT COUNT(*) AS ${sql("n")}, MAX(${sql("sourceId")}) AS ${sql("last")}
FROM ${sql(LEDGER_TABLE)} WHERE ${sql("sourceKey")} = ${key} AND ${sql("tableName")} = ${table.name}`,
    (rows) => ({ copied: Number(rows[0]?.n ?? 0), lastSourceId: Number(rows[0]?.last ?? 0) })
  )

/**
 * What writing one batch did.
 */
export interface BatchResult {
  readonly written: number
  /** Already in the target from an earlier run: skipped. */
  readonly skipped: number
  /** Named a parent that the target does not hold: written without a parent. */
  readonly orphans: number
}

// How the new ids of a batch are learnt, fastest first:
// - PostgreSQL: taken from the table's own sequence before the insert (nextval is safe with concurrent writers), so
//   the whole batch is one multi-row INSERT with explicit ids.
// - MySQL/MariaDB with innodb_autoinc_lock_mode 0 or 1 and an increment of 1: a multi-row INSERT ("simple insert")
//   gets consecutive ids starting at the reported insertId (https://dev.mysql.com/doc/refman/8.0/en/innodb-auto-increment-handling.html);
//   parents inside the batch are then set by one UPDATE.
// - Otherwise (SQLite, where a row costs microseconds; MySQL in interleaved mode; a table without a sequence): one
//   INSERT per row, each reporting its id.
type IdStrategy = "sequence" | "consecutive" | "per-row"

const idStrategy = (target: LedgerTarget, table: TransferTable): Effect.Effect<IdStrategy, SqlError> => {
  const { dialect, sql } = target
  switch (dialect) {
    case "pg":
      return Effect.map(
        sql<{ readonly sequence: string | null }>`SELECT pg_get_serial_sequence(${`"${table.name}"`}, 'id') AS sequence`,
        (rows) => (rows[0]?.sequence === null || rows[0]?.sequence === undefined ? "per-row" : "sequence")
      )
    case "mysql":
      return Effect.map(
        sql<{ readonly mode: unknown; readonly step: unknown }>`SELECT @@innodb_autoinc_lock_mode AS mode,
@@auto_increment_increment AS step`,
        (rows) => (Number(rows[0]?.mode) <= 1 && Number(rows[0]?.step) === 1 ? "consecutive" : "per-row")
      )
    case "sqlite":
      return Effect.succeed("per-row")
  }
}

// A multi-row INSERT carries at most this many bytes of state, well under MySQL's default max_allowed_packet.
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024

const bySize = (rows: ReadonlyArray<TransferRow>): ReadonlyArray<ReadonlyArray<TransferRow>> => {
  const chunks: Array<Array<TransferRow>> = []
  let current: Array<TransferRow> = []
  let bytes = 0
  for (const row of rows) {
    const size = Buffer.byteLength(row.state, "utf8")
    if (current.length > 0 && bytes + size > MAX_STATEMENT_BYTES) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(row)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/**
 * Writes a batch of rows and their ledger entries in one transaction. Rows the ledger already holds are skipped;
 * each parentId becomes the new id of that parent (from the ledger, or from earlier in the batch).
 */
export const writeBatch = (
  target: LedgerTarget,
  key: string,
  table: TransferTable,
  rows: ReadonlyArray<TransferRow>
): Effect.Effect<BatchResult, SqlError> => {
  const { dialect, sql } = target
  const tableName = sql(table.name)
  const rowValues = (row: TransferRow, parentId: number | null): Record<string, unknown> => ({
    ...row.columns,
    state: row.state,
    sizeBytes: Buffer.byteLength(row.state, "utf8"),
    parentId
  })
  // MySQL has no INSERT … RETURNING (MariaDB only since 10.5): the driver reports the new id in the result header.
  const insertOne = (values: Record<string, unknown>): Effect.Effect<number, SqlError> =>
    dialect === "mysql"
      ? Effect.map(
        sql`INSERT INTO ${tableName} ${sql.insert(values)}`.raw,
        (header) => Number((header as { readonly insertId: number | string }).insertId)
      )
      : Effect.map(
        sql<{ readonly id: unknown }>`INSERT INTO ${tableName} ${sql.insert(values)} RETURNING ${sql("id")}`,
        (inserted) => Number(inserted[0]?.id)
      )

  return sql.withTransaction(Effect.gen(function*() {
    if (rows.length === 0) return { written: 0, skipped: 0, orphans: 0 }
    const wanted = new Set<number>()
    for (const row of rows) {
      wanted.add(row.sourceId)
      if (row.parentSourceId !== null) wanted.add(row.parentSourceId)
    }
    const known = new Map<number, number>()
    const mapped = yield* sql<{ readonly sourceId: unknown; readonly targetId: unknown }>`SELECT ${sql("sourceId")}, ${
      sql("targetId")
    } FROM ${sql(LEDGER_TABLE)} WHERE ${sql("sourceKey")} = ${key} AND ${sql("tableName")} = ${table.name} AND ${
      sql.in("sourceId", [...wanted])
    }`
    for (const entry of mapped) known.set(Number(entry.sourceId), Number(entry.targetId))

    const sorted = [...rows].sort((a, b) => a.sourceId - b.sourceId)
    const pending = sorted.filter((row) => !known.has(row.sourceId))
    const inBatch = new Set(pending.map((row) => row.sourceId))
    // A parent is found if the target already has it, or if it comes earlier in this batch.
    const orphans = pending.filter((row) =>
      row.parentSourceId !== null && !known.has(row.parentSourceId) &&
      !(inBatch.has(row.parentSourceId) && row.parentSourceId < row.sourceId)
    ).length
    const skipped = rows.length - pending.length
    if (pending.length === 0) return { written: 0, skipped, orphans: 0 }
    const parentOf = (row: TransferRow) => (row.parentSourceId === null ? null : known.get(row.parentSourceId) ?? null)

    const strategy = yield* idStrategy(target, table)
    if (strategy === "sequence") {
      const allocated = yield* sql<{ readonly id: unknown }>`SELECT nextval(pg_get_serial_sequence(${`"${table.name}"`}, 'id')) AS id
FROM generate_series(1, ${pending.length})`
      const ids = allocated.map((row) => Number(row.id)).sort((a, b) => a - b)
      pending.forEach((row, index) => known.set(row.sourceId, ids[index]!))
      for (const chunk of bySize(pending)) {
        yield* sql`INSERT INTO ${tableName} ${
          sql.insert(chunk.map((row) => ({ id: known.get(row.sourceId)!, ...rowValues(row, parentOf(row)) })))
        }`
      }
    } else if (strategy === "consecutive") {
      for (const chunk of bySize(pending)) {
        const header = yield* sql`INSERT INTO ${tableName} ${sql.insert(chunk.map((row) => rowValues(row, parentOf(row))))}`.raw
        const first = Number((header as { readonly insertId: number | string }).insertId)
        chunk.forEach((row, index) => known.set(row.sourceId, first + index))
      }
      const children = pending.filter((row) => row.parentSourceId !== null && inBatch.has(row.parentSourceId))
      if (children.length > 0) {
        const cases = sql.join(" ", false)(
          children.map((row) => sql`WHEN ${known.get(row.sourceId)!} THEN ${parentOf(row)}`)
        )
        yield* sql`UPDATE ${tableName} SET ${sql("parentId")} = CASE ${sql("id")} ${cases} END WHERE ${
          sql.in("id", children.map((row) => known.get(row.sourceId)!))
        }`
      }
    } else {
      for (const row of pending) known.set(row.sourceId, yield* insertOne(rowValues(row, parentOf(row))))
    }
    yield* sql`INSERT INTO ${sql(LEDGER_TABLE)} ${
      sql.insert(pending.map((row) => ({
        sourceKey: key,
        tableName: table.name,
        sourceId: row.sourceId,
        targetId: known.get(row.sourceId)!
      })))
    }`
    return { written: pending.length, skipped, orphans }
  }))
}
