/**
 * A fresh, empty database on a real server (or a fresh SQLite file), created for one test group and dropped after
 * it. The conformance suite talks to it only through this service, so it runs unchanged on every target.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, type Effect, type Layer } from "effect"
import type {
  CheckpointStorage,
  Dialect,
  SqlCheckpointStorageOptions,
  StorageConfig,
  StorageLayerError
} from "../../src/index.js"

export interface TestDatabaseService {
  readonly dialect: Dialect
  /** The drizzle-storage style config object of this database (what layerFromConfig and the facade take). */
  readonly config: StorageConfig
  /** A new, independent CheckpointStorage on this database (its own connections, its own migration run). */
  readonly storage: (options?: SqlCheckpointStorageOptions) => Layer.Layer<CheckpointStorage, StorageLayerError>
  /** Runs raw SQL on this database through a connection of its own, to look behind the storage's back. */
  readonly withSql: <A, E>(f: (sql: SqlClient) => Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
}

export class TestDatabase extends Context.Tag("test/TestDatabase")<TestDatabase, TestDatabaseService>() {}

/** What a target (a database server and driver) provides to the suite. */
export interface TestTarget {
  readonly name: string
  readonly dialect: Dialect
  /** Creates an empty database for the scope of the layer and drops it afterwards. */
  readonly freshDatabase: Layer.Layer<TestDatabase, unknown>
  /** Configs that cannot connect (a closed port, a wrong password, a missing file), with the secret they hold. */
  readonly unreachable: ReadonlyArray<{ readonly label: string; readonly config: StorageConfig; readonly secret?: string }>
  /** SQLite only: a command that runs another process which holds the file's write lock for `millis`, printing
   * "locked" once it has it. (The SQLite drivers wait for a lock synchronously, so the other writer must be another
   * process, as it is in real use.) */
  /** SQLite only: a command that runs another process which opens a storage on the file (applying the migrations)
   * and stores one agent checkpoint named `name`, printing its id. */
  readonly storageProcess?: (databasePath: string, name: string) => readonly [command: string, args: ReadonlyArray<string>]
  readonly lockHolder?: (databasePath: string, millis: number) => readonly [command: string, args: ReadonlyArray<string>]
}

export const randomSuffix = (): string => `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`
