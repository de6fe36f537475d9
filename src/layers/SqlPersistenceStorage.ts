/**
 * The persistence service over any @effect/sql `SqlClient`: one implementation of `@effect/experimental`'s
 * `BackingPersistence` for PostgreSQL, MySQL/MariaDB and SQLite. Its migrations run on first use, so that the layers
 * which provide it next to CheckpointStorage create its table only for programs that use it.
 *
 * @since 0.2.0
 */
import {
  type BackingPersistence,
  BackingPersistence as BackingPersistenceTag,
  type BackingPersistenceStore,
  BackingPersistenceTypeId,
  PersistenceBackingError,
  unsafeTtlToExpires
} from "@effect/experimental/Persistence"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { decodeInput } from "../internal/decodeInput.js"
import { type MigrationError, StateDecodeError, StateEncodeError } from "../services/CheckpointStorageError.js"
import { PersistenceStorage, type PersistenceStorageService } from "../services/PersistenceStorage.js"
import { makeLazyMigratedService } from "./LazyMigratedService.js"
import { validatePersistenceKeys } from "./PersistenceKeys.js"
import {
  PERSISTENCE_MIGRATIONS_TABLE,
  PERSISTENCE_TABLE,
  persistenceMigrations
} from "./PersistenceMigrations.js"
import {
  chunksOf,
  MAX_BOUND_PARAMETERS,
  makePersistenceStatements,
  type PersistenceRow
} from "./PersistenceStatements.js"
import { resolveDialect } from "./SqlCheckpointStorage.js"

/**
 * @since 0.2.0
 */
export interface SqlPersistenceStorageOptions {
  /** How long one operation may wait for the database; as CheckpointStorage's option of the same name. */
  readonly operationTimeout?: Duration.DurationInput | undefined
  /** Whether each SQL statement gets a span of its own inside `PersistenceStorage.<operation>`; as CheckpointStorage's. */
  readonly statementSpans?: boolean | undefined
}

const validateSampleSize = decodeInput(
  Schema.Struct({ sampleSize: Schema.optional(Schema.Int.pipe(Schema.between(0, 10_000))) }),
  "PersistencePrunePlanOptions"
)

// Parameters bound per statement besides the keys (store id, now), and per written row.
const KEYS_PER_SELECT = MAX_BOUND_PARAMETERS - 2
const ROWS_PER_INSERT = Math.floor(MAX_BOUND_PARAMETERS / 4)

const encodeValue = (value: unknown): Effect.Effect<string, StateEncodeError> =>
  Effect.suspend(() => {
    try {
      const json: string | undefined = JSON.stringify(value)
      return json === undefined
        ? Effect.fail(new StateEncodeError({ path: "value", reason: `${typeof value} has no JSON form` }))
        : Effect.succeed(json)
    } catch (cause) {
      return Effect.fail(
        new StateEncodeError({ path: "value", reason: cause instanceof Error ? cause.message : String(cause) })
      )
    }
  })

const decodeValue = (storeId: string, key: string, json: string): Effect.Effect<unknown, StateDecodeError> =>
  Effect.try({
    try: (): unknown => JSON.parse(json),
    catch: (cause) => new StateDecodeError({ table: PERSISTENCE_TABLE, id: `${storeId}/${key}`, cause })
  })

/**
 * Builds the service on the `SqlClient` in context. Nothing is read or written until the first operation.
 *
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function*(
  options: SqlPersistenceStorageOptions = {}
): Effect.fn.Return<PersistenceStorageService, MigrationError, SqlClient.SqlClient> {
  const client = yield* SqlClient.SqlClient
  const sql = client.withoutTransforms()
  const dialect = yield* resolveDialect(sql)
  const statements = makePersistenceStatements(sql)
  const { installed, operation, setup } = yield* makeLazyMigratedService({
    service: "PersistenceStorage",
    dialect,
    migrations: persistenceMigrations,
    migrationsTable: PERSISTENCE_MIGRATIONS_TABLE,
    operationTimeout: options.operationTimeout,
    statementSpans: options.statementSpans
  })

  // A store's call: its keys checked before anything runs (nothing is written for a call refused), then the
  // operation; every failure becomes the PersistenceBackingError that Persistence's callers expect, ours as its cause.
  const storeCall = <A, E>(
    method: string,
    storeId: string,
    keys: ReadonlyArray<string>,
    effect: Effect.Effect<A, E | SqlError>
  ): Effect.Effect<A, PersistenceBackingError> =>
    Effect.suspend((): Effect.Effect<A, unknown> => {
      const invalid = validatePersistenceKeys(storeId, keys)
      return invalid === undefined ? operation<A, E>(method, effect) : Effect.fail(invalid)
    }).pipe(Effect.mapError((error) => PersistenceBackingError.make(method, error)))

  const storeOf = (storeId: string, clock: Clock.Clock): BackingPersistenceStore => {
    const now = () => clock.unsafeCurrentTimeMillis()

    const rowsOf = (entries: ReadonlyArray<readonly [key: string, value: unknown, ttl: Option.Option<Duration.Duration>]>) =>
      Effect.gen(function*() {
        // The last entry of a key wins, as in the memory backing (PostgreSQL refuses a statement that updates one row
        // twice); sorted by key so that concurrent writers of the same keys lock them in one order (no deadlock).
        const byKey = new Map<string, PersistenceRow>()
        for (const [key, value, ttl] of entries) {
          byKey.set(key, { store_id: storeId, id: key, value: yield* encodeValue(value), expires_at: unsafeTtlToExpires(clock, ttl) })
        }
        return [...byKey.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      })

    return {
      get: (key) =>
        storeCall(
          "get",
          storeId,
          [key],
          // The time is read when the effect runs, not when it is made (it may be run again, later).
          Effect.flatMap(Effect.suspend(() => statements.selectValue(storeId, key, now())), (json) =>
            json === undefined ? Effect.succeedNone : Effect.asSome(decodeValue(storeId, key, json)))
        ),
      getMany: (keys) =>
        storeCall(
          "getMany",
          storeId,
          keys,
          Effect.gen(function*() {
            if (keys.length === 0) return []
            const at = now()
            const unique = [...new Set(keys)]
            const found = new Map<string, unknown>()
            for (const chunk of chunksOf(unique, KEYS_PER_SELECT)) {
              for (const row of yield* statements.selectValues(storeId, chunk, at)) {
                found.set(row.id, yield* decodeValue(storeId, row.id, row.value))
              }
            }
            // In the order asked, a key asked twice answered twice, None for a key absent or expired.
            return keys.map((key) => (found.has(key) ? Option.some(found.get(key)) : Option.none()))
          })
        ),
      set: (key, value, ttl) =>
        storeCall("set", storeId, [key], Effect.flatMap(rowsOf([[key, value, ttl]]), statements.upsert)),
      setMany: (entries) =>
        storeCall(
          "setMany",
          storeId,
          entries.map(([key]) => key),
          Effect.gen(function*() {
            const rows = yield* rowsOf(entries)
            if (rows.length === 0) return
            const chunks = chunksOf(rows, ROWS_PER_INSERT)
            const write = Effect.forEach(chunks, statements.upsert, { discard: true })
            // All or nothing when a call needs more than one statement.
            yield* chunks.length === 1 ? write : sql.withTransaction(write)
          })
        ),
      remove: (key) => storeCall("remove", storeId, [key], statements.remove(storeId, key)),
      clear: storeCall("clear", storeId, [], statements.clear(storeId))
    }
  }

  // As the memory backing does, a store reads the Clock of the fiber that makes it (a TestClock in tests).
  const backing: BackingPersistence = BackingPersistenceTag.of({
    [BackingPersistenceTypeId]: BackingPersistenceTypeId,
    make: (storeId) => Effect.map(Effect.clock, (clock) => storeOf(storeId, clock))
  })

  const statistics: PersistenceStorageService["statistics"] = () =>
    operation("statistics", Effect.flatMap(Clock.currentTimeMillis, statements.statistics))

  const planPrune: PersistenceStorageService["planPrune"] = (planOptions) =>
    operation(
      "planPrune",
      Effect.gen(function*() {
        const { sampleSize = 20 } = yield* validateSampleSize(planOptions ?? {})
        const at = yield* Clock.currentTimeMillis
        const count = yield* statements.countExpired(at)
        const sample = count === 0 || sampleSize === 0 ? [] : yield* statements.sampleExpired(at, sampleSize)
        return { count, sample }
      })
    )

  // Counted and deleted at one instant in one transaction: the count is what the DELETE removed.
  const prune: PersistenceStorageService["prune"] = () =>
    operation(
      "prune",
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        sql.withTransaction(Effect.zipLeft(statements.countExpired(at), statements.deleteExpired(at))))
    )

  return PersistenceStorage.of({ backing, setup: Effect.asVoid(setup), installed, statistics, planPrune, prune })
})

/**
 * The persistence service on a `SqlClient` of your own. The layers of this library already provide it.
 *
 * @example
 * ```ts
 * import { SqliteClient } from "@effect/sql-sqlite-node"
 * import { Layer } from "effect"
 * import { layerPersistenceSql } from "effect-checkpoint-storage"
 *
 * const PersistenceLive = layerPersistenceSql().pipe(Layer.provide(SqliteClient.layer({ filename: "./cache.db" })))
 * ```
 *
 * @since 0.2.0
 */
export const layerPersistenceSql = (
  options?: SqlPersistenceStorageOptions
): Layer.Layer<PersistenceStorage, MigrationError, SqlClient.SqlClient> => Layer.effect(PersistenceStorage, make(options))

/**
 * `@effect/experimental`'s `BackingPersistence` on the database of the layer in context (`layerSqliteNode`,
 * `layerPostgres`, …): the name effect 4 gives its own SQL backing (`Persistence.layerBackingSql`), next to
 * `layerBackingMemory` and `layerBackingRedis`.
 *
 * @example
 * ```ts
 * import { Chat } from "@effect/ai"
 * import { Persistence } from "@effect/experimental"
 * import { Layer } from "effect"
 * import { layerBackingSql, layerSqliteNode } from "effect-checkpoint-storage"
 *
 * const Storage = layerSqliteNode({ databasePath: "./agent_state.db" })
 * const Chats = Chat.layerPersisted({ storeId: "chats" }).pipe(Layer.provide(layerBackingSql), Layer.provide(Storage))
 * const Results = Persistence.layerResult.pipe(Layer.provide(layerBackingSql), Layer.provide(Storage))
 * ```
 *
 * @since 0.2.0
 */
export const layerBackingSql: Layer.Layer<BackingPersistence, never, PersistenceStorage> = Layer.effect(
  BackingPersistenceTag,
  Effect.map(PersistenceStorage, (persistence) => persistence.backing)
)
