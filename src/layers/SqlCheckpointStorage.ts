/**
 * CheckpointStorage over any @effect/sql `SqlClient`: one implementation for PostgreSQL, MySQL/MariaDB and SQLite.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { decodeInput } from "../internal/decodeInput.js"
import {
  type AgentCheckpointFilter,
  type AgentCheckpointListOptions,
  type AppCheckpointFilter,
  type AppCheckpointListOptions,
  type CheckpointStreamOptions,
  RetentionPolicy as RetentionPolicySchema,
  type RetentionPolicy
} from "../schema/CheckpointQuery.js"
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"
import {
  type CheckpointValidationError,
  type Dialect,
  MigrationError,
  type StorageConnectionError
} from "../services/CheckpointStorageError.js"
import { runCheckpointMigrations } from "./CheckpointMigrations.js"
import { agentCheckpoints, appCheckpoints } from "./CheckpointTables.js"
import { makeCheckpointTable } from "./SqlCheckpointTable.js"

/**
 * @since 0.1.0
 */
export interface SqlCheckpointStorageOptions {
  /** The table recording applied migrations. Default `effect_checkpoint_storage_migrations`. */
  readonly migrationsTable?: string | undefined
  /** Refuse states whose JSON is larger than this many UTF-8 bytes (StateTooLargeError). Default: no limit. */
  readonly maxStateBytes?: number | undefined
  /** Applied in the transaction of every store, so the tables never hold more than it allows. Default: none. */
  readonly retention?: RetentionPolicy | undefined
}

/**
 * Separates the storage's own options from those of the client they were given with.
 *
 * @internal
 */
export const splitStorageOptions = <T extends SqlCheckpointStorageOptions>(
  options: T
): readonly [SqlCheckpointStorageOptions, Omit<T, keyof SqlCheckpointStorageOptions>] => {
  const { maxStateBytes, migrationsTable, retention, ...rest } = options
  return [{ maxStateBytes, migrationsTable, retention }, rest]
}

const resolveDialect = (sql: SqlClient.SqlClient): Effect.Effect<Dialect, MigrationError> =>
  sql.onDialectOrElse({
    pg: () => Effect.succeed("pg" as const),
    mysql: () => Effect.succeed("mysql" as const),
    sqlite: () => Effect.succeed("sqlite" as const),
    orElse: () => Effect.fail(new MigrationError({ reason: "unsupported-dialect" }))
  })

const StorageOptions = Schema.Struct({
  maxStateBytes: Schema.optional(
    Schema.Number.pipe(Schema.filter((n) => (Number.isSafeInteger(n) && n > 0) || "must be a whole number of bytes, 1 or more"))
  ),
  retention: Schema.optional(RetentionPolicySchema)
})
const validateOptions = decodeInput(StorageOptions, "SqlCheckpointStorageOptions")

/**
 * Builds the storage on the `SqlClient` in context, after applying the migrations.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(
  options: SqlCheckpointStorageOptions = {}
): Effect.fn.Return<
  CheckpointStorageService,
  MigrationError | StorageConnectionError | CheckpointValidationError,
  SqlClient.SqlClient
> {
  const { maxStateBytes, retention } = yield* validateOptions({
    maxStateBytes: options.maxStateBytes,
    retention: options.retention
  })
  // Our column names are exact (camelCase, as drizzle-storage made them): the caller's name transforms must not
  // bend them.
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const dialect = yield* resolveDialect(sql)
  yield* runCheckpointMigrations({ dialect, table: options.migrationsTable })

  const agents = makeCheckpointTable(sql, dialect, agentCheckpoints, { maxStateBytes, retention })
  const apps = makeCheckpointTable(sql, dialect, appCheckpoints, { maxStateBytes, retention })
  const validatePolicy = decodeInput(RetentionPolicySchema, "RetentionPolicy")

  const listAgentCheckpoints = (options?: AgentCheckpointListOptions) =>
    options === undefined ? agents.listAll("listAgentCheckpoints") : agents.listPage("listAgentCheckpoints", options)
  const listAppCheckpoints = (options?: AppCheckpointListOptions) =>
    options === undefined ? apps.listAll("listAppCheckpoints") : apps.listPage("listAppCheckpoints", options)
  const streamAgentCheckpoints = (options?: AgentCheckpointFilter & CheckpointStreamOptions) =>
    agents.stream("streamAgentCheckpoints", options)
  const streamAppCheckpoints = (options?: AppCheckpointFilter & CheckpointStreamOptions) =>
    apps.stream("streamAppCheckpoints", options)

  return CheckpointStorage.of({
    storeAgentCheckpoint: Effect.fn("CheckpointStorage.storeAgentCheckpoint")((checkpoint) =>
      agents.store("storeAgentCheckpoint", checkpoint)
    ),
    retrieveAgentCheckpoint: Effect.fn("CheckpointStorage.retrieveAgentCheckpoint")((id) =>
      agents.retrieve("retrieveAgentCheckpoint", id)
    ),
    listAgentCheckpoints: Effect.fn("CheckpointStorage.listAgentCheckpoints")(
      listAgentCheckpoints
    ) as CheckpointStorageService["listAgentCheckpoints"],
    storeAppCheckpoint: Effect.fn("CheckpointStorage.storeAppCheckpoint")((checkpoint) =>
      apps.store("storeAppCheckpoint", checkpoint)
    ),
    retrieveAppCheckpoint: Effect.fn("CheckpointStorage.retrieveAppCheckpoint")((id) =>
      apps.retrieve("retrieveAppCheckpoint", id)
    ),
    listAppCheckpoints: Effect.fn("CheckpointStorage.listAppCheckpoints")(
      listAppCheckpoints
    ) as CheckpointStorageService["listAppCheckpoints"],
    retrieveLatestAppCheckpoint: Effect.fn("CheckpointStorage.retrieveLatestAppCheckpoint")((filter) =>
      apps.latest("retrieveLatestAppCheckpoint", filter)
    ),
    retrieveLatestAgentCheckpoint: Effect.fn("CheckpointStorage.retrieveLatestAgentCheckpoint")((filter) =>
      agents.latest("retrieveLatestAgentCheckpoint", filter)
    ),
    streamAgentCheckpoints: ((options) =>
      Stream.withSpan(streamAgentCheckpoints(options), "CheckpointStorage.streamAgentCheckpoints")) as CheckpointStorageService[
        "streamAgentCheckpoints"
      ],
    streamAppCheckpoints: ((options) =>
      Stream.withSpan(streamAppCheckpoints(options), "CheckpointStorage.streamAppCheckpoints")) as CheckpointStorageService[
        "streamAppCheckpoints"
      ],
    deleteAgentCheckpoint: Effect.fn("CheckpointStorage.deleteAgentCheckpoint")((id) =>
      agents.deleteById("deleteAgentCheckpoint", id)
    ),
    deleteAppCheckpoint: Effect.fn("CheckpointStorage.deleteAppCheckpoint")((id) =>
      apps.deleteById("deleteAppCheckpoint", id)
    ),
    deleteAgentCheckpoints: Effect.fn("CheckpointStorage.deleteAgentCheckpoints")((selector) =>
      agents.deleteWhere("deleteAgentCheckpoints", selector)
    ),
    deleteAppCheckpoints: Effect.fn("CheckpointStorage.deleteAppCheckpoints")((selector) =>
      apps.deleteWhere("deleteAppCheckpoints", selector)
    ),
    prune: Effect.fn("CheckpointStorage.prune")(function*(policy) {
      const valid = yield* validatePolicy(policy)
      return { agentCheckpoints: yield* agents.prune(valid), appCheckpoints: yield* apps.prune(valid) }
    }),
    statistics: Effect.fn("CheckpointStorage.statistics")(function*() {
      return {
        agentCheckpoints: yield* agents.statistics("statistics"),
        appCheckpoints: yield* apps.statistics("statistics")
      }
    }),
    listAgentLineage: Effect.fn("CheckpointStorage.listAgentLineage")((id) => agents.lineage("listAgentLineage", id)),
    listAppLineage: Effect.fn("CheckpointStorage.listAppLineage")((id) => apps.lineage("listAppLineage", id)),
    forkAgentCheckpoint: Effect.fn("CheckpointStorage.forkAgentCheckpoint")((id, changes) =>
      agents.fork("forkAgentCheckpoint", id, changes)
    ),
    forkAppCheckpoint: Effect.fn("CheckpointStorage.forkAppCheckpoint")((id, changes) =>
      apps.fork("forkAppCheckpoint", id, changes)
    )
  })
})

/**
 * CheckpointStorage from any @effect/sql `SqlClient` (PostgreSQL, MySQL/MariaDB or SQLite). Building the layer
 * applies the migrations.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { layerSql } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerSql().pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make(process.env.DATABASE_URL!) }))
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layerSql = (
  options?: SqlCheckpointStorageOptions
): Layer.Layer<
  CheckpointStorage,
  MigrationError | StorageConnectionError | CheckpointValidationError,
  SqlClient.SqlClient
> =>
  Layer.effect(CheckpointStorage, make(options))
