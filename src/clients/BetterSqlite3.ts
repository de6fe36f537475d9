/**
 * better-sqlite3 (Node.js) as the SQLite client's driver (clients/SqliteClient.ts). It opens a file and runs each
 * statement synchronously.
 *
 * @internal
 */
import type BetterSqlite3 from "better-sqlite3"
import type { SqliteDatabaseHandle, SqliteDriver } from "./SqliteClient.js"

const betterSqlite3Handle = (db: BetterSqlite3.Database): SqliteDatabaseHandle => ({
  prepare: (sql) => {
    const statement = db.prepare<Array<unknown>, object>(sql)
    return {
      returnsRows: statement.reader,
      all: (params) => statement.all(...params),
      values: (params) => {
        // better-sqlite3 gives arrays instead of objects in raw mode, a setting of the statement.
        statement.raw(true)
        try {
          return statement.all(...params) as Array<Array<unknown>>
        } finally {
          statement.raw(false)
        }
      },
      run: (params) => statement.run(...params),
      safeIntegers: (enabled) => void statement.safeIntegers(enabled)
    }
  },
  close: () => db.close()
})

/**
 * better-sqlite3, imported when a layer is built.
 *
 * @internal
 */
export const betterSqlite3: SqliteDriver = {
  packageName: "better-sqlite3",
  load: async () => {
    const module = await import("better-sqlite3")
    const Database = module.default ?? module
    return (filename, { readonly }) => betterSqlite3Handle(new Database(filename, { readonly }))
  }
}
