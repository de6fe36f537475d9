/**
 * The CheckpointStorage service: agent and app checkpoints kept in a SQL database.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type {
  AgentCheckpointListItem,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint
} from "../schema/AgentCheckpoint.js"
import type { AgentMetrics, AgentMetricsInput, AgentMetricsListItem } from "../schema/AgentMetrics.js"
import type { AppSessionCheckpoint, AppSessionListItem, StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import type {
  AgentCheckpointChanges,
  AgentCheckpointFilter,
  AgentCheckpointListOptions,
  AgentCheckpointSelector,
  AppCheckpointChanges,
  AppCheckpointFilter,
  AppCheckpointListOptions,
  AppCheckpointSelector,
  CheckpointPage,
  CheckpointStreamOptions,
  PruneOptions,
  PrunePlan,
  PruneResult,
  RetentionPolicy,
  SessionStatistics,
  StorageStatistics
} from "../schema/CheckpointQuery.js"
import type {
  AgentListOptions,
  AgentSummary,
  SessionListOptions,
  SessionSummary,
  SummaryPage
} from "../schema/SessionList.js"
import type {
  ImportedAgentCheckpoint,
  ImportedAppCheckpoint,
  ImportPosition,
  ImportResult
} from "../schema/CheckpointImport.js"
import type {
  CheckpointNotFoundError,
  CheckpointValidationError,
  StateDecodeError,
  StateEncodeError,
  StateTooLargeError,
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
 * The failures of a store: the input is checked, encoded and measured before anything is written.
 *
 * @since 0.1.0
 */
export type StoreError =
  | CheckpointValidationError
  | StateEncodeError
  | StateTooLargeError
  | CheckpointNotFoundError
  | DatabaseError

/**
 * The failures of reading a full checkpoint back.
 *
 * @since 0.1.0
 */
export type RetrieveError = StateDecodeError | DatabaseError

/**
 * The failures of a query that takes options.
 *
 * @since 0.1.0
 */
export type QueryError = CheckpointValidationError | DatabaseError

/**
 * The operations of the storage. Lists are ordered newest first (`createdAt` descending, then `id` descending, so
 * checkpoints created in the same millisecond still have one order) and never read the state column.
 *
 * @since 0.1.0
 */
export interface CheckpointStorageService {
  // --- Token Ring's AgentCheckpointStorage ---------------------------------------------------------------------
  /** Stores an agent checkpoint and returns its id. The input is validated first; invalid input writes nothing. */
  readonly storeAgentCheckpoint: (checkpoint: NamedAgentCheckpoint) => Effect.Effect<string, StoreError>
  /** The agent checkpoint with this id, or None (also for ids that cannot exist, such as "abc"). */
  readonly retrieveAgentCheckpoint: (id: string) => Effect.Effect<Option.Option<StoredAgentCheckpoint>, RetrieveError>
  /**
   * Without options: every agent checkpoint, without its state, newest first (Token Ring's list).
   * With options: one page of the checkpoints matching the filter, in the order asked, with a keyset cursor.
   */
  readonly listAgentCheckpoints: {
    (): Effect.Effect<ReadonlyArray<AgentCheckpointListItem>, DatabaseError>
    (options: AgentCheckpointListOptions): Effect.Effect<CheckpointPage<AgentCheckpointListItem>, QueryError>
  }

  // --- Token Ring's AppCheckpointStorage -----------------------------------------------------------------------
  /** Stores an app session checkpoint and returns its id. The input is validated first. */
  readonly storeAppCheckpoint: (checkpoint: AppSessionCheckpoint) => Effect.Effect<string, StoreError>
  /** The app checkpoint with this id, or None. */
  readonly retrieveAppCheckpoint: (id: string) => Effect.Effect<Option.Option<StoredAppCheckpoint>, RetrieveError>
  /** Without options: every app checkpoint, newest first. With options: one page, as for agent checkpoints. */
  readonly listAppCheckpoints: {
    (): Effect.Effect<ReadonlyArray<AppSessionListItem>, DatabaseError>
    (options: AppCheckpointListOptions): Effect.Effect<CheckpointPage<AppSessionListItem>, QueryError>
  }
  /** The newest app checkpoint (by createdAt, then id), of those matching the filter if one is given, or None. */
  readonly retrieveLatestAppCheckpoint: (
    filter?: AppCheckpointFilter
  ) => Effect.Effect<Option.Option<StoredAppCheckpoint>, RetrieveError | CheckpointValidationError>

  // --- Token Ring's MetricsStorage ----------------------------------------------------------------------------
  /**
   * Stores an agent's metrics, replacing what was stored for that agentId (last write wins). Parts of `metrics` left
   * out are stored as zeros and empty collections. The input is validated first; invalid input writes nothing.
   */
  readonly storeAgentMetrics: (metrics: AgentMetricsInput) => Effect.Effect<void, StoreError>
  /** The agent's metrics, or None. */
  readonly retrieveAgentMetrics: (agentId: string) => Effect.Effect<Option.Option<AgentMetrics>, RetrieveError>
  /** Every agent's totals, most recently updated first (then by agentId). */
  readonly listAgentMetrics: () => Effect.Effect<ReadonlyArray<AgentMetricsListItem>, RetrieveError>
  /** Deletes the agent's metrics; returns how many rows went (0 or 1). */
  readonly deleteAgentMetrics: (agentId: string) => Effect.Effect<number, DatabaseError>

  // --- Querying ------------------------------------------------------------------------------------------------
  /** The newest agent checkpoint matching the filter (for example `{ sessionId }` or `{ agentId }`), or None. */
  readonly retrieveLatestAgentCheckpoint: (
    filter?: AgentCheckpointFilter
  ) => Effect.Effect<Option.Option<StoredAgentCheckpoint>, RetrieveError | CheckpointValidationError>
  /** Every matching agent checkpoint, read a page at a time: flat memory for any number of rows. */
  readonly streamAgentCheckpoints: {
    (options: AgentCheckpointFilter & CheckpointStreamOptions & { readonly includeState: true }): Stream.Stream<
      StoredAgentCheckpoint,
      RetrieveError | CheckpointValidationError
    >
    (options?: AgentCheckpointFilter & CheckpointStreamOptions): Stream.Stream<AgentCheckpointListItem, QueryError>
  }
  /** Every matching app checkpoint, read a page at a time. */
  readonly streamAppCheckpoints: {
    (options: AppCheckpointFilter & CheckpointStreamOptions & { readonly includeState: true }): Stream.Stream<
      StoredAppCheckpoint,
      RetrieveError | CheckpointValidationError
    >
    (options?: AppCheckpointFilter & CheckpointStreamOptions): Stream.Stream<AppSessionListItem, QueryError>
  }

  // --- Lifecycle -----------------------------------------------------------------------------------------------
  /** Deletes one agent checkpoint; returns how many rows went (0 or 1). */
  readonly deleteAgentCheckpoint: (id: string) => Effect.Effect<number, DatabaseError>
  /** Deletes one app checkpoint; returns how many rows went (0 or 1). */
  readonly deleteAppCheckpoint: (id: string) => Effect.Effect<number, DatabaseError>
  /** Erases every agent checkpoint of a session and/or an agent (both given: of that agent in that session). */
  readonly deleteAgentCheckpoints: (selector: AgentCheckpointSelector) => Effect.Effect<number, QueryError>
  /** Erases every app checkpoint of a session. */
  readonly deleteAppCheckpoints: (selector: AppCheckpointSelector) => Effect.Effect<number, QueryError>
  /**
   * Applies a retention policy to the checkpoint tables and the metrics now, and reports how many rows each lost and
   * the bytes they held. A table's rules apply one after another (per session, per agent, the newest N overall, then
   * by age), as they do at store time; the rows go in DELETEs of at most `batchSize`, with `onProgress` called after
   * each. Each batch commits on its own, or, with `atomicRules`, each rule is one transaction.
   */
  readonly prune: (policy: RetentionPolicy, options?: PruneOptions) => Effect.Effect<PruneResult, QueryError>
  /** What `prune` would delete now, per table: how many, their bytes, and the first `sampleSize` (default 10). */
  readonly planPrune: (
    policy: RetentionPolicy,
    options?: { readonly sampleSize?: number | undefined }
  ) => Effect.Effect<PrunePlan<AgentCheckpointListItem, AppSessionListItem, AgentMetricsListItem>, QueryError>
  /** Count, total and largest state size, oldest and newest createdAt, per table. */
  readonly statistics: () => Effect.Effect<StorageStatistics, DatabaseError>
  /** Per session, the sessions with the newest checkpoints first (at most `limit`, default 20), per table. */
  readonly sessionStatistics: (options?: { readonly limit?: number | undefined }) => Effect.Effect<
    {
      readonly agentCheckpoints: ReadonlyArray<SessionStatistics>
      readonly appCheckpoints: ReadonlyArray<SessionStatistics>
    },
    QueryError
  >
  /**
   * One page of the sessions of one table (`kind`) that have checkpoints matching the filter, newest activity first
   * (`lastCreatedAt` descending, then `sessionId` descending), each summarised over its matching checkpoints. Invalid
   * options (a limit over 500, a cursor of another query, `from` after `to`) fail before any SQL runs.
   */
  readonly listSessions: (options: SessionListOptions) => Effect.Effect<SummaryPage<SessionSummary>, QueryError>
  /** One page of the agents with matching agent checkpoints, newest activity first (then `agentId` descending). */
  readonly listAgents: (options?: AgentListOptions) => Effect.Effect<SummaryPage<AgentSummary>, QueryError>

  // --- Imports -------------------------------------------------------------------------------------------------
  /**
   * Writes checkpoints that come from `source` (an export file, another database: any name that identifies it),
   * validated and limited as stores are, keeping their `createdAt`, their parents mapped to the new ids. One call is
   * one transaction. The import is recorded: checkpoints of a source already imported are skipped, so an import
   * can be resumed or repeated. Retention applies after each call.
   */
  readonly importAgentCheckpoints: (
    source: string,
    checkpoints: ReadonlyArray<ImportedAgentCheckpoint>
  ) => Effect.Effect<ImportResult, StoreError>
  readonly importAppCheckpoints: (
    source: string,
    checkpoints: ReadonlyArray<ImportedAppCheckpoint>
  ) => Effect.Effect<ImportResult, StoreError>
  /** How much of `source` each table holds. */
  readonly importPosition: (source: string) => Effect.Effect<
    { readonly agentCheckpoints: ImportPosition; readonly appCheckpoints: ImportPosition },
    DatabaseError
  >

  // --- Lineage -------------------------------------------------------------------------------------------------
  /** The agent checkpoint and its ancestors, from it back to the root (empty if there is no such checkpoint). */
  readonly listAgentLineage: (id: string) => Effect.Effect<ReadonlyArray<AgentCheckpointListItem>, DatabaseError>
  /** The app checkpoint and its ancestors, from it back to the root. */
  readonly listAppLineage: (id: string) => Effect.Effect<ReadonlyArray<AppSessionListItem>, DatabaseError>
  /** Stores a new agent checkpoint continuing from `id`: a copy with the changes applied and `parentId = id`. */
  readonly forkAgentCheckpoint: (
    id: string,
    changes?: AgentCheckpointChanges
  ) => Effect.Effect<string, StoreError | StateDecodeError>
  /** Stores a new app checkpoint continuing from `id`. */
  readonly forkAppCheckpoint: (
    id: string,
    changes?: AppCheckpointChanges
  ) => Effect.Effect<string, StoreError | StateDecodeError>
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
