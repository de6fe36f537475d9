/**
 * The LangGraph checkpoints service over any @effect/sql `SqlClient`: one implementation for PostgreSQL,
 * MySQL/MariaDB and SQLite. Its migrations run on first use, so that the layers which provide it next to
 * CheckpointStorage create its tables only for programs that use them.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { decodeInput } from "../internal/decodeInput.js"
import * as Inputs from "../schema/LangGraphCheckpoint.js"
import { type MigrationError, StateDecodeError } from "../services/CheckpointStorageError.js"
import {
  LangGraphCheckpoints,
  type LangGraphCheckpointsService,
  type StoredLangGraphCheckpoint,
  type StoredLangGraphWrite
} from "../services/LangGraphCheckpoints.js"
import { LANGGRAPH_MIGRATIONS_TABLE, LangGraphTables, langGraphMigrations } from "./LangGraphMigrations.js"
import { channelVersionsOf, planLangGraphPrune, pruneLangGraph } from "./LangGraphRetention.js"
import {
  type ChannelValueKey,
  type CheckpointKey,
  type CheckpointRow,
  makeLangGraphStatements
} from "./LangGraphStatements.js"
import { makeLazyMigratedService } from "./LazyMigratedService.js"
import { resolveDialect } from "./SqlCheckpointStorage.js"

/**
 * @since 0.2.0
 */
export interface SqlLangGraphCheckpointsOptions {
  /** How long one operation may wait for the database; as CheckpointStorage's option of the same name. */
  readonly operationTimeout?: Duration.DurationInput | undefined
  /** Whether each SQL statement gets a span of its own inside `LangGraphCheckpoints.<operation>`; as CheckpointStorage's. */
  readonly statementSpans?: boolean | undefined
}

/** Checkpoints read per statement when listing. */
const PAGE_SIZE = 100

const validatePut = decodeInput(Inputs.LangGraphCheckpointInput, "LangGraphCheckpointInput")
const validateWrites = decodeInput(Inputs.LangGraphWritesInput, "LangGraphWritesInput")
const validateLocator = decodeInput(Inputs.LangGraphCheckpointLocator, "LangGraphCheckpointLocator")
const validateQuery = decodeInput(Inputs.LangGraphListQuery, "LangGraphListQuery")
const validateThreadId = decodeInput(Inputs.LangGraphCheckpointLocator.fields.threadId, "threadId")
const validateThreadPage = decodeInput(Inputs.LangGraphThreadPageOptions, "LangGraphThreadPageOptions")
const validatePolicy = decodeInput(Inputs.LangGraphRetentionPolicy, "LangGraphRetentionPolicy")

/**
 * Builds the service on the `SqlClient` in context. Nothing is read or written until the first operation.
 *
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function*(
  options: SqlLangGraphCheckpointsOptions = {}
): Effect.fn.Return<LangGraphCheckpointsService, MigrationError, SqlClient.SqlClient> {
  const client = yield* SqlClient.SqlClient
  const sql = client.withoutTransforms()
  const dialect = yield* resolveDialect(sql)
  const statements = makeLangGraphStatements(sql)
  const { installed, operation, setup } = yield* makeLazyMigratedService({
    service: "LangGraphCheckpoints",
    dialect,
    migrations: langGraphMigrations,
    migrationsTable: LANGGRAPH_MIGRATIONS_TABLE,
    operationTimeout: options.operationTimeout,
    statementSpans: options.statementSpans
  })

  const readDocument = (row: CheckpointRow) =>
    Effect.try({
      try: () => channelVersionsOf(row.checkpoint),
      catch: (cause) =>
        new StateDecodeError({
          table: "langgraph_checkpoints",
          id: `${row.thread_id}/${row.checkpoint_ns}/${row.checkpoint_id}`,
          cause
        })
    })

  // The rows with their channel values and pending writes, read in one statement for the whole page.
  const withAttachments = (rows: ReadonlyArray<CheckpointRow>) =>
    Effect.gen(function*() {
      if (rows.length === 0) return []
      const keys: Array<CheckpointKey> = rows.map((row) => ({
        threadId: row.thread_id,
        checkpointNs: row.checkpoint_ns,
        checkpointId: row.checkpoint_id
      }))
      const versionsOf = yield* Effect.forEach(rows, readDocument)
      const valueKeys = new Map<string, ChannelValueKey>()
      rows.forEach((row, i) => {
        for (const [channel, version] of versionsOf[i]!) {
          valueKeys.set(`${row.thread_id}\u0000${row.checkpoint_ns}\u0000${channel}\u0000${version}`, {
            threadId: row.thread_id,
            checkpointNs: row.checkpoint_ns,
            channel,
            version
          })
        }
      })
      const attachments = yield* statements.selectAttachments(keys, [...valueKeys.values()])
      const values = new Map<string, { readonly type: string; readonly value: Uint8Array }>()
      const writesByCheckpoint = new Map<string, Array<StoredLangGraphWrite>>()
      for (const row of attachments) {
        if (Number(row.kind) === 1) {
          values.set(`${row.thread_id}\u0000${row.checkpoint_ns}\u0000${row.channel}\u0000${row.version}`, {
            type: row.type,
            value: row.value
          })
        } else {
          const key = `${row.thread_id}\u0000${row.checkpoint_ns}\u0000${row.checkpoint_id}`
          const write: StoredLangGraphWrite = {
            taskId: row.task_id,
            taskPath: row.task_path,
            idx: Number(row.idx),
            channel: row.channel,
            type: row.type,
            value: row.value
          }
          const list = writesByCheckpoint.get(key)
          if (list === undefined) writesByCheckpoint.set(key, [write])
          else list.push(write)
        }
      }
      return rows.map((row, i): StoredLangGraphCheckpoint => {
        const channelValues: Array<StoredLangGraphCheckpoint["channelValues"][number]> = []
        for (const [channel, version] of versionsOf[i]!) {
          const stored = values.get(`${row.thread_id}\u0000${row.checkpoint_ns}\u0000${channel}\u0000${version}`)
          if (stored !== undefined) channelValues.push({ channel, version, ...stored })
        }
        return {
          threadId: row.thread_id,
          checkpointNs: row.checkpoint_ns,
          checkpointId: row.checkpoint_id,
          parentCheckpointId: row.parent_checkpoint_id ?? null,
          checkpoint: row.checkpoint,
          metadata: row.metadata,
          createdAt: Number(row.created_at),
          channelValues,
          pendingWrites: writesByCheckpoint.get(`${row.thread_id}\u0000${row.checkpoint_ns}\u0000${row.checkpoint_id}`) ??
            []
        }
      })
    })

  const put: LangGraphCheckpointsService["put"] = (input) =>
    operation(
      "put",
      Effect.gen(function*() {
        const valid = yield* validatePut(input)
        const createdAt = valid.createdAt ?? (yield* Clock.currentTimeMillis)
        yield* statements.putCheckpoint(
          {
            thread_id: valid.threadId,
            checkpoint_ns: valid.checkpointNs,
            checkpoint_id: valid.checkpointId,
            parent_checkpoint_id: valid.parentCheckpointId ?? null,
            checkpoint: valid.checkpoint,
            metadata: valid.metadata,
            created_at: createdAt
          },
          valid.channelValues.map((value) => ({
            thread_id: valid.threadId,
            checkpoint_ns: valid.checkpointNs,
            channel: value.channel,
            version: value.version,
            type: value.value?.type ?? "empty",
            value: value.value?.value ?? null
          }))
        )
      })
    )

  const putWrites: LangGraphCheckpointsService["putWrites"] = (input) =>
    operation(
      "putWrites",
      Effect.gen(function*() {
        const valid = yield* validateWrites(input)
        if (valid.writes.length === 0) return
        yield* statements.insertWrites(
          valid.writes.map((write) => ({
            thread_id: valid.threadId,
            checkpoint_ns: valid.checkpointNs,
            checkpoint_id: valid.checkpointId,
            task_id: valid.taskId,
            idx: write.idx,
            task_path: valid.taskPath ?? "",
            channel: write.channel,
            type: write.value.type,
            value: write.value.value
          })),
          valid.replace === true
        )
      })
    )

  const getTuple: LangGraphCheckpointsService["getTuple"] = (locator) =>
    operation(
      "getTuple",
      Effect.gen(function*() {
        const valid = yield* validateLocator(locator)
        const rows = yield* statements.selectCheckpoint(valid.threadId, valid.checkpointNs ?? "", valid.checkpointId)
        const [tuple] = yield* withAttachments(rows)
        return Option.fromNullable(tuple)
      })
    )

  const list: LangGraphCheckpointsService["list"] = (query) =>
    Stream.unwrap(operation("list", Effect.map(validateQuery(query ?? {}), (valid) => {
      const limit = valid.limit ?? Number.POSITIVE_INFINITY
      return Stream.paginateChunkEffect(
        { after: undefined as CheckpointKey | undefined, taken: 0 },
        ({ after, taken }) =>
          operation(
            "list",
            Effect.gen(function*() {
              const pageSize = Math.min(PAGE_SIZE, limit - taken)
              const rows = yield* statements.selectPage({ ...valid, after, limit: pageSize })
              const tuples = yield* withAttachments(rows)
              const last = rows[rows.length - 1]
              const next = last === undefined || rows.length < pageSize || taken + rows.length >= limit
                ? Option.none()
                : Option.some({
                  after: { threadId: last.thread_id, checkpointNs: last.checkpoint_ns, checkpointId: last.checkpoint_id },
                  taken: taken + rows.length
                })
              return [tuples, next] as const
            })
          ).pipe(Effect.map(([tuples, next]) => [Chunk.unsafeFromArray(tuples), next] as const))
      )
    })))

  const deleteThread: LangGraphCheckpointsService["deleteThread"] = (threadId) =>
    operation(
      "deleteThread",
      Effect.flatMap(validateThreadId(threadId), (valid) =>
        sql.withTransaction(Effect.zipLeft(statements.countCheckpoints(valid), statements.deleteThread(valid))))
    )

  const listThreads: LangGraphCheckpointsService["listThreads"] = (pageOptions) =>
    operation(
      "listThreads",
      Effect.gen(function*() {
        const { after, limit = 100 } = yield* validateThreadPage(pageOptions ?? {})
        const rows = yield* statements.selectThreads(after, limit + 1)
        const threads = rows.slice(0, limit).map((row) => ({
          threadId: row.thread_id,
          checkpoints: Number(row.checkpoints),
          namespaces: Number(row.namespaces),
          latestCheckpointId: row.latest,
          firstCreatedAt: Number(row.first_at),
          lastCreatedAt: Number(row.last_at)
        }))
        const last = threads[threads.length - 1]
        return rows.length > limit && last !== undefined ? { threads, nextAfter: last.threadId } : { threads }
      })
    )

  const countThreads: LangGraphCheckpointsService["countThreads"] = () =>
    operation(
      "countThreads",
      Effect.map(
        sql<{ readonly n: number | string }>`SELECT COUNT(DISTINCT thread_id) AS n FROM ${sql(LangGraphTables.checkpoints)}`,
        (rows) => Number(rows[0]?.n ?? 0)
      )
    )

  const prune: LangGraphCheckpointsService["prune"] = (policy) =>
    operation("prune", Effect.flatMap(validatePolicy(policy), (valid) => pruneLangGraph(sql, statements, valid)))

  const planPrune: LangGraphCheckpointsService["planPrune"] = (policy) =>
    operation("planPrune", Effect.flatMap(validatePolicy(policy), (valid) => planLangGraphPrune(sql, valid)))

  return LangGraphCheckpoints.of({
    setup: Effect.asVoid(setup),
    installed,
    countThreads,
    put,
    putWrites,
    getTuple,
    list,
    deleteThread,
    listThreads,
    prune,
    planPrune
  })
})

/**
 * The LangGraph checkpoints service on a `SqlClient` of your own. The layers of this library already provide it.
 *
 * @example
 * ```ts
 * import { SqliteClient } from "@effect/sql-sqlite-node"
 * import { Layer } from "effect"
 * import { layerLangGraphSql } from "effect-checkpoint-storage"
 *
 * const LangGraphLive = layerLangGraphSql().pipe(Layer.provide(SqliteClient.layer({ filename: "./graph.db" })))
 * ```
 *
 * @since 0.2.0
 */
export const layerLangGraphSql = (
  options?: SqlLangGraphCheckpointsOptions
): Layer.Layer<LangGraphCheckpoints, MigrationError, SqlClient.SqlClient> =>
  Layer.effect(LangGraphCheckpoints, make(options))
