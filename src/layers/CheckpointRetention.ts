/**
 * Retention, the one rule for stores, `prune` and the CLI: which checkpoints a policy removes, and removing them.
 *
 * A policy's rules apply one after another, in this order: keep the newest N per session, then (of what is left)
 * the newest N per agent, then remove what is older than `maxAge`. Each rule numbers the rows of each key newest
 * first (createdAt, then id) and removes those past its limit. Removing some of a rule's rows never changes which
 * other rows that rule removes (the rows it keeps are the newest of their key), so a rule can be applied in batches
 * and a batch retried; the next rule sees only what the previous one kept.
 *
 * @since 0.1.0
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { RetentionPolicy, TablePrunePlan } from "../schema/CheckpointQuery.js"
import type { StorageConnectionError, StorageQueryError } from "../services/CheckpointStorageError.js"
import type { CheckpointStatements } from "./CheckpointStatements.js"
import type { CheckpointTable, ListItemOf } from "./CheckpointTables.js"

/** One rule of a policy, as this table applies it. */
type RetentionRule =
  | { readonly _tag: "KeepLast"; readonly column: string; readonly keep: number }
  | { readonly _tag: "MaxAge"; readonly maxAgeMillis: number }

/** Only the rows of one key (the stored checkpoint's session or agent), for the retention of a store. */
interface RetentionScope {
  readonly [column: string]: unknown
}

/**
 * The retention of one table.
 *
 * @since 0.1.0
 */
export type CheckpointRetention<T extends CheckpointTable> = ReturnType<typeof makeCheckpointRetention<T>>

/**
 * @since 0.1.0
 */
export const makeCheckpointRetention = <T extends CheckpointTable>(statements: CheckpointStatements<T>) => {
  const { sql, table, tableName, newestFirst, deleteCounting } = statements

  /** The rules of `policy` that concern this table, in the order they apply. */
  const rulesOf = (policy: RetentionPolicy): ReadonlyArray<RetentionRule> => {
    const rules: Array<RetentionRule> = []
    for (const [rule, column] of table.keepLastRules) {
      const keep = policy[rule]
      if (keep !== undefined) rules.push({ _tag: "KeepLast", column, keep })
    }
    if (policy.maxAge !== undefined) rules.push({ _tag: "MaxAge", maxAgeMillis: Duration.toMillis(policy.maxAge) })
    return rules
  }

  // The ids a rule removes from `source` (the table, or a derived table of the rows earlier rules kept), as a query
  // of one `id` column. The numbered rows sit in a derived table so that MySQL accepts deleting from the table read.
  const removedBy = (rule: RetentionRule, source: Statement.Fragment, now: number, scope: Statement.Fragment) =>
    rule._tag === "MaxAge"
      ? sql`SELECT ${sql("id")} FROM ${source} ${sql("aged")} WHERE ${sql("createdAt")} < ${now - rule.maxAgeMillis}`
      : sql`SELECT ${sql("id")} FROM (
  SELECT ${sql("id")}, ROW_NUMBER() OVER (PARTITION BY ${sql(rule.column)} ${newestFirst}) AS ${sql("position")}
  FROM ${source} ${sql("numbered")} ${scope}
) ${sql("ranked")} WHERE ${sql("position")} > ${rule.keep}`

  // The rows a rule keeps of `source`, with the columns later rules need.
  const keptColumns = sql.csv(
    ["id", "createdAt", ...table.keepLastRules.map(([, column]) => column)].map((column) => sql`${sql(column)}`)
  )
  const wholeTable = sql`${tableName}`
  const keptBy = (rule: RetentionRule, source: Statement.Fragment, now: number) =>
    rule._tag === "MaxAge"
      ? sql`(SELECT ${keptColumns} FROM ${source} ${sql("aged")} WHERE ${sql("createdAt")} >= ${now - rule.maxAgeMillis})`
      : sql`(SELECT ${keptColumns} FROM (
  SELECT ${keptColumns}, ROW_NUMBER() OVER (PARTITION BY ${sql(rule.column)} ${newestFirst}) AS ${sql("position")}
  FROM ${source} ${sql("numbered")}
) ${sql("ranked")} WHERE ${sql("position")} <= ${rule.keep})`

  const scopeClause = (scope: RetentionScope | undefined, column: string) =>
    scope === undefined || scope[column] === undefined ? sql`` : sql`WHERE ${sql(column)} = ${scope[column] as string}`

  /**
   * Applies the policy: each rule in turn, in DELETEs of at most `batchSize` rows, calling `onBatch` with the total
   * removed so far after each. With a scope, the keep-last rules look only at the rows of that key (a store's).
   */
  const apply = <E = never>(
    policy: RetentionPolicy,
    options: {
      readonly batchSize: number
      readonly scope?: RetentionScope | undefined
      readonly onBatch?: ((deleted: number) => Effect.Effect<void, E>) | undefined
    }
  ): Effect.Effect<number, SqlError | E> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      let deleted = 0
      for (const rule of rulesOf(policy)) {
        const scope = rule._tag === "KeepLast" ? scopeClause(options.scope, rule.column) : sql``
        const batch = sql`SELECT ${sql("id")} FROM (${removedBy(rule, wholeTable, now, scope)}) ${sql("removed")}
ORDER BY ${sql("id")} LIMIT ${sql.literal(String(options.batchSize))}`
        while (true) {
          const removed = yield* deleteCounting(
            sql`DELETE FROM ${tableName} WHERE ${sql("id")} IN (SELECT ${sql("id")} FROM (${batch}) ${sql("batch")})`
          )
          deleted += removed
          if (removed > 0 && options.onBatch !== undefined) yield* options.onBatch(deleted)
          if (removed < options.batchSize) break
        }
      }
      return deleted
    })

  /** What `apply` would remove from the whole table now: how many, their bytes, and the first `sampleSize` by id. */
  const plan = (
    operation: string,
    policy: RetentionPolicy,
    sampleSize: number
  ): Effect.Effect<TablePrunePlan<ListItemOf<T>>, StorageConnectionError | StorageQueryError> =>
    Effect.gen(function*() {
      const rules = rulesOf(policy)
      if (rules.length === 0) return { count: 0, bytes: 0, sample: [] }
      const now = yield* Clock.currentTimeMillis
      let kept: Statement.Fragment = wholeTable
      for (const rule of rules) kept = keptBy(rule, kept, now)
      const removed = sql`${sql("id")} NOT IN (SELECT ${sql("id")} FROM ${kept} ${sql("kept")})`
      const totals = yield* statements.run(
        operation,
        sql<{ readonly n: unknown; readonly bytes: unknown }>`SELECT COUNT(*) AS ${sql("n")}, SUM(${sql("sizeBytes")}) AS ${
          sql("bytes")
        } FROM ${tableName} WHERE ${removed}`
      )
      const rows = sampleSize === 0 ? [] : yield* statements.run(
        operation,
        sql`SELECT ${statements.listColumns} FROM ${tableName} WHERE ${removed} ORDER BY ${sql("id")} ${
          statements.limitClause(sampleSize)
        }`
      )
      const sample = statements.toListItems(operation)(rows)
      if (Either.isLeft(sample)) return yield* sample.left
      return {
        count: Number(totals[0]?.n ?? 0),
        bytes: Number(totals[0]?.bytes ?? 0),
        sample: sample.right
      }
    })

  return { rulesOf, apply, plan }
}
