/**
 * The real databases the suite runs on. Servers come from TEST_POSTGRES_URL / TEST_MYSQL_URL (defaults: the
 * PostgreSQL and MariaDB of the development machine); a server that cannot be reached fails the run.
 */
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Redacted, Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import {
  type CheckpointStorage,
  layerMysql,
  layerPostgres,
  layerSql,
  layerSqliteBun,
  layerSqliteNode,
  type MysqlStorageConfig,
  type PostgresStorageConfig,
  type SqlCheckpointStorageOptions,
  type SqliteStorageOptions,
  type StorageConfig,
  type StorageLayerError
} from "../../src/index.js"
import { splitStorageOptions } from "../../src/layers/SqlCheckpointStorage.js"
import { layerSqliteSession } from "../../src/layers/SqliteSession.js"
import { randomSuffix, TestDatabase, type TestTarget } from "./TestDatabase.js"

export const postgresServerUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const mysqlServerUrl = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306"

const withDatabase = (serverUrl: string, database: string): string => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

// Runs `f` with a raw client whose connections stay open for the enclosing scope.
const scopedSql = <E>(client: Layer.Layer<SqlClient.SqlClient, E>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.Scope
    const context = yield* Layer.buildWithScope(client, scope)
    return Context.get(context, SqlClient.SqlClient)
  })

const makeTestDatabase = <C extends StorageConfig>(options: {
  readonly dialect: "pg" | "mysql" | "sqlite"
  readonly config: C
  readonly storage: (config: C) => Layer.Layer<CheckpointStorage, StorageLayerError>
  readonly sql: SqlClient.SqlClient
}) =>
  TestDatabase.of({
    dialect: options.dialect,
    config: options.config,
    storage: (storageOptions) => options.storage({ ...options.config, ...storageOptions }),
    withSql: (f) => f(options.sql)
  })

const postgresAdmin = PgClient.layer({ url: Redacted.make(postgresServerUrl) })

/** The official @effect/sql-pg client on a database, as a user of `layerSql` builds it. */
const officialPgClient = (connectionString: string) => PgClient.layer({ url: Redacted.make(connectionString) })

const postgresTarget = (
  name: string,
  storage: (config: PostgresStorageConfig) => Layer.Layer<CheckpointStorage, StorageLayerError>,
  unreachable: TestTarget["unreachable"]
): TestTarget => ({
  name,
  dialect: "pg",
  freshDatabase: Layer.scoped(
    TestDatabase,
    Effect.gen(function*() {
      const database = `ecs_test_${randomSuffix()}`
      const admin = yield* scopedSql(postgresAdmin)
      yield* Effect.acquireRelease(
        admin.unsafe(`CREATE DATABASE "${database}"`),
        () => Effect.orDie(admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`))
      )
      const connectionString = withDatabase(postgresServerUrl, database)
      const sql = yield* scopedSql(officialPgClient(connectionString))
      return makeTestDatabase({
        dialect: "pg",
        config: { type: "postgres" as const, connectionString },
        storage,
        sql
      })
    })
  ),
  unreachable
})

const postgresUnreachable: TestTarget["unreachable"] = [
  { label: "a closed port", config: { type: "postgres", connectionString: "postgres://postgres:hunter2secret@127.0.0.1:1/postgres" }, secret: "hunter2secret" },
  { label: "a database that does not exist", config: { type: "postgres", connectionString: withDatabase(postgresServerUrl, "ecs_no_such_database") } }
]

export const postgres: TestTarget = postgresTarget("PostgreSQL", layerPostgres, postgresUnreachable)

const mysqlAdmin = Layer.unwrapEffect(Effect.sync(() => {
  const url = new URL(mysqlServerUrl)
  return MysqlClient.layer({
    host: url.hostname,
    port: Number(url.port || 3306),
    username: decodeURIComponent(url.username) || "root",
    ...(url.password === "" ? {} : { password: Redacted.make(decodeURIComponent(url.password)) }),
    maxConnections: 2
  })
}))

/** The official @effect/sql-mysql2 client on a database, as a user of `layerSql` builds it. */
const officialMysqlClient = (connectionString: string) =>
  MysqlClient.layer({ url: Redacted.make(connectionString), maxConnections: 2 })

const mysqlTarget = (
  name: string,
  storage: (config: MysqlStorageConfig) => Layer.Layer<CheckpointStorage, StorageLayerError>,
  unreachable: TestTarget["unreachable"]
): TestTarget => ({
  name,
  dialect: "mysql",
  freshDatabase: Layer.scoped(
    TestDatabase,
    Effect.gen(function*() {
      const database = `ecs_test_${randomSuffix()}`
      const admin = yield* scopedSql(mysqlAdmin)
      yield* Effect.acquireRelease(
        admin.unsafe(`CREATE DATABASE \`${database}\``),
        () => Effect.orDie(admin.unsafe(`DROP DATABASE IF EXISTS \`${database}\``))
      )
      const connectionString = withDatabase(mysqlServerUrl, database)
      const sql = yield* scopedSql(officialMysqlClient(connectionString))
      return makeTestDatabase({
        dialect: "mysql",
        config: { type: "mysql" as const, connectionString },
        storage,
        sql
      })
    })
  ),
  unreachable
})

const mysqlUnreachable: TestTarget["unreachable"] = [
  { label: "a closed port", config: { type: "mysql", connectionString: "mysql://root:hunter2secret@127.0.0.1:1/test" }, secret: "hunter2secret" },
  { label: "a wrong password", config: { type: "mysql", connectionString: `mysql://ecs_nobody:hunter2secret@127.0.0.1:3306/test` }, secret: "hunter2secret" }
]

export const mysql: TestTarget = mysqlTarget("MariaDB", layerMysql, mysqlUnreachable)

/**
 * `layerSql` over an official client of the caller's, as a user of @effect/sql-pg or @effect/sql-mysql2 builds it.
 * (The suite's connection failures go through `layerFromConfig`, so these targets check the same configs again, as
 * the SQLite `layerSql` targets do.)
 */
const layerSqlOverServer = (
  client: (connectionString: string) => Layer.Layer<SqlClient.SqlClient, unknown>
) =>
(config: { readonly connectionString: string | Redacted.Redacted<string> } & SqlCheckpointStorageOptions): Layer.Layer<
  CheckpointStorage,
  StorageLayerError
> => {
  const [storage, { connectionString }] = splitStorageOptions(config)
  const url = Redacted.isRedacted(connectionString) ? Redacted.value(connectionString) : connectionString
  return layerSql(storage).pipe(Layer.provide(Layer.orDie(client(url))))
}

export const postgresLayerSql: TestTarget = postgresTarget(
  "PostgreSQL (layerSql over @effect/sql-pg)",
  layerSqlOverServer(officialPgClient),
  postgresUnreachable
)

export const mysqlLayerSql: TestTarget = mysqlTarget(
  "MariaDB (layerSql over @effect/sql-mysql2)",
  layerSqlOverServer((connectionString) => MysqlClient.layer({ url: Redacted.make(connectionString) })),
  mysqlUnreachable
)

const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-test-"))),
  (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
)

/** SQLite through whichever client the runtime has: the suite under Node uses better-sqlite3, under Bun bun:sqlite. */
const projectRoot = Path.resolve(import.meta.dirname, "../..")

// A script for another process: open a storage on the file with the given layer, store one checkpoint, print its id.
const storageScript = (layerName: string, databasePath: string, name: string) => {
  // Inside the project, so that both runtimes resolve "effect" from its node_modules. It deletes itself once loaded.
  const directory = Path.join(projectRoot, ".vitest-tmp")
  Fs.mkdirSync(directory, { recursive: true })
  const script = Path.join(directory, `storage-process-${randomSuffix()}.mts`)
  Fs.writeFileSync(script, `
import { unlinkSync } from "node:fs"
import { Effect } from "effect"
import { CheckpointStorage, ${layerName} } from ${JSON.stringify(Path.join(projectRoot, "src/index.ts"))}
const program = Effect.flatMap(CheckpointStorage, (storage) => storage.storeAgentCheckpoint({
  agentId: "agent", sessionId: "session", agentType: "coder", name: ${JSON.stringify(name)}, state: { pid: process.pid },
  createdAt: Date.now()
}))
unlinkSync(new URL(import.meta.url))
console.log(await Effect.runPromise(program.pipe(Effect.provide(${layerName}({ databasePath: ${JSON.stringify(databasePath)} })))))
`)
  return script
}

const sqliteTarget = (
  name: string,
  storage: (options: SqliteStorageOptions) => Layer.Layer<CheckpointStorage, StorageLayerError>,
  rawClient: (filename: string) => Layer.Layer<SqlClient.SqlClient, unknown>,
  openDatabase: string,
  storageProcess: (databasePath: string, name: string) => readonly [string, ReadonlyArray<string>]
): TestTarget => ({
  name,
  dialect: "sqlite",
  storageProcess,
  lockHolder: (databasePath, millis) => [process.execPath, ["-e", `
${openDatabase}
const db = openDatabase(${JSON.stringify(databasePath)})
db.exec("BEGIN IMMEDIATE")
db.exec("INSERT INTO \\"AppCheckpoints\\" (\\"sessionId\\", \\"hostname\\", \\"workspaceDirectory\\", \\"state\\", \\"createdAt\\") VALUES ('other-process', 'h', '/', '{}', 1)")
console.log("locked")
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${millis})
db.exec("COMMIT")
db.close()
`]],
  freshDatabase: Layer.scoped(
    TestDatabase,
    Effect.gen(function*() {
      const directory = yield* temporaryDirectory
      const databasePath = Path.join(directory, "checkpoints.db")
      const sql = yield* scopedSql(rawClient(databasePath))
      return makeTestDatabase({
        dialect: "sqlite",
        config: { type: "sqlite" as const, databasePath },
        storage,
        sql
      })
    })
  ),
  unreachable: [
    { label: "a file in a directory that does not exist", config: { type: "sqlite", databasePath: Path.join(Os.tmpdir(), `ecs-missing-${randomSuffix()}`, "x", "checkpoints.db") } }
  ]
})

// The official @effect/sql clients, with the session settings of the SQLite layers. The suite looks behind the
// storage's back through them, and runs `layerSql` over them (sqliteNodeLayerSql, sqliteBunLayerSql).
const officialSqliteNodeClient = (filename: string) =>
  Layer.unwrapEffect(Effect.promise(async () => {
    const { SqliteClient } = await import("@effect/sql-sqlite-node")
    return Layer.provideMerge(layerSqliteSession({}), SqliteClient.layer({ filename }))
  }))

const officialSqliteBunClient = (filename: string) =>
  Layer.unwrapEffect(Effect.promise(async () => {
    const { SqliteClient } = await import("@effect/sql-sqlite-bun")
    return Layer.provideMerge(layerSqliteSession({}), SqliteClient.layer({ filename }))
  }))

/** `layerSql` over a client of the caller's, as a user of @effect/sql-sqlite-node or -bun builds it. */
const layerSqlOver = (client: (filename: string) => Layer.Layer<SqlClient.SqlClient, unknown>) =>
(options: SqliteStorageOptions): Layer.Layer<CheckpointStorage, StorageLayerError> => {
  const [storage] = splitStorageOptions(options)
  return layerSql(storage).pipe(Layer.provide(Layer.orDie(client(options.databasePath))))
}

const betterSqlite3Process = `const Database = require("better-sqlite3"); const openDatabase = (path) => new Database(path)`
const bunSqliteProcess = `const { Database } = require("bun:sqlite"); const openDatabase = (path) => new Database(path)`
const nodeStorageProcess = (databasePath: string, name: string) =>
  [Path.join(projectRoot, "node_modules/.bin/vite-node"), [storageScript("layerSqliteNode", databasePath, name)]] as const
const bunStorageProcess = (databasePath: string, name: string) =>
  [process.execPath, [storageScript("layerSqliteBun", databasePath, name)]] as const

export const sqliteNode = sqliteTarget(
  "SQLite (better-sqlite3)",
  layerSqliteNode,
  officialSqliteNodeClient,
  betterSqlite3Process,
  nodeStorageProcess
)

export const sqliteBun = sqliteTarget(
  "SQLite (bun:sqlite)",
  layerSqliteBun,
  officialSqliteBunClient,
  bunSqliteProcess,
  bunStorageProcess
)

export const sqliteNodeLayerSql = sqliteTarget(
  "SQLite (layerSql over @effect/sql-sqlite-node)",
  layerSqlOver(officialSqliteNodeClient),
  officialSqliteNodeClient,
  betterSqlite3Process,
  nodeStorageProcess
)

export const sqliteBunLayerSql = sqliteTarget(
  "SQLite (layerSql over @effect/sql-sqlite-bun)",
  layerSqlOver(officialSqliteBunClient),
  officialSqliteBunClient,
  bunSqliteProcess,
  bunStorageProcess
)
