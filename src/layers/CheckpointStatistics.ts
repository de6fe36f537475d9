/**
 * The size and age of one table, as a whole and per session.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { SessionStatistics, TableStatistics } from "../schema/CheckpointQuery.js"
import type { CheckpointStatements } from "./CheckpointStatements.js"
import { NumberColumn } from "./CheckpointTables.js"

const TableStatisticsRow = Schema.Struct({
  count: NumberColumn,
  totalBytes: Schema.OptionFromNullOr(NumberColumn),
  largestBytes: Schema.OptionFromNullOr(NumberColumn),
  oldest: Schema.OptionFromNullOr(NumberColumn),
  newest: Schema.OptionFromNullOr(NumberColumn)
})

const SessionStatisticsRows = Schema.Array(Schema.Struct({
  sessionId: Schema.String,
  count: NumberColumn,
  totalBytes: Schema.OptionFromNullOr(NumberColumn),
  oldest: NumberColumn,
  newest: NumberColumn
}))

/**
 * @since 0.1.0
 */
export const makeCheckpointStatistics = (statements: CheckpointStatements) => {
  const { sql, tableName } = statements

  /** Count, total and largest state size, oldest and newest createdAt. */
  const ofTable = (operation: string) =>
    statements.run(
      operation,
      sql<Record<string, unknown>>`SELECT COUNT(*) AS ${sql("count")}, SUM(${sql("sizeBytes")}) AS ${sql("totalBytes")},
MAX(${sql("sizeBytes")}) AS ${sql("largestBytes")}, MIN(${sql("createdAt")}) AS ${sql("oldest")},
MAX(${sql("createdAt")}) AS ${sql("newest")} FROM ${tableName}`
    ).pipe(
      Effect.flatMap((rows) => Effect.mapError(Schema.decodeUnknown(TableStatisticsRow)(rows[0]), statements.unexpectedRow(operation))),
      Effect.map((row): TableStatistics => ({
        count: row.count,
        totalBytes: Option.getOrElse(row.totalBytes, () => 0),
        largestBytes: Option.getOrElse(row.largestBytes, () => 0),
        oldestCreatedAt: row.oldest,
        newestCreatedAt: row.newest
      }))
    )

  /** The sessions with the most recent checkpoints first, at most `limit` of them. */
  const perSession = (operation: string, limit: number) =>
    statements.run(
      operation,
      sql<Record<string, unknown>>`SELECT ${sql("sessionId")}, COUNT(*) AS ${sql("count")}, SUM(${sql("sizeBytes")}) AS ${
        sql("totalBytes")
      }, MIN(${sql("createdAt")}) AS ${sql("oldest")}, MAX(${sql("createdAt")}) AS ${sql("newest")}
FROM ${tableName} GROUP BY ${sql("sessionId")} ORDER BY ${sql("newest")} DESC, ${sql("sessionId")} ${statements.limitClause(limit)}`
    ).pipe(
      Effect.flatMap((rows) => Effect.mapError(Schema.decodeUnknown(SessionStatisticsRows)(rows), statements.unexpectedRow(operation))),
      Effect.map((rows): ReadonlyArray<SessionStatistics> =>
        rows.map((row) => ({
          sessionId: row.sessionId,
          count: row.count,
          totalBytes: Option.getOrElse(row.totalBytes, () => 0),
          oldestCreatedAt: row.oldest,
          newestCreatedAt: row.newest
        }))
      )
    )

  return { ofTable, perSession }
}
