/**
 * The SQL backing of `@effect/experimental`'s `Persistence` as an Effect service over the same `SqlClient` as
 * CheckpointStorage: the `BackingPersistence` that `PersistedCache`, `Persistence.layerResult` and `@effect/ai`'s
 * `Chat.layerPersisted` need, and the upkeep of its table (statistics, pruning of expired entries) for the CLI and
 * for programs.
 *
 * @since 0.2.0
 */
import type { BackingPersistence } from "@effect/experimental/Persistence"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type {
  CheckpointValidationError,
  MigrationError,
  StorageConnectionError,
  StorageQueryError
} from "./CheckpointStorageError.js"

/**
 * What an upkeep operation of the persistence table can fail with.
 *
 * @since 0.2.0
 */
export type PersistenceStorageError = StorageConnectionError | StorageQueryError | MigrationError

/**
 * The entries of one store id.
 *
 * @since 0.2.0
 */
export interface PersistenceStoreStatistics {
  readonly storeId: string
  /** Every row, expired or not. */
  readonly entries: number
  /** The rows whose expiry has passed: never returned, and deleted by `prune`. */
  readonly expired: number
  /** The values' JSON text, in UTF-8 bytes. */
  readonly valueBytes: number
}

/**
 * One expired entry that a prune would delete.
 *
 * @since 0.2.0
 */
export interface ExpiredPersistenceEntry {
  readonly storeId: string
  readonly key: string
  /** When it expired, in milliseconds since the epoch. */
  readonly expiresAt: number
}

/**
 * What a prune would delete: how many entries, and the first of them by expiry.
 *
 * @since 0.2.0
 */
export interface PersistencePrunePlan {
  readonly count: number
  readonly sample: ReadonlyArray<ExpiredPersistenceEntry>
}

/**
 * @since 0.2.0
 */
export interface PersistenceStorageService {
  /**
   * The `BackingPersistence` over the table. Its stores fail with `PersistenceBackingError`, whose `cause` is one
   * of this library's typed errors: `CheckpointValidationError` for a store id or key it refuses,
   * `StateEncodeError` for a value that is not JSON, `StateDecodeError`, `StorageConnectionError`,
   * `StorageQueryError`, `MigrationError`.
   */
  readonly backing: BackingPersistence
  /** Applies the table's migrations now rather than at the first operation. */
  readonly setup: Effect.Effect<void, MigrationError | StorageConnectionError>
  /** Whether the table exists at this version; asking creates nothing. */
  readonly installed: Effect.Effect<boolean, StorageConnectionError | StorageQueryError>
  /** The entries per store id, by store id. */
  readonly statistics: () => Effect.Effect<ReadonlyArray<PersistenceStoreStatistics>, PersistenceStorageError>
  /** How many expired entries a prune would delete now, with up to `sampleSize` (default 20) of them. */
  readonly planPrune: (options?: {
    readonly sampleSize?: number | undefined
  }) => Effect.Effect<PersistencePrunePlan, PersistenceStorageError | CheckpointValidationError>
  /** Deletes the expired entries of every store; returns how many. */
  readonly prune: () => Effect.Effect<number, PersistenceStorageError>
}

/**
 * The persistence service. Every layer of this library provides it; its table is created on first use.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layerSqliteNode, PersistenceStorage } from "effect-checkpoint-storage"
 *
 * const expired = Effect.flatMap(PersistenceStorage, (persistence) => persistence.prune()).pipe(
 *   Effect.provide(layerSqliteNode({ databasePath: "./agent_state.db" }))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class PersistenceStorage extends Context.Tag("effect-checkpoint-storage/PersistenceStorage")<
  PersistenceStorage,
  PersistenceStorageService
>() {}
