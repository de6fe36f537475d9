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
import type { LangGraphPruneResult } from "../services/LangGraphCheckpoints.js"
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
    const now = yield* Clock.currentTimeMillis
    const cutoff = policy.maxAge === undefined ? undefined : now - Duration.toMillis(Duration.decode(policy.maxAge))
    // The newest checkpoint of a thread's namespace is position 1; maxAge spares it unless told otherwise.
    const rules: Array<Statement.Fragment> = [
      ...(policy.keepLastPerThread === undefined ? [] : [sql`position > ${policy.keepLastPerThread}`]),
      ...(cutoff === undefined
        ? []
        : [sql`(created_at < ${cutoff} AND position > ${policy.includeNewest === true ? 0 : 1})`])
    ]
    const scope = policy.threadId === undefined ? sql.literal("") : sql`WHERE thread_id = ${policy.threadId}`
    const selectBatch = sql<{ readonly thread_id: string; readonly checkpoint_ns: string; readonly checkpoint_id: string }>`
SELECT thread_id, checkpoint_ns, checkpoint_id FROM (
  SELECT thread_id, checkpoint_ns, checkpoint_id, created_at,
    ROW_NUMBER() OVER (PARTITION BY thread_id, checkpoint_ns ORDER BY checkpoint_id DESC) AS position
  FROM ${sql(checkpoints)} ${scope}
) ranked WHERE ${sql.or(rules)} LIMIT ${sql.literal(String(BATCH_SIZE))}`
    const countDeleted = (statement: Statement.Statement<unknown>) =>
      sql.onDialectOrElse({
        mysql: () =>
          Effect.map(statement.raw, (header) => Number((header as { readonly affectedRows?: number }).affectedRows ?? 0)),
        orElse: () => Effect.map(sql`${statement} RETURNING 1 AS removed`, (rows) => rows.length)
      })

    const affected = new Map<string, { readonly threadId: string; readonly checkpointNs: string }>()
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
    for (const { checkpointNs, threadId } of affected.values()) {
      const remaining = yield* sql<{ readonly checkpoint: string }>`SELECT checkpoint FROM ${sql(checkpoints)}
WHERE thread_id = ${threadId} AND checkpoint_ns = ${checkpointNs}`
      const live = liveVersions(remaining.map((row) => row.checkpoint))
      // A document that cannot be read may name any value: the thread's values are kept.
      if (live === undefined) continue
      const stored = yield* sql<{ readonly channel: string; readonly version: string }>`SELECT channel, version FROM ${
        sql(channelValues)
      } WHERE thread_id = ${threadId} AND checkpoint_ns = ${checkpointNs}`
      const dead: Array<ChannelValueKey> = stored
        .filter((row) => !live.has(`${row.channel}\u0000${row.version}`))
        .map((row) => ({ threadId, checkpointNs, channel: row.channel, version: row.version }))
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
