/**
 * Bun's built-in bun:sqlite as the SQLite client's driver (clients/SqliteClient.ts). It opens a file and runs each
 * statement synchronously.
 *
 * @internal
 */
import type { SqliteDatabaseHandle, SqliteDriver, SqliteRunResult } from "./SqliteClient.js"

/** The part of bun:sqlite used here (https://bun.sh/docs/api/sqlite); this project has no Bun type definitions. */
interface BunDatabase {
  prepare(sql: string): BunStatement
  close(): void
}

interface BunStatement {
  /** Empty for a statement that returns no rows (SQLite's column count). */
  readonly columnNames: ReadonlyArray<string>
  all(...params: Array<unknown>): Array<object>
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
      values: (params) => statement.values(...params),
      run: (params) => statement.run(...params),
      safeIntegers: (enabled) => void statement.safeIntegers?.(enabled)
    }
  },
  close: () => db.close()
})

/**
 * bun:sqlite, imported when a layer is built. Under Node.js it cannot be loaded: the layer then fails with
 * DRIVER_NOT_AVAILABLE.
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
