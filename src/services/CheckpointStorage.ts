/**
 * The CheckpointStorage service: agent and app checkpoints kept in a SQL database.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type {
  AgentCheckpointListItem,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint
} from "../schema/AgentCheckpoint.js"
import type { AppSessionCheckpoint, AppSessionListItem, StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import type {
  CheckpointValidationError,
  StateDecodeError,
  StateEncodeError,
  StorageConnectionError,
  StorageQueryError
} from "./CheckpointStorageError.js"

/**
 * The failures any database round trip can have.
 *
 * @since 0.1.0
 */
export type DatabaseError = StorageConnectionError | StorageQueryError

/**
 * The failures of a store: the input is checked and encoded before anything is written.
 *
 * @since 0.1.0
 */
export type StoreError = CheckpointValidationError | StateEncodeError | DatabaseError

/**
 * The failures of reading a full checkpoint back.
 *
 * @since 0.1.0
 */
export type RetrieveError = StateDecodeError | DatabaseError

/**
 * The operations of the storage. Lists are ordered newest first (`createdAt` descending, then `id` descending, so
 * checkpoints created in the same millisecond still have one order) and never read the state column.
 *
 * @since 0.1.0
 */
export interface CheckpointStorageService {
  /** Stores an agent checkpoint and returns its id. The input is validated first; invalid input writes nothing. */
  readonly storeAgentCheckpoint: (checkpoint: NamedAgentCheckpoint) => Effect.Effect<string, StoreError>
  /** The agent checkpoint with this id, or None (also for ids that cannot exist, such as "abc"). */
  readonly retrieveAgentCheckpoint: (id: string) => Effect.Effect<Option.Option<StoredAgentCheckpoint>, RetrieveError>
  /** Every agent checkpoint without its state, newest first. */
  readonly listAgentCheckpoints: () => Effect.Effect<ReadonlyArray<AgentCheckpointListItem>, DatabaseError>
  /** Stores an app session checkpoint and returns its id. The input is validated first. */
  readonly storeAppCheckpoint: (checkpoint: AppSessionCheckpoint) => Effect.Effect<string, StoreError>
  /** The app checkpoint with this id, or None. */
  readonly retrieveAppCheckpoint: (id: string) => Effect.Effect<Option.Option<StoredAppCheckpoint>, RetrieveError>
  /** Every app checkpoint without its state, newest first. */
  readonly listAppCheckpoints: () => Effect.Effect<ReadonlyArray<AppSessionListItem>, DatabaseError>
  /** The newest app checkpoint (by createdAt, then id), or None when there is none. */
  readonly retrieveLatestAppCheckpoint: () => Effect.Effect<Option.Option<StoredAppCheckpoint>, RetrieveError>
}

/**
 * The CheckpointStorage service tag. Provide it with one of the layers (`layerSqliteNode`, `layerPostgres`, …).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CheckpointStorage, layerSqliteNode } from "effect-checkpoint-storage"
 *
 * const program = Effect.gen(function*() {
 *   const storage = yield* CheckpointStorage
 *   const id = yield* storage.storeAgentCheckpoint({
 *     agentId: "agent-1", sessionId: "session-1", agentType: "coder", name: "step 1",
 *     state: { messages: ["hello"] }, createdAt: Date.now()
 *   })
 *   return yield* storage.retrieveAgentCheckpoint(id)
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(layerSqliteNode({ databasePath: "./agent_state.db" }))))
 * ```
 *
 * @since 0.1.0
 */
export class CheckpointStorage extends Context.Tag("effect-checkpoint-storage/CheckpointStorage")<
  CheckpointStorage,
  CheckpointStorageService
>() {}
