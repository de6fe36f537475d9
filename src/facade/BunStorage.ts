/**
 * `BunStorage`: a drop-in for the class of Token Ring's `@tokenring-ai/bun-storage` 0.2, constructed with the same
 * config and app, on this package's layers (so under Node.js as well as Bun, on SQLite, PostgreSQL and MySQL/MariaDB).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AgentMetrics, AgentMetricsInput, AgentMetricsListItem } from "../schema/AgentMetrics.js"
import type { RetentionPolicy } from "../schema/CheckpointQuery.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import {
  type BunStorageConfig,
  type BunStorageDialect,
  type BunStorageRetention,
  cleanupIntervalMillis,
  detectDialect,
  displayNameOf,
  layerOfConnectionString,
  toRetentionPolicy,
  validateBunStorageConfig
} from "./BunStorageConfig.js"
import { fromServiceId, toServiceId, withNumberId } from "./numberIds.js"
import { toPaginatedResult } from "./paginatedResult.js"
import { StorageRuntime } from "./StorageRuntime.js"
import type { PaginatedResult, TokenRingService } from "./TokenRing.js"
import type {
  AgentCheckpointListItem,
  AgentCheckpointStorage,
  AppCheckpointStorage,
  AppSessionCheckpoint,
  AppSessionListItem,
  CheckpointListOptions,
  CleanupStats,
  MetricsStorage,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint,
  StoredAppCheckpoint,
  TokenRingApp
} from "./TokenRingBun.js"

// A stored checkpoint with its number id, or null.
const storedOrNull = <T extends { readonly id: string; readonly parentId?: string | undefined }>(
  stored: Option.Option<T>
) => Option.getOrNull(Option.map(stored, withNumberId))

const NOTHING_CLEANED: CleanupStats = {
  agentCheckpointsDeleted: 0,
  appCheckpointsDeleted: 0,
  agentMetricsDeleted: 0,
  spaceFreedBytes: 0
}

// The list options the service takes from Token Ring's: a filter given as null is no filter, as in bun-storage.
const listQuery = (options: CheckpointListOptions | undefined, filters: ReadonlyArray<keyof CheckpointListOptions>) => {
  const query: Record<string, unknown> = { includeTotal: true }
  for (const key of [...filters, "before", "after", "limit", "offset", "orderBy", "orderDir"] as const) {
    const value = options?.[key]
    if (value !== null && value !== undefined) query[key] = value
  }
  return query
}

/**
 * Agent and app checkpoints and agent metrics for Token Ring, as bun-storage 0.2 keeps them.
 *
 * @example
 * ```ts
 * import { BunStorage } from "effect-checkpoint-storage/bun-storage"
 *
 * const storage = new BunStorage({ connectionString: "sqlite:./agents.sqlite", retention: { agentCheckpoints: { maxAge: "30d" } } }, app)
 * await storage.start()
 * const id = await storage.storeAgentCheckpoint({ agentId, sessionId, agentType, name, state, createdAt: Date.now() })
 * ```
 *
 * @since 0.1.0
 */
export class BunStorage implements TokenRingService, AgentCheckpointStorage, AppCheckpointStorage, MetricsStorage {
  readonly name = "BunStorage"
  readonly description = "Bun SQL storage provider"
  readonly dialect: BunStorageDialect
  /** `Bun SQL <dialect> (<path or URL>)`, the password masked. */
  readonly displayName: string
  readonly retention: BunStorageRetention | undefined

  readonly #app: TokenRingApp
  readonly #storage: StorageRuntime
  readonly #policy: RetentionPolicy | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #cleaning = false
  /** Set by stop(): a cleanup it cuts short is no failure to report. */
  #stopped = false

  /**
   * Validates the config (a `CheckpointValidationError` naming each wrong field is thrown here) and prepares the
   * storage; nothing connects before `start()` or the first call.
   */
  constructor(config: BunStorageConfig | undefined, app: TokenRingApp) {
    const valid = validateBunStorageConfig(config)
    const connectionString = valid.connectionString ?? `sqlite:${app.getWorkspaceResolvedPath("database.sqlite")}`
    this.dialect = detectDialect(connectionString)
    this.displayName = displayNameOf(connectionString)
    this.retention = valid.retention
    this.#policy = valid.retention && toRetentionPolicy(valid.retention)
    this.#app = app
    this.#storage = new StorageRuntime(layerOfConnectionString(connectionString), CheckpointStorage)
  }

  /**
   * Connects and applies the migrations; then, with a retention config, cleans up once (a failure goes to
   * `app.serviceError`) and every `cleanupInterval` after.
   */
  async start(): Promise<void> {
    this.#stopped = false
    await this.#storage.start()
    if (this.retention === undefined) return
    await this.#cleanupReporting()
    this.scheduleCleanup(this.retention.cleanupInterval ?? "24h")
  }

  /** Stops the cleanup timer and closes every connection. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#storage.stop()
  }

  /**
   * Runs the cleanup every `interval` ("24h"), in place of an earlier schedule. The timer never keeps the process
   * alive; a run due while the previous one is still going is skipped.
   */
  scheduleCleanup(interval: string): void {
    const millis = cleanupIntervalMillis(interval)
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = setInterval(() => {
      if (!this.#cleaning) void this.#cleanupReporting()
    }, millis)
    this.#timer.unref?.()
  }

  /** Applies the retention config now, each rule in one transaction; zeros without a retention config. */
  cleanup(): Promise<CleanupStats> {
    const policy = this.#policy
    if (policy === undefined) return Promise.resolve(NOTHING_CLEANED)
    return this.#storage.run((storage) =>
      Effect.map(storage.prune(policy, { atomicRules: true }), (result) => ({
        agentCheckpointsDeleted: result.agentCheckpoints,
        appCheckpointsDeleted: result.appCheckpoints,
        agentMetricsDeleted: result.agentMetrics,
        spaceFreedBytes: result.freedBytes
      }))
    )
  }

  // A cleanup whose outcome goes to the app's log: what went, if anything did, or the error.
  async #cleanupReporting(): Promise<void> {
    this.#cleaning = true
    try {
      const stats = await this.cleanup()
      const deleted = stats.agentCheckpointsDeleted + stats.appCheckpointsDeleted + stats.agentMetricsDeleted
      if (deleted > 0) {
        this.#app.serviceOutput(
          this,
          `Cleanup removed ${stats.agentCheckpointsDeleted} agent checkpoints, ${stats.appCheckpointsDeleted} app ` +
            `checkpoints and ${stats.agentMetricsDeleted} agent metrics (${stats.spaceFreedBytes} bytes)`
        )
      }
    } catch (error) {
      if (!this.#stopped) this.#app.serviceError(this, "Cleanup failed:", error)
    } finally {
      this.#cleaning = false
    }
  }

  // --- AgentCheckpointStorage ----------------------------------------------------------------------------------

  storeAgentCheckpoint(checkpoint: NamedAgentCheckpoint): Promise<number> {
    return this.#storage.run((storage) => Effect.map(storage.storeAgentCheckpoint(checkpoint), fromServiceId))
  }

  /** The checkpoint, or null when there is none with this id. */
  retrieveAgentCheckpoint(id: number): Promise<StoredAgentCheckpoint | null> {
    const serviceId = toServiceId(id)
    if (serviceId === undefined) return Promise.resolve(null)
    return this.#storage.run((storage) =>
      Effect.map(storage.retrieveAgentCheckpoint(serviceId), storedOrNull)
    )
  }

  /**
   * A page of agent checkpoints, without their states: filtered by sessionId, agentId, agentType and a createdAt
   * range, ordered by createdAt (ties by id) or by id. Options the service refuses reject with a
   * `CheckpointValidationError`.
   */
  listAgentCheckpoints(options?: CheckpointListOptions): Promise<PaginatedResult<AgentCheckpointListItem>> {
    const query = listQuery(options, ["sessionId", "agentId", "agentType"])
    return this.#storage.run((storage) =>
      Effect.map(storage.listAgentCheckpoints(query), (page) => toPaginatedResult(options ?? {}, page, withNumberId))
    )
  }

  // --- AppCheckpointStorage ------------------------------------------------------------------------------------

  storeAppCheckpoint(checkpoint: AppSessionCheckpoint): Promise<number> {
    return this.#storage.run((storage) => Effect.map(storage.storeAppCheckpoint(checkpoint), fromServiceId))
  }

  retrieveAppCheckpoint(id: number): Promise<StoredAppCheckpoint | null> {
    const serviceId = toServiceId(id)
    if (serviceId === undefined) return Promise.resolve(null)
    return this.#storage.run((storage) =>
      Effect.map(storage.retrieveAppCheckpoint(serviceId), storedOrNull)
    )
  }

  /** A page of app checkpoints: filtered by sessionId and a createdAt range (agentId and agentType do not apply). */
  listAppCheckpoints(options?: CheckpointListOptions): Promise<PaginatedResult<AppSessionListItem>> {
    const query = listQuery(options, ["sessionId"])
    return this.#storage.run((storage) =>
      Effect.map(storage.listAppCheckpoints(query), (page) => toPaginatedResult(options ?? {}, page, withNumberId))
    )
  }

  /** The newest app checkpoint (createdAt, then id), or null. */
  retrieveLatestAppCheckpoint(): Promise<StoredAppCheckpoint | null> {
    return this.#storage.run((storage) =>
      Effect.map(storage.retrieveLatestAppCheckpoint(), storedOrNull)
    )
  }

  // --- MetricsStorage ------------------------------------------------------------------------------------------

  /** Replaces the agent's metrics (the parts left out are stored as zeros and empty collections). */
  storeAgentMetrics(metrics: AgentMetricsInput): Promise<void> {
    return this.#storage.run((storage) => storage.storeAgentMetrics(metrics))
  }

  retrieveAgentMetrics(agentId: string): Promise<AgentMetrics | null> {
    return this.#storage.run((storage) => Effect.map(storage.retrieveAgentMetrics(agentId), Option.getOrNull))
  }

  /** Every agent's totals, most recently updated first. */
  listAgentMetrics(): Promise<Array<AgentMetricsListItem>> {
    return this.#storage.run((storage) => Effect.map(storage.listAgentMetrics(), (items) => [...items]))
  }

  deleteAgentMetrics(agentId: string): Promise<void> {
    return this.#storage.run((storage) => Effect.asVoid(storage.deleteAgentMetrics(agentId)))
  }
}

export default BunStorage
