/**
 * The interfaces of Token Ring's current generation (`@tokenring-ai/bun-storage` 0.2, `@tokenring-ai/checkpoint`
 * 0.2, `@tokenring-ai/metrics` 0.2), declared structurally: none of these packages is on the npm registry. Number
 * ids, paginated lists, `workspaceDirectory`, agent metrics.
 *
 * @since 0.1.0
 */
import type { NamedAgentCheckpoint as ServiceAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import type { AgentMetrics, AgentMetricsInput, AgentMetricsListItem } from "../schema/AgentMetrics.js"
import type { AppSessionCheckpoint as ServiceAppCheckpoint } from "../schema/AppCheckpoint.js"
import type { MaybePromise, PaginatedResult, TokenRingService } from "./TokenRing.js"

/**
 * @since 0.1.0
 */
export type NamedAgentCheckpoint = Omit<ServiceAgentCheckpoint, "parentId">

/**
 * @since 0.1.0
 */
export type StoredAgentCheckpoint = NamedAgentCheckpoint & { readonly id: number }

/**
 * @since 0.1.0
 */
export type AgentCheckpointListItem = Omit<StoredAgentCheckpoint, "state">

/**
 * An app session checkpoint: its directory is `workspaceDirectory`.
 *
 * @since 0.1.0
 */
export type AppSessionCheckpoint = Omit<ServiceAppCheckpoint, "parentId">

/**
 * @since 0.1.0
 */
export type StoredAppCheckpoint = AppSessionCheckpoint & { readonly id: number }

/**
 * @since 0.1.0
 */
export type AppSessionListItem = Omit<StoredAppCheckpoint, "state">

/**
 * Token Ring's `CheckpointListOptions`. A filter given as `null` is no filter, as in bun-storage.
 *
 * @since 0.1.0
 */
export interface CheckpointListOptions {
  readonly sessionId?: string | null | undefined
  readonly agentId?: string | null | undefined
  readonly agentType?: string | null | undefined
  /** A whole number from 1 to 10,000 (default 50). */
  readonly limit?: number | undefined
  /** 0 or more (default 0). */
  readonly offset?: number | undefined
  /** createdAt < before (ms). */
  readonly before?: number | null | undefined
  /** createdAt > after (ms). */
  readonly after?: number | null | undefined
  readonly orderBy?: "createdAt" | "id" | undefined
  readonly orderDir?: "ASC" | "DESC" | undefined
}

/**
 * What a cleanup removed, and the UTF-8 bytes of the JSON text of what it removed.
 *
 * @since 0.1.0
 */
export interface CleanupStats {
  readonly agentCheckpointsDeleted: number
  readonly appCheckpointsDeleted: number
  readonly agentMetricsDeleted: number
  readonly spaceFreedBytes: number
}

/**
 * Token Ring's `AgentCheckpointStorage` (number ids, paginated lists).
 *
 * @since 0.1.0
 */
export interface AgentCheckpointStorage {
  readonly displayName: string
  storeAgentCheckpoint(checkpoint: NamedAgentCheckpoint): MaybePromise<number>
  retrieveAgentCheckpoint(id: number): MaybePromise<StoredAgentCheckpoint | null>
  listAgentCheckpoints(options?: CheckpointListOptions): MaybePromise<PaginatedResult<AgentCheckpointListItem>>
}

/**
 * Token Ring's `AppCheckpointStorage`.
 *
 * @since 0.1.0
 */
export interface AppCheckpointStorage {
  readonly displayName: string
  storeAppCheckpoint(checkpoint: AppSessionCheckpoint): Promise<number>
  retrieveAppCheckpoint(id: number): Promise<StoredAppCheckpoint | null>
  listAppCheckpoints(options?: CheckpointListOptions): Promise<PaginatedResult<AppSessionListItem>>
  retrieveLatestAppCheckpoint(): Promise<StoredAppCheckpoint | null>
}

/**
 * Token Ring's `MetricsStorage` (package @tokenring-ai/metrics).
 *
 * @since 0.1.0
 */
export interface MetricsStorage {
  storeAgentMetrics(metrics: AgentMetricsInput): MaybePromise<void>
  retrieveAgentMetrics(agentId: string): MaybePromise<AgentMetrics | null>
  listAgentMetrics(): MaybePromise<Array<AgentMetricsListItem>>
  deleteAgentMetrics(agentId: string): MaybePromise<void>
}

/**
 * The part of a Token Ring app (`@tokenring-ai/app` 0.2) that BunStorage and its plugin use. The messages' types are
 * kept loose: the app logs whatever it is given.
 *
 * @since 0.1.0
 */
export interface TokenRingApp {
  getWorkspaceResolvedPath(path: string): string
  serviceOutput(service: TokenRingService, ...messages: Array<unknown>): void
  serviceError(service: TokenRingService, ...messages: Array<unknown>): void
  addService(service: TokenRingService): void
  waitForService<T>(type: abstract new(...args: Array<never>) => T, callback: (service: T) => void): void
}
