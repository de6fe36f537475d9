/**
 * The benchmark's databases: created with a random suffix for one run, dropped at its end, also when it fails or
 * is interrupted (Ctrl-C, SIGTERM).
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export type Db = "pg" | "mysql" | "sqlite"
export const ALL_DBS: ReadonlyArray<Db> = ["pg", "mysql", "sqlite"]
export const isBun = typeof (process.versions as Record<string, string | undefined>).bun === "string"

export const postgresServerUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const mysqlServerUrl = process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306"

export interface BenchDatabase {
  readonly db: Db
  /** What the storage layers and the facade take (`connectionString` or `databasePath`). */
  readonly connectionString: string
  readonly drop: () => Promise<void>
}

const cleanups = new Set<() => Promise<void>>()
let exiting = false

/** Runs every pending cleanup once (databases dropped, files removed). */
export const cleanupAll = async (): Promise<void> => {
  const pending = [...cleanups]
  cleanups.clear()
  for (const cleanup of pending.reverse()) {
    try {
      await cleanup()
    } catch (error) {
      console.error("cleanup failed:", error)
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (exiting) return
    exiting = true
    console.error(`\n${signal}: dropping the benchmark databases…`)
    void cleanupAll().finally(() => process.exit(130))
  })
}

const suffix = () => `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

const withDatabase = (serverUrl: string, database: string): string => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

const adminQuery = async (db: "pg" | "mysql", statement: string): Promise<void> => {
  if (db === "pg") {
    const { default: pg } = await import("pg")
    const client = new pg.Client({ connectionString: postgresServerUrl })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  } else {
    const mysql = await import("mysql2/promise")
    const connection = await mysql.createConnection({ uri: mysqlServerUrl })
    try {
      await connection.query(statement)
    } finally {
      await connection.end()
    }
  }
}

/** A fresh, empty database (or SQLite file) for this run. */
export const createDatabase = async (db: Db): Promise<BenchDatabase> => {
  const name = `ecs_bench_${suffix()}`
  let database: BenchDatabase
  if (db === "pg") {
    await adminQuery("pg", `CREATE DATABASE "${name}"`)
    database = {
      db,
      connectionString: withDatabase(postgresServerUrl, name),
      drop: () => adminQuery("pg", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    }
  } else if (db === "mysql") {
    await adminQuery("mysql", `CREATE DATABASE \`${name}\``)
    database = {
      db,
      connectionString: withDatabase(mysqlServerUrl, name),
      drop: () => adminQuery("mysql", `DROP DATABASE IF EXISTS \`${name}\``)
    }
  } else {
    const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-bench-"))
    database = {
      db,
      connectionString: Path.join(directory, `${name}.db`),
      drop: async () => Fs.rmSync(directory, { recursive: true, force: true })
    }
  }
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    cleanups.delete(drop)
    await database.drop()
  }
  cleanups.add(drop)
  return { ...database, drop }
}
