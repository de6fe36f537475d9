/**
 * A LangGraph checkpointer (`BaseCheckpointSaver` of `@langchain/langgraph-checkpoint`) on PostgreSQL,
 * MySQL/MariaDB and SQLite, under Node.js and Bun. Every method runs one operation of the LangGraphCheckpoints
 * service; this class only turns LangGraph's values into serialised bytes (with the saver's `serde`) and back.
 *
 * @since 0.2.0
 */
import type { RunnableConfig } from "@langchain/core/runnables"
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP
} from "@langchain/langgraph-checkpoint"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { StorageRuntime } from "../facade/StorageRuntime.js"
import type { StorageLayerError } from "../internal/clientLayer.js"
import {
  LangGraphCheckpoints,
  type LangGraphCheckpointsService,
  type LangGraphPrunePlan,
  type LangGraphPruneResult,
  type LangGraphRetentionPolicy,
  type LangGraphThreadPage,
  type SerializedValue,
  type StoredLangGraphCheckpoint
} from "../services/LangGraphCheckpoints.js"
import { langGraphLayerOfUrl } from "./langGraphLayer.js"

/**
 * @since 0.2.0
 */
export interface SqlCheckpointSaverOptions {
  /** How values are serialised; LangGraph's JsonPlusSerializer by default. */
  readonly serde?: SerializerProtocol | undefined
}

type CheckpointDocument = Omit<Checkpoint, "channel_values">

const utf8 = new TextDecoder()

const serialized = ([type, value]: [string, Uint8Array]): SerializedValue => ({ type, value })

/**
 * LangGraph's checkpointer on the databases of this library.
 *
 * @example
 * ```ts
 * import { SqlCheckpointSaver } from "effect-checkpoint-storage/langgraph"
 *
 * const checkpointer = SqlCheckpointSaver.fromConnString("mysql://app:secret@localhost:3306/agents")
 * const graph = builder.compile({ checkpointer })
 * // …
 * await checkpointer.end()
 * ```
 *
 * @since 0.2.0
 */
export class SqlCheckpointSaver extends BaseCheckpointSaver {
  readonly #storage: StorageRuntime<LangGraphCheckpoints, LangGraphCheckpointsService>

  /**
   * A saver on a layer of this library (`layerPostgres`, `layerMysql`, `layerSqliteBun`, `layerSqliteNode`, …) or
   * on `layerLangGraphSql` over a client of your own. Nothing connects until the first call.
   */
  constructor(layer: Layer.Layer<LangGraphCheckpoints, StorageLayerError>, options?: SqlCheckpointSaverOptions) {
    super(options?.serde)
    this.#storage = new StorageRuntime(layer, LangGraphCheckpoints)
  }

  /**
   * A saver on the database a URL names: `postgres://…`, `mysql://…` or `mariadb://…`, `sqlite:FILE` or a plain
   * file path (bun:sqlite under Bun, better-sqlite3 under Node.js). It creates LangGraph's tables only.
   */
  static fromConnString(connectionString: string, options?: SqlCheckpointSaverOptions): SqlCheckpointSaver {
    return new SqlCheckpointSaver(langGraphLayerOfUrl(connectionString), options)
  }

  #run<A>(operation: (storage: LangGraphCheckpointsService) => Effect.Effect<A, unknown>): Promise<A> {
    return this.#storage.run(operation)
  }

  /** Connects and applies the migrations. The first operation does it too; calling it again is harmless. */
  async setup(): Promise<void> {
    await this.#run((storage) => storage.setup)
  }

  /** Closes the connections. The saver can be used again afterwards (it reconnects). */
  async end(): Promise<void> {
    await this.#storage.stop()
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { checkpoint_id, checkpoint_ns = "", thread_id } = config.configurable ?? {}
    if (thread_id === undefined || thread_id === null) return undefined
    const stored = await this.#run((storage) =>
      storage.getTuple({ threadId: thread_id, checkpointNs: checkpoint_ns, checkpointId: checkpoint_id ?? undefined })
    )
    return Option.isNone(stored) ? undefined : this.#toTuple(stored.value)
  }

  async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const { checkpoint_id, checkpoint_ns, thread_id } = config.configurable ?? {}
    const stored = this.#storage.iterate((storage) =>
      storage.list({
        threadId: thread_id ?? undefined,
        checkpointNs: checkpoint_ns ?? undefined,
        checkpointId: checkpoint_id ?? undefined,
        before: options?.before?.configurable?.checkpoint_id ?? undefined,
        limit: options?.limit,
        filter: options?.filter
      })
    )
    for await (const checkpoint of stored) yield await this.#toTuple(checkpoint)
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions
  ): Promise<RunnableConfig> {
    if (config.configurable === undefined) throw new Error(`Missing "configurable" field in "config" param`)
    const { checkpoint_id, checkpoint_ns = "", thread_id } = config.configurable
    const { channel_values: values, ...document } = checkpoint
    const channelValues = await Promise.all(Object.entries(newVersions).map(async ([channel, version]) => ({
      channel,
      version: String(version),
      value: channel in values ? serialized(await this.serde.dumpsTyped(values[channel])) : undefined
    })))
    const [, metadataJson] = await this.serde.dumpsTyped(metadata)
    await this.#run((storage) =>
      storage.put({
        threadId: thread_id,
        checkpointNs: checkpoint_ns,
        checkpointId: checkpoint.id,
        parentCheckpointId: checkpoint_id ?? undefined,
        checkpoint: JSON.stringify(document),
        metadata: utf8.decode(metadataJson),
        channelValues
      })
    )
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } }
  }

  async putWrites(config: RunnableConfig, writes: Array<PendingWrite>, taskId: string, taskPath?: string): Promise<void> {
    const { checkpoint_id, checkpoint_ns = "", thread_id } = config.configurable ?? {}
    const dumped = await Promise.all(writes.map(async ([channel, value], idx) => ({
      channel,
      idx: WRITES_IDX_MAP[channel] ?? idx,
      value: serialized(await this.serde.dumpsTyped(value))
    })))
    await this.#run((storage) =>
      storage.putWrites({
        threadId: thread_id,
        checkpointNs: checkpoint_ns,
        checkpointId: checkpoint_id,
        taskId,
        taskPath,
        writes: dumped,
        // Special writes (errors, interrupts) replace their earlier record, as LangGraph's own savers do.
        replace: writes.every(([channel]) => channel in WRITES_IDX_MAP)
      })
    )
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.#run((storage) => storage.deleteThread(threadId))
  }

  /** Removes old checkpoints of every thread (or one) by the policy; see LangGraphRetentionPolicy. */
  prune(policy: LangGraphRetentionPolicy): Promise<LangGraphPruneResult> {
    return this.#run((storage) => storage.prune(policy))
  }

  /** What `prune` would remove under the same policy, removing nothing. */
  planPrune(policy: LangGraphRetentionPolicy): Promise<LangGraphPrunePlan> {
    return this.#run((storage) => storage.planPrune(policy))
  }

  /** The threads in thread id order, a page at a time. */
  listThreads(options?: { readonly after?: string | undefined; readonly limit?: number | undefined }): Promise<LangGraphThreadPage> {
    return this.#run((storage) => storage.listThreads(options))
  }

  async #toTuple(stored: StoredLangGraphCheckpoint): Promise<CheckpointTuple> {
    const { checkpointId, checkpointNs, parentCheckpointId, threadId } = stored
    const document = JSON.parse(stored.checkpoint) as CheckpointDocument
    const channelValues: Record<string, unknown> = {}
    for (const { channel, type, value } of stored.channelValues) {
      channelValues[channel] = await this.serde.loadsTyped(type, value)
    }
    const checkpoint: Checkpoint = {
      ...document,
      channel_values: channelValues,
      channel_versions: document.channel_versions ?? {},
      versions_seen: document.versions_seen ?? {}
    }
    if (checkpoint.v < 4 && parentCheckpointId !== null) {
      await this.#migratePendingSends(checkpoint, { threadId, checkpointNs, parentCheckpointId })
    }
    const pendingWrites: Array<CheckpointPendingWrite> = await Promise.all(stored.pendingWrites.map(async (write) =>
      [write.taskId, write.channel, await this.serde.loadsTyped(write.type, write.value)] as CheckpointPendingWrite
    ))
    return {
      config: { configurable: { thread_id: threadId, checkpoint_ns: checkpointNs, checkpoint_id: checkpointId } },
      checkpoint,
      metadata: await this.serde.loadsTyped("json", stored.metadata) as CheckpointMetadata,
      ...(parentCheckpointId === null ? {} : {
        parentConfig: {
          configurable: { thread_id: threadId, checkpoint_ns: checkpointNs, checkpoint_id: parentCheckpointId }
        }
      }),
      pendingWrites
    }
  }

  // Checkpoints before format 4 kept the sends of the step before as their parent's writes to TASKS; since format 4
  // they are the TASKS channel's value. LangGraph's own savers convert them on read in the same way.
  async #migratePendingSends(
    checkpoint: Checkpoint,
    parent: { readonly threadId: string; readonly checkpointNs: string; readonly parentCheckpointId: string }
  ): Promise<void> {
    const stored = await this.#run((storage) =>
      storage.getTuple({
        threadId: parent.threadId,
        checkpointNs: parent.checkpointNs,
        checkpointId: parent.parentCheckpointId
      })
    )
    if (Option.isNone(stored)) return
    const sends = stored.value.pendingWrites.filter((write) => write.channel === TASKS)
    if (sends.length === 0) return
    checkpoint.channel_values[TASKS] = await Promise.all(sends.map((send) => this.serde.loadsTyped(send.type, send.value)))
    const versions = Object.values(checkpoint.channel_versions)
    checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined)
  }
}
