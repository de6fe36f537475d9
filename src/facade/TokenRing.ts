/**
 * Token Ring's interfaces, declared structurally: the `@tokenring-ai/*` packages are not on the npm registry.
 * Shapes as in Token Ring's `@tokenring-ai/checkpoint` and `@tokenring-ai/app` (the string-id generation).
 *
 * @since 0.1.0
 */
import type {
  AgentCheckpointListItem,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint
} from "../schema/AgentCheckpoint.js"
import type * as AppCheckpoint from "../schema/AppCheckpoint.js"
import type { WithProjectDirectory } from "./projectDirectory.js"

/**
 * An app checkpoint of the older generation: its directory is `projectDirectory`.
 *
 * @since 0.1.0
 */
export type AppSessionCheckpoint = WithProjectDirectory<AppCheckpoint.AppSessionCheckpoint>

/**
 * @since 0.1.0
 */
export type StoredAppCheckpoint = WithProjectDirectory<AppCheckpoint.StoredAppCheckpoint>

/**
 * @since 0.1.0
 */
export type AppSessionListItem = WithProjectDirectory<AppCheckpoint.AppSessionListItem>

/**
 * @since 0.1.0
 */
export type MaybePromise<A> = A | Promise<A>

/**
 * A service registered with a Token Ring app.
 *
 * @since 0.1.0
 */
export interface TokenRingService {
  readonly name: string
  readonly description: string
  run?(signal: AbortSignal): MaybePromise<void>
  start?(signal?: AbortSignal): MaybePromise<void>
  stop?(): MaybePromise<void>
}

/**
 * Token Ring's `AgentCheckpointStorage` (package @tokenring-ai/checkpoint).
 *
 * @since 0.1.0
 */
export interface AgentCheckpointStorage {
  readonly displayName: string
  start?(): Promise<void>
  storeAgentCheckpoint(data: NamedAgentCheckpoint): Promise<string>
  retrieveAgentCheckpoint(id: string): Promise<StoredAgentCheckpoint | null>
  listAgentCheckpoints(): Promise<Array<AgentCheckpointListItem>>
}

/**
 * Token Ring's `AppCheckpointStorage` (package @tokenring-ai/checkpoint).
 *
 * @since 0.1.0
 */
export interface AppCheckpointStorage {
  readonly displayName: string
  start?(): Promise<void>
  storeAppCheckpoint(data: AppSessionCheckpoint): Promise<string>
  retrieveAppCheckpoint(id: string): Promise<StoredAppCheckpoint | null>
  listAppCheckpoints(): Promise<Array<AppSessionListItem>>
  retrieveLatestAppCheckpoint(): Promise<StoredAppCheckpoint | null>
}

/**
 * The list options of Token Ring's later (paginated) generation of the checkpoint storages.
 *
 * @since 0.1.0
 */
export interface CheckpointListOptions {
  readonly sessionId?: string | undefined
  readonly agentId?: string | undefined
  readonly agentType?: string | undefined
  readonly hostname?: string | undefined
  readonly projectDirectory?: string | undefined
  /** Page size, 1 or more (default 50). */
  readonly limit?: number | undefined
  /** Rows to skip (default 0). */
  readonly offset?: number | undefined
  /** createdAt < before (ms). */
  readonly before?: number | undefined
  /** createdAt > after (ms). */
  readonly after?: number | undefined
  readonly orderBy?: "createdAt" | "id" | undefined
  readonly orderDir?: "ASC" | "DESC" | undefined
}

/**
 * A page in the shape of Token Ring's later generation.
 *
 * @since 0.1.0
 */
export interface PaginatedResult<T> {
  readonly items: Array<T>
  readonly total: number
  readonly hasMore: boolean
  readonly limit: number
  readonly offset: number
}
