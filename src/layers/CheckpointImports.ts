/**
 * Bulk writes of checkpoints that come from elsewhere (an export file, another database): validated and measured as
 * a store is, written in multi-row INSERTs with their own `createdAt`, their parents mapped to the new ids, and
 * recorded in the import ledger so that an import can resume and never writes a checkpoint of a source twice.
 *
 * @since 0.1.0
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import type { ImportPosition, ImportResult } from "../schema/CheckpointImport.js"
import { IMPORT_LEDGER_TABLE } from "./CheckpointMigrations.js"
import type { CheckpointInserts, CheckpointRow } from "./CheckpointInserts.js"
import type { CheckpointStatements } from "./CheckpointStatements.js"

/**
 * One checkpoint to import, validated and encoded: its row and the ids it had in its source.
 *
 * @since 0.1.0
 */
export interface ImportRow {
  readonly sourceId: number
  readonly sourceParentId: number | undefined
  readonly row: CheckpointRow
}

/** A multi-row INSERT carries at most this many rows and bytes of state (under MySQL's max_allowed_packet). */
const MAX_STATEMENT_ROWS = 500
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024

/** The ledger's key of a source: a fixed-size digest of the name the caller gives it. */
const sourceKeyOf = (source: string): string => Crypto.createHash("sha256").update(source).digest("hex")

/**
 * @since 0.1.0
 */
export const makeCheckpointImports = (statements: CheckpointStatements, inserts: CheckpointInserts) => {
  const { sql, table } = statements
  const ledger = sql(IMPORT_LEDGER_TABLE)

  // The statements of one call: as many rows as fit (rows and bytes) in each.
  const statementsOf = (rows: ReadonlyArray<ImportRow>): Array<Array<ImportRow>> => {
    const groups: Array<Array<ImportRow>> = []
    let current: Array<ImportRow> = []
    let bytes = 0
    for (const row of rows) {
      const size = row.row.sizeBytes as number
      if (current.length > 0 && (current.length >= MAX_STATEMENT_ROWS || bytes + size > MAX_STATEMENT_BYTES)) {
        groups.push(current)
        current = []
        bytes = 0
      }
      current.push(row)
      bytes += size
    }
    if (current.length > 0) groups.push(current)
    return groups
  }

  // Sets the parents written in the same call, once every row has its id: one UPDATE per statement's worth of rows.
  // (A checkpoint's history is a chain, each continuing the one before: writing a row only after its parent would
  // make a statement per row.)
  // PostgreSQL types a bare parameter in THEN as text: it is cast to the column's type there.
  const parentValue = sql.onDialectOrElse({
    pg: () => (id: number) => sql`CAST(${id} AS BIGINT)`,
    orElse: () => (id: number) => sql`${id}`
  })
  const setParents = (children: ReadonlyArray<readonly [id: number, parentId: number]>) =>
    Effect.forEach(
      Array.from({ length: Math.ceil(children.length / MAX_STATEMENT_ROWS) }, (_, index) =>
        children.slice(index * MAX_STATEMENT_ROWS, (index + 1) * MAX_STATEMENT_ROWS)),
      (chunk) =>
        sql`UPDATE ${statements.tableName} SET ${sql("parentId")} = CASE ${sql("id")} ${
          sql.join(" ", false)(chunk.map(([id, parentId]) => sql`WHEN ${id} THEN ${parentValue(parentId)}`))
        } END WHERE ${sql.in("id", chunk.map(([id]) => id))}`,
      { discard: true }
    )

  /**
   * Writes the rows not yet imported from `source`, inside the caller's transaction. A parent is found if the target
   * holds it from this source (an earlier call, an earlier run) or if this call writes it; otherwise the checkpoint
   * is written without a parent and counted as an orphan.
   */
  const write = (source: string, rows: ReadonlyArray<ImportRow>): Effect.Effect<ImportResult, SqlError> =>
    Effect.gen(function*() {
      if (rows.length === 0) return { written: 0, skipped: 0, orphans: 0, ids: [] }
      const key = sourceKeyOf(source)
      const wanted = new Set<number>()
      for (const row of rows) {
        wanted.add(row.sourceId)
        if (row.sourceParentId !== undefined) wanted.add(row.sourceParentId)
      }
      const known = new Map<number, number>()
      const entries = yield* sql<{ readonly sourceId: unknown; readonly targetId: unknown }>`SELECT ${sql("sourceId")}, ${
        sql("targetId")
      } FROM ${ledger} WHERE ${sql("sourceKey")} = ${key} AND ${sql("tableName")} = ${table.name} AND ${
        sql.in("sourceId", [...wanted])
      }`
      for (const entry of entries) known.set(Number(entry.sourceId), Number(entry.targetId))
      // What this call writes: each source id once, in source order.
      const inThisCall = new Set<number>()
      const pending = [...rows]
        .sort((a, b) => a.sourceId - b.sourceId)
        .filter((row) => !known.has(row.sourceId) && !inThisCall.has(row.sourceId) && inThisCall.add(row.sourceId))
      // A parent imported earlier may have been deleted since (by hand, by retention): its entry stays in the ledger
      // (the checkpoint was imported), but a child must not point at it.
      const parents = [...new Set(rows.flatMap((row) => {
        const target = row.sourceParentId === undefined ? undefined : known.get(row.sourceParentId)
        return target === undefined ? [] : [target]
      }))]
      const present = parents.length === 0 ? new Set<number>() : new Set(
        (yield* sql<{ readonly id: unknown }>`SELECT ${sql("id")} FROM ${statements.tableName} WHERE ${sql.in("id", parents)}`)
          .map((row) => Number(row.id))
      )
      const heldParent = (sourceParentId: number): number | undefined => {
        const target = known.get(sourceParentId)
        return target !== undefined && present.has(target) ? target : undefined
      }
      let orphans = 0
      for (const group of statementsOf(pending)) {
        const ids = yield* inserts.insertAll(
          group.map((entry) => ({
            ...entry.row,
            parentId: entry.sourceParentId === undefined ? null : heldParent(entry.sourceParentId) ?? null
          }))
        )
        group.forEach((entry, index) => known.set(entry.sourceId, Number(ids[index])))
      }
      const children: Array<readonly [number, number]> = []
      for (const entry of pending) {
        if (entry.sourceParentId === undefined || heldParent(entry.sourceParentId) !== undefined) continue
        if (inThisCall.has(entry.sourceParentId)) {
          children.push([known.get(entry.sourceId)!, known.get(entry.sourceParentId)!])
        } else {
          orphans++
        }
      }
      yield* setParents(children)
      if (pending.length > 0) {
        yield* sql`INSERT INTO ${ledger} ${
          sql.insert(pending.map((row) => ({
            sourceKey: key,
            tableName: table.name,
            sourceId: row.sourceId,
            targetId: known.get(row.sourceId)!
          })))
        }`
      }
      return {
        written: pending.length,
        skipped: rows.length - pending.length,
        orphans,
        ids: rows.map((row) => ({ sourceId: String(row.sourceId), id: String(known.get(row.sourceId)!) }))
      }
    })

  /** How much of `source` this table holds: how many of its checkpoints, and the highest source id among them. */
  const position = (operation: string, source: string) =>
    Effect.map(
      statements.run(
        operation,
        sql<{ readonly n: unknown; readonly last: unknown }>`SELECT COUNT(*) AS ${sql("n")}, MAX(${sql("sourceId")}) AS ${
          sql("last")
        } FROM ${ledger} WHERE ${sql("sourceKey")} = ${sourceKeyOf(source)} AND ${sql("tableName")} = ${table.name}`
      ),
      (found): ImportPosition => {
        const last = found[0]?.last
        return {
          imported: Number(found[0]?.n ?? 0),
          lastSourceId: last === null || last === undefined ? Option.none() : Option.some(String(last))
        }
      }
    )

  return { write, position }
}

/**
 * @since 0.1.0
 */
export type CheckpointImports = ReturnType<typeof makeCheckpointImports>
