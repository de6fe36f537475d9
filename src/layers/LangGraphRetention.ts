/**
 * Retention for LangGraph threads: which checkpoints a policy removes, and the channel values no checkpoint left
 * names.
 *
 * @since 0.2.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { LangGraphPrunePlan, LangGraphPruneResult } from "../services/LangGraphCheckpoints.js"
import { LangGraphTables } from "./LangGraphMigrations.js"
import type { CheckpointKey, ChannelValueKey, LangGraphStatements } from "./LangGraphStatements.js"

/**
 * A validated policy.
 *
 * @internal
 */
export interface LangGraphPrunePolicy {
  readonly keepLastPerThread?: number | undefined
  readonly maxAge?: Duration.DurationInput | undefined
  readonly includeNewest?: boolean | undefined
  readonly threadId?: string | undefined
}

/** Checkpoints removed per transaction. */
const BATCH_SIZE = 500

/** Channel values removed per statement. */
const VALUE_BATCH_SIZE = 200

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const result: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size))
  return result
}

/**
 * The versions a checkpoint document names, as `channel` → version text (the form channel values are stored under).
 *
 * @internal
 */
export const channelVersionsOf = (checkpoint: string): ReadonlyArray<readonly [channel: string, version: string]> => {
  const document = JSON.parse(checkpoint) as { readonly channel_versions?: Record<string, string | number> | null }
  return Object.entries(document.channel_versions ?? {}).map(([channel, version]) => [channel, String(version)])
}

// The checkpoints the policy removes, as a query over the ranked checkpoints of `scope`, with `keep` negating it.
const policyQuery = (sql: SqlClient.SqlClient, policy: LangGraphPrunePolicy, now: number) => {
  const cutoff = policy.maxAge === undefined ? undefined : now - Duration.toMillis(Duration.decode(policy.maxAge))
  // The newest checkpoint of a thread's namespace is position 1; maxAge spares it unless told otherwise.
  const rules = sql.or([
    ...(policy.keepLastPerThread === undefined ? [] : [sql`position > ${policy.keepLastPerThread}`]),
    ...(cutoff === undefined ? [] : [sql`(created_at < ${cutoff} AND position > ${policy.includeNewest === true ? 0 : 1})`])
  ])
  const ranked = (scope: Statement.Fragment, document: boolean) =>
    sql`SELECT thread_id, checkpoint_ns, checkpoint_id, ${sql.literal(document ? "checkpoint, " : "")}created_at,
    ROW_NUMBER() OVER (PARTITION BY thread_id, checkpoint_ns ORDER BY checkpoint_id DESC) AS position
  FROM ${sql(LangGraphTables.checkpoints)} ${scope}`
  const threadScope = policy.threadId === undefined ? sql.literal("") : sql`WHERE thread_id = ${policy.threadId}`
  return {
    /** Every checkpoint the policy removes. */
    removed: sql`SELECT thread_id, checkpoint_ns, checkpoint_id FROM (${ranked(threadScope, false)}) ranked WHERE ${rules}`,
    /** The documents of one namespace's checkpoints the policy keeps. */
    kept: (threadId: string, checkpointNs: string) =>
      sql<{ readonly checkpoint: string }>`SELECT checkpoint FROM (${
        ranked(sql`WHERE thread_id = ${threadId} AND checkpoint_ns = ${checkpointNs}`, true)
      }) ranked WHERE NOT ${rules}`
  }
}

type Namespace = { readonly threadId: string; readonly checkpointNs: string }

// The stored channel values of a namespace that none of the documents names; none when one cannot be read.
const unnamedValues = (
  sql: SqlClient.SqlClient,
  { checkpointNs, threadId }: Namespace,
  documents: ReadonlyArray<{ readonly checkpoint: string }>
): Effect.Effect<ReadonlyArray<ChannelValueKey>, SqlError> => {
  const live = liveVersions(documents.map((row) => row.checkpoint))
  // A document that cannot be read may name every value: the namespace's values are kept.
  if (live === undefined) return Effect.succeed([])
  return Effect.map(
    sql<{ readonly channel: string; readonly version: string }>`SELECT channel, version FROM ${
      sql(LangGraphTables.channelValues)
    } WHERE thread_id = ${threadId} AND checkpoint_ns = ${checkpointNs}`,
    (stored) =>
      stored
        .filter((row) => !live.has(`${row.channel}\u0000${row.version}`))
        .map((row) => ({ threadId, checkpointNs, channel: row.channel, version: row.version }))
  )
}

/**
 * What the policy would remove, per thread, without removing it: the same rules as {@link pruneLangGraph}.
 *
 * @internal
 */
export const planLangGraphPrune = (
  sql: SqlClient.SqlClient,
  policy: LangGraphPrunePolicy
): Effect.Effect<LangGraphPrunePlan, SqlError> =>
  Effect.gen(function*() {
    const query = policyQuery(sql, policy, yield* Clock.currentTimeMillis)
    const namespaces = yield* sql<{ readonly thread_id: string; readonly checkpoint_ns: string; readonly removed: number }>`
SELECT thread_id, checkpoint_ns, COUNT(*) AS removed FROM (${query.removed}) victims
GROUP BY thread_id, checkpoint_ns ORDER BY thread_id, checkpoint_ns`
    const writeCounts = yield* sql<{ readonly thread_id: string; readonly removed: number }>`
SELECT victims.thread_id, COUNT(*) AS removed FROM (${query.removed}) victims
JOIN ${sql(LangGraphTables.writes)} w ON w.thread_id = victims.thread_id AND w.checkpoint_ns = victims.checkpoint_ns
  AND w.checkpoint_id = victims.checkpoint_id
GROUP BY victims.thread_id`
    const threads = new Map<string, { threadId: string; checkpoints: number; writes: number; channelValues: number }>()
    for (const row of namespaces) {
      const thread = threads.get(row.thread_id) ?? { threadId: row.thread_id, checkpoints: 0, writes: 0, channelValues: 0 }
      const namespace = { threadId: row.thread_id, checkpointNs: row.checkpoint_ns }
      thread.checkpoints += Number(row.removed)
      thread.channelValues += (yield* unnamedValues(sql, namespace, yield* query.kept(namespace.threadId, namespace.checkpointNs))).length
      threads.set(row.thread_id, thread)
    }
    for (const row of writeCounts) {
      const thread = threads.get(row.thread_id)
      if (thread !== undefined) thread.writes += Number(row.removed)
    }
    const perThread = [...threads.values()]
    const total = (field: "checkpoints" | "writes" | "channelValues") =>
      perThread.reduce((sum, thread) => sum + thread[field], 0)
    return {
      checkpoints: total("checkpoints"),
      writes: total("writes"),
      channelValues: total("channelValues"),
      threads: perThread
    }
  })

/**
 * Removes what the policy says, a batch of checkpoints per transaction (their writes with them), then the channel
 * values of the affected threads that no remaining checkpoint names.
 *
 * @internal
 */
export const pruneLangGraph = (
  sql: SqlClient.SqlClient,
  statements: LangGraphStatements,
  policy: LangGraphPrunePolicy
): Effect.Effect<LangGraphPruneResult, SqlError> =>
  Effect.gen(function*() {
    const { channelValues, checkpoints, writes } = LangGraphTables
    const query = policyQuery(sql, policy, yield* Clock.currentTimeMillis)
    const selectBatch = sql<{ readonly thread_id: string; readonly checkpoint_ns: string; readonly checkpoint_id: string }>`
${query.removed} LIMIT ${sql.literal(String(BATCH_SIZE))}`
    const countDeleted = (statement: Statement.Statement<unknown>) =>
      sql.onDialectOrElse({
        mysql: () =>
          Effect.map(statement.raw, (header) => Number((header as { readonly affectedRows?: number }).affectedRows ?? 0)),
        orElse: () => Effect.map(sql`${statement} RETURNING 1 AS removed`, (rows) => rows.length)
      })

    const affected = new Map<string, Namespace>()
    let removedCheckpoints = 0
    let removedWrites = 0
    while (true) {
      const batch = yield* selectBatch
      if (batch.length === 0) break
      const keys: Array<CheckpointKey> = batch.map((row) => ({
        threadId: row.thread_id,
        checkpointNs: row.checkpoint_ns,
        checkpointId: row.checkpoint_id
      }))
      for (const key of keys) {
        affected.set(`${key.threadId}\u0000${key.checkpointNs}`, key)
      }
      const [writesRemoved, checkpointsRemoved] = yield* sql.withTransaction(Effect.all([
        countDeleted(sql`DELETE FROM ${sql(writes)} WHERE ${statements.checkpointsIn(keys)}`),
        countDeleted(sql`DELETE FROM ${sql(checkpoints)} WHERE ${statements.checkpointsIn(keys)}`)
      ]))
      removedWrites += writesRemoved
      removedCheckpoints += checkpointsRemoved
      if (batch.length < BATCH_SIZE) break
    }

    let removedValues = 0
    for (const namespace of affected.values()) {
      const remaining = yield* sql<{ readonly checkpoint: string }>`SELECT checkpoint FROM ${sql(checkpoints)}
WHERE thread_id = ${namespace.threadId} AND checkpoint_ns = ${namespace.checkpointNs}`
      const dead = yield* unnamedValues(sql, namespace, remaining)
      for (const chunk of chunks(dead, VALUE_BATCH_SIZE)) {
        removedValues += yield* countDeleted(sql`DELETE FROM ${sql(channelValues)} WHERE ${statements.valuesIn(chunk)}`)
      }
    }
    return { checkpoints: removedCheckpoints, writes: removedWrites, channelValues: removedValues }
  })

// The (channel, version) pairs the documents name, or undefined when one of them cannot be read.
const liveVersions = (documents: ReadonlyArray<string>): Set<string> | undefined => {
  const live = new Set<string>()
  try {
    for (const document of documents) {
      for (const [channel, version] of channelVersionsOf(document)) live.add(`${channel}\u0000${version}`)
    }
  } catch {
    return undefined
  }
  return live
}
