/**
 * Lineage: a checkpoint's ancestors through `parentId`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { parseCheckpointId } from "../internal/checkpointId.js"
import type { CheckpointStatements } from "./CheckpointStatements.js"
import type { CheckpointTable, ListItemOf } from "./CheckpointTables.js"

/**
 * @since 0.1.0
 */
export const makeCheckpointLineage = <T extends CheckpointTable>(statements: CheckpointStatements<T>) => {
  const { sql, table, tableName } = statements
  const qualified = sql.csv(table.listColumns.map((column) => sql`${sql(`${table.name}.${column}`)}`))

  /** The checkpoint and its ancestors, from it back to the root (empty when there is no such checkpoint). Walked by
   * a recursive query; MySQL stops at its cte_max_recursion_depth (1000 by default), MariaDB has no such limit. */
  const ancestry = (operation: string, id: string) =>
    Option.match(parseCheckpointId(id), {
      onNone: () => Effect.succeed<ReadonlyArray<ListItemOf<T>>>([]),
      onSome: (rowId) =>
        statements.run(
          operation,
          sql`WITH RECURSIVE ${sql("lineage")} (${sql("id")}, ${sql("parentId")}, ${sql("depth")}) AS (
  SELECT ${sql("id")}, ${sql("parentId")}, 0 FROM ${tableName} WHERE ${sql("id")} = ${rowId}
  UNION ALL
  SELECT ${sql("child.id")}, ${sql("child.parentId")}, ${sql("lineage.depth")} + 1
  FROM ${tableName} ${sql("child")} JOIN ${sql("lineage")} ON ${sql("child.id")} = ${sql("lineage.parentId")}
)
SELECT ${qualified} FROM ${sql("lineage")} JOIN ${tableName} ON ${sql(`${table.name}.id`)} = ${sql("lineage.id")}
ORDER BY ${sql("lineage.depth")}`
        ).pipe(Effect.flatMap(statements.toListItems(operation)))
    })

  return { ancestry }
}
