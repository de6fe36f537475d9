/**
 * LangGraph's checkpoints (threads, namespaces, checkpoints, channel values, pending writes) as an Effect service,
 * over the same `SqlClient` as CheckpointStorage. The saver of `effect-checkpoint-storage/langgraph` runs every
 * operation through it; Effect programs use it directly.
 *
 * Values arrive serialised: the saver's `serde` turns them into a type tag and bytes, which are stored as they are.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type {
  CheckpointValidationError,
  MigrationError,
  StateDecodeError,
  StorageConnectionError,
  StorageQueryError
} from "./CheckpointStorageError.js"

/**
 * A value as the saver's serde wrote it: `serde.dumpsTyped(value)`.
 *
 * @since 0.2.0
 */
export interface SerializedValue {
  readonly type: string
  readonly value: Uint8Array
}

/**
 * A channel's value at one version. `value` is absent for a channel that has a version but no value (LangGraph's
 * "empty" channel): it is stored so that the version is known, and never returned.
 *
 * @since 0.2.0
 */
export interface LangGraphChannelValue {
  readonly channel: string
  readonly version: string
  readonly value?: SerializedValue | undefined
}

/**
 * One checkpoint to store. Channel values are stored once per (thread, namespace, channel, version): a version
 * already stored is not written again.
 *
 * @since 0.2.0
 */
export interface LangGraphCheckpointInput {
  readonly threadId: string
  readonly checkpointNs: string
  readonly checkpointId: string
  readonly parentCheckpointId?: string | undefined
  /** The checkpoint without its channel values, as JSON: `{ v, id, ts, channel_versions, versions_seen }`. */
  readonly checkpoint: string
  /** The metadata as a JSON object (`source`, `step`, `parents`, and the caller's own keys). */
  readonly metadata: string
  /** The values of the channels whose version is new in this checkpoint. */
  readonly channelValues: ReadonlyArray<LangGraphChannelValue>
  /** When the checkpoint was made, in milliseconds since the epoch. Defaults to the Clock's time. */
  readonly createdAt?: number | undefined
}

/**
 * One pending write of a task.
 *
 * @since 0.2.0
 */
export interface LangGraphWrite {
  readonly channel: string
  /** The write's index in its task; LangGraph gives special writes (errors, interrupts) negative indexes. */
  readonly idx: number
  readonly value: SerializedValue
}

/**
 * The writes of one task against a checkpoint.
 *
 * @since 0.2.0
 */
export interface LangGraphWritesInput {
  readonly threadId: string
  readonly checkpointNs: string
  readonly checkpointId: string
  readonly taskId: string
  /** The task's path (`writesSortKey`); `""` when there is none. */
  readonly taskPath?: string | undefined
  readonly writes: ReadonlyArray<LangGraphWrite>
  /**
   * Replace a write already stored at the same (task, idx). LangGraph asks for this when every write is a special
   * one; otherwise the first write stored at an index is kept, so a retried task cannot change what was recorded.
   */
  readonly replace?: boolean | undefined
}

/**
 * A stored pending write.
 *
 * @since 0.2.0
 */
export interface StoredLangGraphWrite {
  readonly taskId: string
  readonly taskPath: string
  readonly idx: number
  readonly channel: string
  readonly type: string
  readonly value: Uint8Array
}

/**
 * A stored channel value.
 *
 * @since 0.2.0
 */
export interface StoredChannelValue {
  readonly channel: string
  readonly version: string
  readonly type: string
  readonly value: Uint8Array
}

/**
 * A stored checkpoint with its channel values and its pending writes, in the order LangGraph's `writesSortKey`
 * gives (task path, task id, index; strings by code point).
 *
 * @since 0.2.0
 */
export interface StoredLangGraphCheckpoint {
  readonly threadId: string
  readonly checkpointNs: string
  readonly checkpointId: string
  readonly parentCheckpointId: string | null
  readonly checkpoint: string
  readonly metadata: string
  readonly createdAt: number
  /** The values of the channels the checkpoint's `channel_versions` names, where one is stored. */
  readonly channelValues: ReadonlyArray<StoredChannelValue>
  readonly pendingWrites: ReadonlyArray<StoredLangGraphWrite>
}

/**
 * Which checkpoint to read: the given one, or the newest of the thread's namespace.
 *
 * @since 0.2.0
 */
export interface LangGraphCheckpointLocator {
  readonly threadId: string
  readonly checkpointNs?: string | undefined
  readonly checkpointId?: string | undefined
}

/**
 * Which checkpoints to list, newest (highest checkpoint id) first.
 *
 * @since 0.2.0
 */
export interface LangGraphListQuery {
  readonly threadId?: string | undefined
  readonly checkpointNs?: string | undefined
  /** Only this checkpoint. */
  readonly checkpointId?: string | undefined
  /** Only checkpoints whose id sorts before this one. */
  readonly before?: string | undefined
  readonly limit?: number | undefined
  /**
   * Metadata keys and the values they must hold. Values compare as JSON: strings, numbers, booleans and null by
   * equality.
   */
  readonly filter?: Readonly<Record<string, unknown>> | undefined
}

/**
 * A thread and what it holds.
 *
 * @since 0.2.0
 */
export interface LangGraphThreadSummary {
  readonly threadId: string
  readonly checkpoints: number
  readonly namespaces: number
  /** The newest checkpoint of the thread (of every namespace). */
  readonly latestCheckpointId: string
  readonly firstCreatedAt: number
  readonly lastCreatedAt: number
}

/**
 * A page of threads in thread id order.
 *
 * @since 0.2.0
 */
export interface LangGraphThreadPage {
  readonly threads: ReadonlyArray<LangGraphThreadSummary>
  /** Pass as `after` for the next page; absent on the last page. */
  readonly nextAfter?: string | undefined
}

/**
 * Retention for LangGraph threads, applied to each namespace of each thread. A checkpoint goes when either rule
 * says so; its pending writes go with it, and a channel value goes once no checkpoint left names its version.
 *
 * @since 0.2.0
 */
export interface LangGraphRetentionPolicy {
  /** Keep the newest N checkpoints of each thread's namespace. */
  readonly keepLastPerThread?: number | undefined
  /** Remove checkpoints older than this. */
  readonly maxAge?: Duration.DurationInput | undefined
  /**
   * Let `maxAge` remove the newest checkpoint of a thread too (the thread then disappears). By default the newest
   * checkpoint is spared, so an idle thread can still be resumed.
   */
  readonly includeNewest?: boolean | undefined
  /** Only this thread. */
  readonly threadId?: string | undefined
}

/**
 * What a prune removed.
 *
 * @since 0.2.0
 */
export interface LangGraphPruneResult {
  readonly checkpoints: number
  readonly writes: number
  readonly channelValues: number
}

/**
 * What a prune would remove from one thread.
 *
 * @since 0.2.0
 */
export interface LangGraphThreadPrunePlan extends LangGraphPruneResult {
  readonly threadId: string
}

/**
 * What a prune would remove: the totals, and each thread that would lose checkpoints, in thread id order.
 *
 * @since 0.2.0
 */
export interface LangGraphPrunePlan extends LangGraphPruneResult {
  readonly threads: ReadonlyArray<LangGraphThreadPrunePlan>
}

/**
 * The errors of the LangGraph operations. Migrations run on first use, so each operation may fail with a
 * MigrationError; a stored checkpoint document that is not JSON is a StateDecodeError.
 *
 * @since 0.2.0
 */
export type LangGraphCheckpointError =
  | CheckpointValidationError
  | StorageConnectionError
  | StorageQueryError
  | MigrationError
  | StateDecodeError

/**
 * @since 0.2.0
 */
export interface LangGraphCheckpointsService {
  /** Applies the LangGraph migrations. Every other operation does so first when it has not been done. */
  readonly setup: Effect.Effect<void, MigrationError | StorageConnectionError>
  /**
   * Whether the database holds the LangGraph tables at this version's schema, read from the migrations table without
   * creating or changing anything (every other operation applies the migrations first, creating the tables): what a
   * read-only reader (`ecs ui`) asks before calling the others. When true, the other operations have nothing to
   * migrate and write nothing but what they are asked to.
   */
  readonly installed: Effect.Effect<boolean, StorageConnectionError | StorageQueryError>
  /** How many threads the database holds (every namespace of a thread counted once). */
  readonly countThreads: () => Effect.Effect<number, LangGraphCheckpointError>
  /** Stores a checkpoint and its new channel values in one transaction; a checkpoint stored again is replaced. */
  readonly put: (input: LangGraphCheckpointInput) => Effect.Effect<void, LangGraphCheckpointError>
  /** Stores a task's pending writes in one transaction. */
  readonly putWrites: (input: LangGraphWritesInput) => Effect.Effect<void, LangGraphCheckpointError>
  readonly getTuple: (
    locator: LangGraphCheckpointLocator
  ) => Effect.Effect<Option.Option<StoredLangGraphCheckpoint>, LangGraphCheckpointError>
  /** The matching checkpoints, newest first, read a page at a time. */
  readonly list: (query?: LangGraphListQuery) => Stream.Stream<StoredLangGraphCheckpoint, LangGraphCheckpointError>
  /** Removes a thread (every namespace), with its writes and channel values. Returns the checkpoints removed. */
  readonly deleteThread: (threadId: string) => Effect.Effect<number, LangGraphCheckpointError>
  readonly listThreads: (options?: {
    readonly after?: string | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<LangGraphThreadPage, LangGraphCheckpointError>
  /** Applies the retention policy. */
  readonly prune: (policy: LangGraphRetentionPolicy) => Effect.Effect<LangGraphPruneResult, LangGraphCheckpointError>
  /** What `prune` would remove under the same policy, removing nothing: for a dry run. */
  readonly planPrune: (policy: LangGraphRetentionPolicy) => Effect.Effect<LangGraphPrunePlan, LangGraphCheckpointError>
}

/**
 * The LangGraph checkpoints service. Every layer of this library (`layerPostgres`, `layerMysql`, `layerSqliteBun`,
 * `layerSqliteNode`, `layerFromConfig`) provides it next to CheckpointStorage; `layerLangGraphSql` builds it on a
 * `SqlClient` of your own.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { LangGraphCheckpoints, layerSqliteNode } from "effect-checkpoint-storage"
 *
 * const latest = Effect.flatMap(LangGraphCheckpoints, (lg) => lg.getTuple({ threadId: "thread-1" })).pipe(
 *   Effect.provide(layerSqliteNode({ databasePath: "./agents.db" }))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class LangGraphCheckpoints extends Context.Tag("effect-checkpoint-storage/LangGraphCheckpoints")<
  LangGraphCheckpoints,
  LangGraphCheckpointsService
>() {}
