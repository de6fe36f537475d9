/**
 * CheckpointStorage on a SQLite file through bun:sqlite, for Bun.
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import type { StorageLayerError } from "../internal/clientLayer.js"
import type { SqliteDatabaseHandle, SqliteRunResult } from "../internal/sqliteClient.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import { type SqliteDriver, type SqliteStorageOptions, sqliteStorage } from "./SqliteNode.js"

/** The part of bun:sqlite used here (https://bun.sh/docs/api/sqlite); this project has no Bun type definitions. */
interface BunDatabase {
  prepare(sql: string): BunStatement
  readonly inTransaction: boolean
  close(): void
}

interface BunStatement {
  /** Empty for a statement that returns no rows (SQLite's column count). */
  readonly columnNames: ReadonlyArray<string>
  all(...params: Array<unknown>): Array<object>
  get(...params: Array<unknown>): object | null
  values(...params: Array<unknown>): Array<Array<unknown>>
  run(...params: Array<unknown>): SqliteRunResult
  /** Missing before Bun 1.1.14. */
  safeIntegers?(enabled: boolean): unknown
}

type BunDatabaseConstructor = new(
  filename: string,
  options: { readonly readonly?: boolean; readonly create?: boolean; readonly readwrite?: boolean }
) => BunDatabase

const bunSqliteHandle = (db: BunDatabase): SqliteDatabaseHandle => ({
  prepare: (sql) => {
    const statement = db.prepare(sql)
    return {
      returnsRows: statement.columnNames.length > 0,
      all: (params) => statement.all(...params),
      // bun:sqlite answers null when there is no row.
      first: (params) => statement.get(...params) ?? undefined,
      values: (params) => statement.values(...params),
      run: (params) => statement.run(...params),
      safeIntegers: (enabled) => void statement.safeIntegers?.(enabled)
    }
  },
  inTransaction: () => db.inTransaction,
  close: () => db.close()
})

/**
 * Bun's built-in bun:sqlite. Under Node.js it cannot be loaded: the layer then fails with DRIVER_NOT_AVAILABLE.
 *
 * @internal
 */
export const bunSqlite: SqliteDriver = {
  packageName: "bun:sqlite (Bun only)",
  load: async () => {
    // A specifier in a variable: neither TypeScript nor the test bundler knows this Bun-only module.
    const specifier = "bun:sqlite"
    const { Database } = (await import(/* @vite-ignore */ specifier)) as { readonly Database?: BunDatabaseConstructor }
    // Node.js refuses the `bun:` scheme, but a bundler or loader may hand back an empty module instead.
    if (typeof Database !== "function") throw new Error("bun:sqlite is built into Bun and exists nowhere else")
    return (filename, { readonly }) =>
      bunSqliteHandle(new Database(filename, readonly ? { readonly: true } : { readwrite: true, create: true }))
  }
}

/**
 * CheckpointStorage on a SQLite file, through Bun's built-in bun:sqlite. Same options and behaviour as
 * `layerSqliteNode`; building it under Node.js fails with a StorageConnectionError (code DRIVER_NOT_AVAILABLE).
 *
 * @example
 * ```ts
 * import { layerSqliteBun } from "effect-checkpoint-storage"
 *
 * const StorageLive = layerSqliteBun({ databasePath: "./agent_state.db" })
 * ```
 *
 * @since 0.1.0
 */
export const layerSqliteBun = (options: SqliteStorageOptions): Layer.Layer<CheckpointStorage, StorageLayerError> =>
  sqliteStorage(options, bunSqlite)
