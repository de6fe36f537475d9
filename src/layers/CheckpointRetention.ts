/**
 * Retention, the one rule for stores, `prune` and the CLI: which checkpoints a policy removes, and removing them.
 *
 * A table's rules (the policy's shared rules, overridden by the table's own section) apply one after another, in
 * this order: keep the newest N per session, then (of what is left) the newest N per agent, then the newest N of the
 * table, then remove what is older than `maxAge` (sparing each agent's newest, if asked). Each rule numbers the rows
 * of each key newest first (createdAt, then id) and removes those past its limit. Removing some of a rule's rows
 * never changes which other rows that rule removes (the rows it keeps are the newest of their key), so a rule can be
 * applied in batches and a batch retried; the next rule sees only what the previous one kept.
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
import type { Deleted } from "./BatchDelete.js"
import type { CheckpointStatements } from "./CheckpointStatements.js"
import type { CheckpointTable, ListItemOf } from "./CheckpointTables.js"

/** One rule of a policy, as this table applies it. A KeepLast rule without a column keeps the table's newest N. */
type RetentionRule =
  | { readonly _tag: "KeepLast"; readonly column: string | undefined; readonly keep: number }
  | { readonly _tag: "MaxAge"; readonly maxAgeMillis: number; readonly sparingNewestOf: string | undefined }

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
  const { sql, table, tableName, newestFirst } = statements

  /** The rules of `policy` that concern this table, in the order they apply. */
  const rulesOf = (policy: RetentionPolicy): ReadonlyArray<RetentionRule> => {
    const section: Record<string, unknown> = policy[table.retentionSection] ?? {}
    const rule = <K extends "keepLastPerSession" | "keepLastPerAgent" | "maxAge">(name: K) =>
      (section[name] ?? policy[name]) as RetentionPolicy[K]
    const rules: Array<RetentionRule> = []
    for (const [name, column] of table.keepLastRules) {
      const keep = rule(name)
      if (keep !== undefined) rules.push({ _tag: "KeepLast", column, keep })
    }
    if (typeof section.keepLast === "number") rules.push({ _tag: "KeepLast", column: undefined, keep: section.keepLast })
    const maxAge = rule("maxAge")
    if (maxAge !== undefined) {
      const sparing = section.maxAgeSparesNewestPerAgent === true ? table.maxAgeSparingColumn : undefined
      rules.push({ _tag: "MaxAge", maxAgeMillis: Duration.toMillis(maxAge), sparingNewestOf: sparing })
    }
    return rules
  }

  // Each row's place among the rows of its key (or of the whole source), newest first.
  const positionIn = (column: string | undefined) =>
    sql`ROW_NUMBER() OVER (${column === undefined ? sql`` : sql`PARTITION BY ${sql(column)} `}${newestFirst}) AS ${
      sql("position")
    }`

  // The ids a rule removes from `source` (the table, or a derived table of the rows earlier rules kept), as a query
  // of one `id` column.
  const removedBy = (rule: RetentionRule, source: Statement.Fragment, now: number, scope: Statement.Fragment) => {
    if (rule._tag === "KeepLast") {
      return sql`SELECT ${sql("id")} FROM (
  SELECT ${sql("id")}, ${positionIn(rule.column)} FROM ${source} ${sql("numbered")} ${scope}
) ${sql("ranked")} WHERE ${sql("position")} > ${rule.keep}`
    }
    const cutoff = now - rule.maxAgeMillis
    return rule.sparingNewestOf === undefined
      ? sql`SELECT ${sql("id")} FROM ${source} ${sql("aged")} WHERE ${sql("createdAt")} < ${cutoff}`
      : sql`SELECT ${sql("id")} FROM (
  SELECT ${sql("id")}, ${sql("createdAt")}, ${positionIn(rule.sparingNewestOf)} FROM ${source} ${sql("numbered")}
) ${sql("ranked")} WHERE ${sql("createdAt")} < ${cutoff} AND ${sql("position")} > 1`
  }

  // The rows a rule keeps of `source`, with the columns later rules need.
  const keptColumns = sql.csv(
    ["id", "createdAt", ...table.keepLastRules.map(([, column]) => column)].map((column) => sql`${sql(column)}`)
  )
  const wholeTable = sql`${tableName}`
  const keptBy = (rule: RetentionRule, source: Statement.Fragment, now: number) => {
    if (rule._tag === "KeepLast") {
      return sql`(SELECT ${keptColumns} FROM (
  SELECT ${keptColumns}, ${positionIn(rule.column)} FROM ${source} ${sql("numbered")}
) ${sql("ranked")} WHERE ${sql("position")} <= ${rule.keep})`
    }
    const cutoff = now - rule.maxAgeMillis
    return rule.sparingNewestOf === undefined
      ? sql`(SELECT ${keptColumns} FROM ${source} ${sql("aged")} WHERE ${sql("createdAt")} >= ${cutoff})`
      : sql`(SELECT ${keptColumns} FROM (
  SELECT ${keptColumns}, ${positionIn(rule.sparingNewestOf)} FROM ${source} ${sql("numbered")}
) ${sql("ranked")} WHERE ${sql("createdAt")} >= ${cutoff} OR ${sql("position")} = 1)`
  }

  const scopeClause = (scope: RetentionScope | undefined, column: string | undefined) =>
    scope === undefined || column === undefined || scope[column] === undefined
      ? sql``
      : sql`WHERE ${sql(column)} = ${scope[column] as string}`

  /**
   * Applies the policy: each rule in turn, in DELETEs of at most `batchSize` rows, calling `onBatch` with the total
   * removed so far after each. With a scope, the keep-last rules of a key look only at the rows of that key (a
   * store's). With `atomicRules`, each rule is one transaction. With `measure`, the bytes removed are counted too.
   */
  const apply = <E = never>(
    policy: RetentionPolicy,
    options: {
      readonly batchSize: number
      readonly scope?: RetentionScope | undefined
      readonly atomicRules?: boolean | undefined
      readonly measure?: boolean | undefined
      readonly onBatch?: ((deleted: number) => Effect.Effect<void, E>) | undefined
    }
  ): Effect.Effect<Deleted, SqlError | E> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      let count = 0
      let bytes = 0
      for (const rule of rulesOf(policy)) {
        const scope = rule._tag === "KeepLast" ? scopeClause(options.scope, rule.column) : sql``
        const before = count
        const deleted = yield* statements.deleteSelected(removedBy(rule, wholeTable, now, scope), {
          batchSize: options.batchSize,
          atomic: options.atomicRules,
          measure: options.measure,
          onBatch: options.onBatch === undefined ? undefined : (removed: number) => options.onBatch!(before + removed)
        })
        count += deleted.count
        bytes += deleted.bytes
      }
      return { count, bytes }
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
