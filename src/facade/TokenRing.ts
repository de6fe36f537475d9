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
import type { AppSessionCheckpoint, AppSessionListItem, StoredAppCheckpoint } from "../schema/AppCheckpoint.js"

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
