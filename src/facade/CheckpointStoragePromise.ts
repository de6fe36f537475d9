/**
 * The Promise facade: Token Ring's storage classes as thin adapters over one ManagedRuntime of a storage layer.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { StorageLayerError } from "../internal/clientLayer.js"
import type {
  AgentCheckpointListItem,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint
} from "../schema/AgentCheckpoint.js"
import type { AgentMetricsListItem } from "../schema/AgentMetrics.js"
import {
  type AgentCheckpointChanges,
  type AgentCheckpointFilter,
  type AgentCheckpointListOptions,
  type AgentCheckpointSelector,
  type AppCheckpointChanges,
  type AppCheckpointFilter,
  type AppCheckpointListOptions,
  type AppCheckpointSelector,
  type CheckpointPage,
  type CheckpointStreamOptions,
  type PrunePlan,
  type PruneResult,
  type RetentionPolicy,
  type SessionStatistics,
  type TableStatistics
} from "../schema/CheckpointQuery.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { toProjectDirectory, toWorkspaceDirectory, type WithProjectDirectory } from "./projectDirectory.js"
import { toPaginatedResult } from "./paginatedResult.js"
import { StorageRuntime } from "./StorageRuntime.js"
import type {
  AgentCheckpointStorage,
  AppCheckpointStorage,
  AppSessionCheckpoint,
  AppSessionListItem,
  CheckpointListOptions,
  PaginatedResult,
  StoredAppCheckpoint,
  TokenRingService
} from "./TokenRing.js"

/**
 * A page with a keyset cursor, for Promise callers.
 *
 * @since 0.1.0
 */
export interface CursorPage<A> {
  readonly items: Array<A>
  readonly nextCursor: string | null
  readonly total: number | null
}

/**
 * Table statistics with `null` for the times of an empty table.
 *
 * @since 0.1.0
 */
export interface PlainTableStatistics {
  readonly count: number
  readonly totalBytes: number
  readonly largestBytes: number
  readonly oldestCreatedAt: number | null
  readonly newestCreatedAt: number | null
}

const toCursorPage = <A>(page: CheckpointPage<A>): CursorPage<A> => ({
  items: [...page.items],
  nextCursor: Option.getOrNull(page.nextCursor),
  total: Option.getOrNull(page.total)
})

/**
 * An app checkpoint filter of the older generation: its directory is `projectDirectory`.
 *
 * @since 0.1.0
 */
export type ProjectDirectoryFilter = WithProjectDirectory<AppCheckpointFilter>

const storedOrNull = <A extends object>(stored: Option.Option<A>) =>
  Option.isSome(stored) ? toProjectDirectory(stored.value) : null

const toPlainStatistics = (statistics: TableStatistics): PlainTableStatistics => ({
  ...statistics,
  oldestCreatedAt: Option.getOrNull(statistics.oldestCreatedAt),
  newestCreatedAt: Option.getOrNull(statistics.newestCreatedAt)
})

/**
 * What the three storage classes share: a ManagedRuntime of the storage layer, built by `start()` (or lazily by the
 * first call) and released by `stop()`. Every method runs one CheckpointStorage operation; there is no SQL, no
 * validation and no error mapping here.
 *
 * @since 0.1.0
 */
export abstract class CheckpointStoragePromise implements TokenRingService, AgentCheckpointStorage, AppCheckpointStorage {
  abstract readonly name: string
  abstract readonly description: string
  abstract readonly displayName: string

  readonly #storage: StorageRuntime

  protected constructor(layer: Layer.Layer<CheckpointStorage, StorageLayerError>) {
    this.#storage = new StorageRuntime(layer, CheckpointStorage)
  }

  /**
   * Connects and applies the migrations. Calling it again is harmless. Methods called before it start the storage
   * themselves. If it fails (the database is down, the config is invalid) it rejects with the typed error, and the
   * next call tries again.
   */
  start(): Promise<void> {
    return this.#storage.start()
  }

  /** Closes every connection so that the process can exit. The storage can be started again afterwards. */
  stop(): Promise<void> {
    return this.#storage.stop()
  }

  /** The same as {@link stop}. */
  close(): Promise<void> {
    return this.stop()
  }

  storeAgentCheckpoint(checkpoint: NamedAgentCheckpoint): Promise<string> {
    return this.#storage.run((storage) => storage.storeAgentCheckpoint(checkpoint))
  }

  /** The checkpoint, or null when there is none with this id (also for ids such as "abc"). */
  retrieveAgentCheckpoint(id: string): Promise<StoredAgentCheckpoint | null> {
    return this.#storage.run((storage) => Effect.map(storage.retrieveAgentCheckpoint(id), Option.getOrNull))
  }

  /**
   * Without options: every agent checkpoint, newest first (Token Ring's list). With Token Ring's paginated options
   * (`{ sessionId, limit, offset, … }`): a `PaginatedResult`.
   */
  listAgentCheckpoints(): Promise<Array<AgentCheckpointListItem>>
  listAgentCheckpoints(options: CheckpointListOptions): Promise<PaginatedResult<AgentCheckpointListItem>>
  listAgentCheckpoints(
    options?: CheckpointListOptions
  ): Promise<Array<AgentCheckpointListItem> | PaginatedResult<AgentCheckpointListItem>> {
    if (options === undefined) {
      return this.#storage.run((storage) => Effect.map(storage.listAgentCheckpoints(), (items) => [...items]))
    }
    const { hostname: _, projectDirectory: __, ...query } = options
    return this.#storage.run((storage) =>
      Effect.map(
        storage.listAgentCheckpoints({ ...query, includeTotal: true }),
        (page) => toPaginatedResult(options, page, (item) => item)
      )
    )
  }

  storeAppCheckpoint(checkpoint: AppSessionCheckpoint): Promise<string> {
    return this.#storage.run((storage) => storage.storeAppCheckpoint(toWorkspaceDirectory(checkpoint)))
  }

  retrieveAppCheckpoint(id: string): Promise<StoredAppCheckpoint | null> {
    return this.#storage.run((storage) => Effect.map(storage.retrieveAppCheckpoint(id), storedOrNull))
  }

  /** Without options: every app checkpoint, newest first. With options: a `PaginatedResult`. */
  listAppCheckpoints(): Promise<Array<AppSessionListItem>>
  listAppCheckpoints(options: CheckpointListOptions): Promise<PaginatedResult<AppSessionListItem>>
  listAppCheckpoints(
    options?: CheckpointListOptions
  ): Promise<Array<AppSessionListItem> | PaginatedResult<AppSessionListItem>> {
    if (options === undefined) {
      return this.#storage.run((storage) => Effect.map(storage.listAppCheckpoints(), (items) => items.map(toProjectDirectory)))
    }
    const { agentId: _, agentType: __, ...query } = options
    return this.#storage.run((storage) =>
      Effect.map(
        storage.listAppCheckpoints({ ...toWorkspaceDirectory(query), includeTotal: true }),
        (page) => toPaginatedResult(options, page, toProjectDirectory)
      )
    )
  }

  /** The newest app checkpoint, of those matching the filter if one is given, or null. */
  retrieveLatestAppCheckpoint(filter?: ProjectDirectoryFilter): Promise<StoredAppCheckpoint | null> {
    return this.#storage.run((storage) =>
      Effect.map(storage.retrieveLatestAppCheckpoint(toWorkspaceDirectory(filter)), storedOrNull)
    )
  }

  // --- Beyond Token Ring's interfaces: the same operations as the Effect service ---------------------------------

  /** One page with a keyset cursor: pass `nextCursor` back as `cursor` for the next page (null on the last). */
  listAgentCheckpointPage(options: AgentCheckpointListOptions): Promise<CursorPage<AgentCheckpointListItem>> {
    return this.#storage.run((storage) => Effect.map(storage.listAgentCheckpoints(options), toCursorPage))
  }

  listAppCheckpointPage(options: WithProjectDirectory<AppCheckpointListOptions>): Promise<CursorPage<AppSessionListItem>> {
    return this.#storage.run((storage) =>
      Effect.map(storage.listAppCheckpoints(toWorkspaceDirectory(options)), (page) => {
        const { items, ...rest } = toCursorPage(page)
        return { ...rest, items: items.map(toProjectDirectory) }
      })
    )
  }

  /** Every matching agent checkpoint, read a page at a time (`for await … of`). */
  streamAgentCheckpoints(
    options: AgentCheckpointFilter & CheckpointStreamOptions & { readonly includeState: true }
  ): AsyncIterable<StoredAgentCheckpoint>
  streamAgentCheckpoints(options?: AgentCheckpointFilter & CheckpointStreamOptions): AsyncIterable<AgentCheckpointListItem>
  streamAgentCheckpoints(
    options?: AgentCheckpointFilter & CheckpointStreamOptions
  ): AsyncIterable<AgentCheckpointListItem | StoredAgentCheckpoint> {
    return this.#storage.iterate((storage) => storage.streamAgentCheckpoints(options))
  }

  streamAppCheckpoints(
    options: ProjectDirectoryFilter & CheckpointStreamOptions & { readonly includeState: true }
  ): AsyncIterable<StoredAppCheckpoint>
  streamAppCheckpoints(options?: ProjectDirectoryFilter & CheckpointStreamOptions): AsyncIterable<AppSessionListItem>
  streamAppCheckpoints(
    options?: ProjectDirectoryFilter & CheckpointStreamOptions
  ): AsyncIterable<AppSessionListItem | StoredAppCheckpoint> {
    return this.#storage.iterate((storage) =>
      Stream.map(storage.streamAppCheckpoints(toWorkspaceDirectory(options)), toProjectDirectory)
    )
  }

  /** The newest agent checkpoint matching the filter (`{ sessionId }`, `{ agentId }`, …), or null. */
  retrieveLatestAgentCheckpoint(filter?: AgentCheckpointFilter): Promise<StoredAgentCheckpoint | null> {
    return this.#storage.run((storage) => Effect.map(storage.retrieveLatestAgentCheckpoint(filter), Option.getOrNull))
  }

  /** Deletes one agent checkpoint; resolves to the number of rows removed (0 or 1). */
  deleteAgentCheckpoint(id: string): Promise<number> {
    return this.#storage.run((storage) => storage.deleteAgentCheckpoint(id))
  }

  deleteAppCheckpoint(id: string): Promise<number> {
    return this.#storage.run((storage) => storage.deleteAppCheckpoint(id))
  }

  /** Erases every agent checkpoint of a session and/or an agent; resolves to the number of rows removed. */
  deleteAgentCheckpoints(selector: AgentCheckpointSelector): Promise<number> {
    return this.#storage.run((storage) => storage.deleteAgentCheckpoints(selector))
  }

  deleteAppCheckpoints(selector: AppCheckpointSelector): Promise<number> {
    return this.#storage.run((storage) => storage.deleteAppCheckpoints(selector))
  }

  /** Applies a retention policy now; resolves to the rows removed per table and the bytes they held. */
  prune(
    policy: RetentionPolicy,
    options?: { readonly batchSize?: number | undefined; readonly atomicRules?: boolean | undefined }
  ): Promise<PruneResult> {
    return this.#storage.run((storage) => storage.prune(policy, options))
  }

  /** What `prune` would delete now, per table: how many, their bytes, and the first `sampleSize` (default 10). */
  planPrune(
    policy: RetentionPolicy,
    options?: { readonly sampleSize?: number | undefined }
  ): Promise<PrunePlan<AgentCheckpointListItem, AppSessionListItem, AgentMetricsListItem>> {
    return this.#storage.run((storage) =>
      Effect.map(storage.planPrune(policy, options), (plan) => ({
        ...plan,
        appCheckpoints: { ...plan.appCheckpoints, sample: plan.appCheckpoints.sample.map(toProjectDirectory) }
      }))
    )
  }

  /** Per session, the sessions with the newest checkpoints first (at most `limit`, default 20), per table. */
  sessionStatistics(options?: { readonly limit?: number | undefined }): Promise<{
    readonly agentCheckpoints: ReadonlyArray<SessionStatistics>
    readonly appCheckpoints: ReadonlyArray<SessionStatistics>
  }> {
    return this.#storage.run((storage) => storage.sessionStatistics(options))
  }

  /** Count, total and largest state size, oldest and newest createdAt (null when empty), per table. */
  statistics(): Promise<{ readonly agentCheckpoints: PlainTableStatistics; readonly appCheckpoints: PlainTableStatistics }> {
    return this.#storage.run((storage) =>
      Effect.map(storage.statistics(), (statistics) => ({
        agentCheckpoints: toPlainStatistics(statistics.agentCheckpoints),
        appCheckpoints: toPlainStatistics(statistics.appCheckpoints)
      }))
    )
  }

  /** The agent checkpoint and its ancestors, back to the root. */
  async listAgentLineage(id: string): Promise<Array<AgentCheckpointListItem>> {
    return [...await this.#storage.run((storage) => storage.listAgentLineage(id))]
  }

  async listAppLineage(id: string): Promise<Array<AppSessionListItem>> {
    return (await this.#storage.run((storage) => storage.listAppLineage(id))).map(toProjectDirectory)
  }

  /** Stores a new agent checkpoint continuing from `id`, with the changes applied; resolves to its id. */
  forkAgentCheckpoint(id: string, changes?: AgentCheckpointChanges): Promise<string> {
    return this.#storage.run((storage) => storage.forkAgentCheckpoint(id, changes))
  }

  forkAppCheckpoint(id: string, changes?: WithProjectDirectory<AppCheckpointChanges>): Promise<string> {
    return this.#storage.run((storage) => storage.forkAppCheckpoint(id, toWorkspaceDirectory(changes)))
  }
}
