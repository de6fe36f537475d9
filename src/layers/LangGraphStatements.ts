/**
 * The statements of the LangGraph tables, with each dialect difference a small named value.
 *
 * @since 0.2.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import { LangGraphTables } from "./LangGraphMigrations.js"

/**
 * A row of `langgraph_checkpoints`, with the metadata as JSON text.
 *
 * @internal
 */
export interface CheckpointRow {
  readonly thread_id: string
  readonly checkpoint_ns: string
  readonly checkpoint_id: string
  readonly parent_checkpoint_id: string | null
  readonly checkpoint: string
  readonly metadata: string
  readonly created_at: number | string | bigint
}

/**
 * A pending write (kind 0) or a channel value (kind 1), read together in one statement.
 *
 * @internal
 */
export interface AttachmentRow {
  readonly kind: number | string
  readonly thread_id: string
  readonly checkpoint_ns: string
  readonly checkpoint_id: string
  readonly channel: string
  readonly version: string
  readonly type: string
  readonly value: Uint8Array
  readonly task_id: string
  readonly task_path: string
  readonly idx: number | string
}

/**
 * A checkpoint by its key.
 *
 * @internal
 */
export interface CheckpointKey {
  readonly threadId: string
  readonly checkpointNs: string
  readonly checkpointId: string
}

/**
 * A channel value by its key.
 *
 * @internal
 */
export interface ChannelValueKey {
  readonly threadId: string
  readonly checkpointNs: string
  readonly channel: string
  readonly version: string
}

const groupBy = <A>(items: ReadonlyArray<A>, key: (item: A) => string): Map<string, Array<A>> => {
  const groups = new Map<string, Array<A>>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group === undefined) groups.set(k, [item])
    else group.push(item)
  }
  return groups
}

// Keys of one (thread, namespace) side by side: most reads are of one thread.
const threadKey = (key: { readonly threadId: string; readonly checkpointNs: string }) =>
  `${key.threadId}\u0000${key.checkpointNs}`

/**
 * The statements, for one client.
 *
 * @internal
 */
export const makeLangGraphStatements = (sql: SqlClient.SqlClient) => {
  const { channelValues, checkpoints, writes } = LangGraphTables
  const columns = sql.onDialectOrElse({
    // jsonb comes back parsed from node-postgres: read it as the text it was given.
    pg: () => sql.literal("thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata::text AS metadata, created_at"),
    orElse: () => sql.literal("thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata, created_at")
  })
  const upsert = (conflictKey: string, updates: ReadonlyArray<string>) =>
    sql.onDialectOrElse({
      mysql: () =>
        sql.literal(`ON DUPLICATE KEY UPDATE ${
          updates.length === 0 ? "thread_id = thread_id" : updates.map((c) => `${c} = VALUES(${c})`).join(", ")
        }`),
      orElse: () =>
        sql.literal(
          updates.length === 0
            ? "ON CONFLICT DO NOTHING"
            : `ON CONFLICT (${conflictKey}) DO UPDATE SET ${updates.map((c) => `${c} = excluded.${c}`).join(", ")}`
        )
    })
  const replaceCheckpoint = upsert("thread_id, checkpoint_ns, checkpoint_id", [
    "parent_checkpoint_id",
    "checkpoint",
    "metadata",
    "created_at"
  ])
  const keepValue = upsert("thread_id, checkpoint_ns, channel, version", [])
  const keepWrite = upsert("thread_id, checkpoint_ns, checkpoint_id, task_id, idx", [])
  const replaceWrite = upsert("thread_id, checkpoint_ns, checkpoint_id, task_id, idx", [
    "task_path",
    "channel",
    "type",
    "value"
  ])
  // '$."key"' (the key has no quote or backslash: see the list query's schema).
  const metadataPath = (key: string) => `$."${key}"`
  const metadataEquals = (key: string, value: unknown): Statement.Fragment => {
    const json = JSON.stringify(value)
    return sql.onDialectOrElse({
      pg: () => sql`metadata -> ${key} = ${json}::jsonb`,
      // A scalar contains only itself: JSON_CONTAINS at the key's path is equality, with JSON's types.
      mysql: () => sql`JSON_CONTAINS(metadata, ${json}, ${metadataPath(key)})`,
      orElse: () =>
        sql`(json_type(metadata, ${metadataPath(key)}) = json_type(${json}) AND json_extract(metadata, ${
          metadataPath(key)
        }) IS json_extract(${json}, '$'))`
    })
  }

  const checkpointsIn = (keys: ReadonlyArray<CheckpointKey>) =>
    sql.or([...groupBy(keys, threadKey).values()].map((group) =>
      sql`(thread_id = ${group[0]!.threadId} AND checkpoint_ns = ${group[0]!.checkpointNs} AND ${
        sql.in("checkpoint_id", group.map((key) => key.checkpointId))
      })`
    ))
  const valuesIn = (keys: ReadonlyArray<ChannelValueKey>) =>
    sql.or([...groupBy(keys, threadKey).values()].map((group) =>
      sql`(thread_id = ${group[0]!.threadId} AND checkpoint_ns = ${group[0]!.checkpointNs} AND ${
        sql.or(group.map((key) => sql`(channel = ${key.channel} AND version = ${key.version})`))
      })`
    ))

  return {
    /**
     * Stores a checkpoint with its new channel values, atomically: on PostgreSQL one statement (the values inserted by
     * a data-modifying WITH), elsewhere a transaction of two.
     */
    putCheckpoint: (
      row: Record<string, unknown>,
      values: ReadonlyArray<Record<string, unknown>>
    ): Effect.Effect<void, SqlError> => {
      const checkpoint = sql`INSERT INTO ${sql(checkpoints)} ${sql.insert(row)} ${replaceCheckpoint}`
      if (values.length === 0) return Effect.asVoid(checkpoint)
      const storeValues = sql`INSERT INTO ${sql(channelValues)} ${sql.insert(values)} ${keepValue}`
      return sql.onDialectOrElse({
        pg: () => Effect.asVoid(sql`WITH stored_values AS (${storeValues}) ${checkpoint}`),
        orElse: () => sql.withTransaction(Effect.asVoid(Effect.zipRight(storeValues, checkpoint)))
      })
    },
    insertWrites: (rows: ReadonlyArray<Record<string, unknown>>, replace: boolean) =>
      sql`INSERT INTO ${sql(writes)} ${sql.insert(rows)} ${replace ? replaceWrite : keepWrite}`,

    selectCheckpoint: (threadId: string, checkpointNs: string, checkpointId: string | undefined) =>
      checkpointId === undefined
        ? sql<CheckpointRow>`SELECT ${columns} FROM ${sql(checkpoints)}
WHERE thread_id = ${threadId} AND checkpoint_ns = ${checkpointNs} ORDER BY checkpoint_id DESC LIMIT 1`
        : sql<CheckpointRow>`SELECT ${columns} FROM ${sql(checkpoints)}
WHERE thread_id = ${threadId} AND checkpoint_ns = ${checkpointNs} AND checkpoint_id = ${checkpointId}`,

    /** A page of the list, newest first; `after` is the last checkpoint of the page before. */
    selectPage: (options: {
      readonly threadId?: string | undefined
      readonly checkpointNs?: string | undefined
      readonly checkpointId?: string | undefined
      readonly before?: string | undefined
      readonly filter?: Readonly<Record<string, unknown>> | undefined
      readonly after?: CheckpointKey | undefined
      readonly limit: number
    }) => {
      const { after } = options
      const conditions: Array<Statement.Fragment> = [
        ...(options.threadId === undefined ? [] : [sql`thread_id = ${options.threadId}`]),
        ...(options.checkpointNs === undefined ? [] : [sql`checkpoint_ns = ${options.checkpointNs}`]),
        ...(options.checkpointId === undefined ? [] : [sql`checkpoint_id = ${options.checkpointId}`]),
        ...(options.before === undefined ? [] : [sql`checkpoint_id < ${options.before}`]),
        ...Object.entries(options.filter ?? {}).map(([key, value]) => metadataEquals(key, value)),
        ...(after === undefined ? [] : [
          sql`(checkpoint_id < ${after.checkpointId} OR (checkpoint_id = ${after.checkpointId} AND (thread_id < ${after.threadId} OR (thread_id = ${after.threadId} AND checkpoint_ns < ${after.checkpointNs}))))`
        ])
      ]
      return sql<CheckpointRow>`SELECT ${columns} FROM ${sql(checkpoints)} WHERE ${sql.and(conditions)}
ORDER BY checkpoint_id DESC, thread_id DESC, checkpoint_ns DESC LIMIT ${sql.literal(String(options.limit))}`
    },

    /**
     * The pending writes of some checkpoints and the channel values they name, in one statement: the writes first,
     * in writesSortKey order (the columns' binary collations compare by code point).
     */
    selectAttachments: (
      writesOf: ReadonlyArray<CheckpointKey>,
      values: ReadonlyArray<ChannelValueKey>
    ): Effect.Effect<ReadonlyArray<AttachmentRow>, SqlError> => {
      if (writesOf.length === 0 && values.length === 0) return Effect.succeed([])
      const writesPart = sql`SELECT 0 AS kind, thread_id, checkpoint_ns, checkpoint_id, channel, '' AS version, type, value, task_id, task_path, idx
FROM ${sql(writes)} WHERE ${checkpointsIn(writesOf)}`
      const valuesPart = sql`SELECT 1 AS kind, thread_id, checkpoint_ns, '' AS checkpoint_id, channel, version, type, value, '' AS task_id, '' AS task_path, 0 AS idx
FROM ${sql(channelValues)} WHERE value IS NOT NULL AND ${valuesIn(values)}`
      if (values.length === 0) return sql<AttachmentRow>`${writesPart} ORDER BY task_path, task_id, idx`
      if (writesOf.length === 0) return sql<AttachmentRow>`${valuesPart}`
      return sql<AttachmentRow>`${writesPart} UNION ALL ${valuesPart} ORDER BY kind, task_path, task_id, idx`
    },

    countCheckpoints: (threadId: string) =>
      Effect.map(
        sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(checkpoints)} WHERE thread_id = ${threadId}`,
        (rows) => Number(rows[0]?.n ?? 0)
      ),
    deleteThread: (threadId: string) =>
      Effect.all([
        sql`DELETE FROM ${sql(writes)} WHERE thread_id = ${threadId}`,
        sql`DELETE FROM ${sql(channelValues)} WHERE thread_id = ${threadId}`,
        sql`DELETE FROM ${sql(checkpoints)} WHERE thread_id = ${threadId}`
      ], { discard: true }),

    selectThreads: (after: string | undefined, limit: number) =>
      sql<{
        readonly thread_id: string
        readonly checkpoints: number | string
        readonly namespaces: number | string
        readonly latest: string
        readonly first_at: number | string
        readonly last_at: number | string
      }>`SELECT thread_id, COUNT(*) AS checkpoints, COUNT(DISTINCT checkpoint_ns) AS namespaces,
MAX(checkpoint_id) AS latest, MIN(created_at) AS first_at, MAX(created_at) AS last_at
FROM ${sql(checkpoints)} ${after === undefined ? sql.literal("") : sql`WHERE thread_id > ${after}`}
GROUP BY thread_id ORDER BY thread_id LIMIT ${sql.literal(String(limit))}`,

    checkpointsIn,
    valuesIn
  }
}

/**
 * @internal
 */
export type LangGraphStatements = ReturnType<typeof makeLangGraphStatements>
