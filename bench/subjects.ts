/**
 * The sides of every comparison: the raw driver running equivalent SQL with prepared statements; a bare `SqlClient`,
 * the very client the storage layer builds, running the storage's own statement texts; our storage through the
 * Effect API; and our storage through the Promise facade. Each runs an operation from N concurrent callers for a
 * fixed time and counts what completed.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Net from "node:net"
import { betterSqlite3 } from "../src/clients/BetterSqlite3.js"
import { bunSqlite } from "../src/clients/BunSqlite.js"
import { makeConnectionWatchdog } from "../src/internal/connectionWatchdog.js"
import { pgClientLayer } from "../src/clients/PgClientLayer.js"
import { mysqlClientConfig } from "../src/layers/Mysql.js"
import { layerSqliteClient } from "../src/layers/SqliteNode.js"
import {
  CheckpointStorage,
  type CheckpointStorageService,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_OPERATION_TIMEOUT,
  layerMysql,
  layerSql,
  layerPostgres,
  layerSqliteBun,
  layerSqliteNode,
  MySQLStorage,
  PostgresStorage,
  type SqliteSynchronous,
  SQLiteStorage
} from "../src/index.js"
import { type BenchDatabase, type Db, isBun } from "./databases.js"
import { type BenchCheckpoint, takenNow } from "./workload.js"

export type SideName = "raw" | "bare" | "effect" | "promise"

/** What one operation is given: the caller's sequence number, to pick its input. */
export interface Workload {
  readonly inputs: ReadonlyArray<BenchCheckpoint>
  readonly ids: ReadonlyArray<string>
  readonly sessionId: string
  /** For a deep page: rows created before this. */
  readonly before?: number | undefined
  readonly pageSize: number
}

export type OpName = "store" | "retrieve" | "listPage" | "listAll" | "latest" | "deepPage"

export interface RunResult {
  readonly ops: number
  readonly seconds: number
}

export interface Side {
  readonly name: SideName
  /** Runs `op` from `concurrency` callers until `millis` have passed (at least `minOps` operations in all). */
  readonly run: (op: OpName, work: Workload, concurrency: number, millis: number, minOps?: number) => Promise<RunResult>
  /** Ids written by the store runs (what retrieve reads back). */
  readonly storedIds: Array<string>
  /** Raw SQL on the database (the raw side only). */
  readonly exec: (sql: string) => Promise<void>
  /** The raw side only: `concurrency` callers each writing `rowsPerStatement` rows per multi-row INSERT until `millis`
   * have passed; `ops` counts rows. What the driver itself reaches when every statement carries that many rows. */
  readonly runMultiRowInserts?: (work: Workload, rowsPerStatement: number, concurrency: number, millis: number) => Promise<RunResult>
  readonly close: () => Promise<void>
}

// --- Promise sides (raw driver and facade) -----------------------------------------------------------------------

interface PromiseOps {
  readonly store: (checkpoint: BenchCheckpoint) => Promise<string>
  readonly retrieve: (id: string) => Promise<unknown>
  readonly listPage: (sessionId: string, limit: number, before: number | undefined) => Promise<ReadonlyArray<unknown>>
  readonly listAll: () => Promise<ReadonlyArray<unknown>>
  readonly latest: (sessionId: string) => Promise<unknown>
  /** Raw SQL (the bulk loader), raw side only. */
  readonly exec?: (sql: string) => Promise<void>
  /** One multi-row INSERT of these checkpoints (raw side only): the ceiling of coalescing concurrent stores. */
  readonly storeMany?: (checkpoints: ReadonlyArray<BenchCheckpoint>) => Promise<void>
  readonly close: () => Promise<void>
}

const callOp = (ops: PromiseOps, storedIds: Array<string>, op: OpName, work: Workload, i: number): Promise<unknown> => {
  switch (op) {
    case "store":
      return ops.store(takenNow(work.inputs[i % work.inputs.length]!)).then((id) => void storedIds.push(id))
    case "retrieve":
      return ops.retrieve(work.ids[(i * 7919) % work.ids.length]!)
    case "listPage":
      return ops.listPage(work.sessionId, work.pageSize, undefined)
    case "deepPage":
      return ops.listPage(work.sessionId, work.pageSize, work.before)
    case "listAll":
      return ops.listAll()
    case "latest":
      return ops.latest(work.sessionId)
  }
}

const promiseSide = (name: SideName, ops: PromiseOps): Side => {
  const storedIds: Array<string> = []
  return {
    name,
    storedIds,
    close: ops.close,
    exec: ops.exec ?? (() => Promise.reject(new Error(`${name} runs no raw SQL`))),
    ...(ops.storeMany === undefined ? {} : {
      runMultiRowInserts: async (work, rowsPerStatement, concurrency, millis) => {
        const storeMany = ops.storeMany!
        let rows = 0
        let batches = 0
        const start = performance.now()
        const deadline = start + millis
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline || batches < 2) {
            const first = (batches++ * rowsPerStatement) % work.inputs.length
            const batch = Array.from(
              { length: rowsPerStatement },
              (_, k) => takenNow(work.inputs[(first + k) % work.inputs.length]!)
            )
            await storeMany(batch)
            rows += rowsPerStatement
          }
        }))
        return { ops: rows, seconds: (performance.now() - start) / 1000 }
      }
    }),
    run: async (op, work, concurrency, millis, minOps = 1) => {
      let next = 0
      const start = performance.now()
      const deadline = start + millis
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline || next < minOps) {
          await callOp(ops, storedIds, op, work, next++)
        }
      }))
      return { ops: next, seconds: (performance.now() - start) / 1000 }
    }
  }
}

// --- The raw drivers ---------------------------------------------------------------------------------------------

const LIST = ["id", "sessionId", "agentId", "agentType", "name", "createdAt", "parentId"]
const INSERT = ["sessionId", "agentId", "name", "agentType", "createdAt", "state", "sizeBytes"]

interface RawRow {
  readonly id: unknown
  readonly createdAt: unknown
  readonly parentId?: unknown
  readonly state?: unknown
  readonly [key: string]: unknown
}
// What an application on the raw driver does with a row: ids as strings, BIGINTs as numbers, the state parsed.
const toItem = (row: RawRow) => {
  const { parentId, state, ...rest } = row
  const item: Record<string, unknown> = { ...rest, id: String(row.id), createdAt: Number(row.createdAt) }
  if (parentId !== null && parentId !== undefined) item.parentId = String(parentId)
  if (state !== undefined) item.state = JSON.parse(state as string)
  return item
}
const insertValues = (c: BenchCheckpoint): Array<string | number> => {
  const state = JSON.stringify(c.state)
  return [c.sessionId, c.agentId, c.name, c.agentType, c.createdAt, state, Buffer.byteLength(state, "utf8")]
}

const rawPostgres = async (url: string, poolSize: number): Promise<PromiseOps> => {
  const { default: pg } = await import("pg")
  const pool = new pg.Pool({ connectionString: url, max: poolSize })
  // An idle client's error would otherwise crash the process: pool.end() resolves before its clients' sockets are
  // closed, and dropping the database at the end of a section (DROP DATABASE … WITH (FORCE)) can terminate them in
  // between (seen once in CI: "terminating connection due to administrator command" after the startup section).
  pool.on("error", () => {})
  const q = (identifier: string) => `"${identifier}"`
  const list = LIST.map(q).join(", ")
  const order = `ORDER BY "createdAt" DESC, "id" DESC`
  return {
    store: async (c) => {
      const result = await pool.query({
        name: "bench_store",
        text: `INSERT INTO "AgentCheckpoints" (${INSERT.map(q).join(", ")}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING "id"`,
        values: insertValues(c)
      })
      return String(result.rows[0].id)
    },
    retrieve: async (id) => {
      const result = await pool.query({
        name: "bench_retrieve",
        text: `SELECT ${list}, "state" FROM "AgentCheckpoints" WHERE "id" = $1`,
        values: [Number(id)]
      })
      return result.rows[0] === undefined ? null : toItem(result.rows[0])
    },
    listPage: async (sessionId, limit, before) => {
      const result = before === undefined
        ? await pool.query({
          name: `bench_page_${limit}`,
          text: `SELECT ${list} FROM "AgentCheckpoints" WHERE "sessionId" = $1 ${order} LIMIT ${limit + 1}`,
          values: [sessionId]
        })
        : await pool.query({
          name: `bench_deep_${limit}`,
          text: `SELECT ${list} FROM "AgentCheckpoints" WHERE "sessionId" = $1 AND "createdAt" < $2 ${order} LIMIT ${limit + 1}`,
          values: [sessionId, before]
        })
      return result.rows.slice(0, limit).map(toItem)
    },
    listAll: async () => {
      const result = await pool.query({ name: "bench_all", text: `SELECT ${list} FROM "AgentCheckpoints" ${order}` })
      return result.rows.map(toItem)
    },
    latest: async (sessionId) => {
      const result = await pool.query({
        name: "bench_latest",
        text: `SELECT ${list}, "state" FROM "AgentCheckpoints" WHERE "sessionId" = $1 ${order} LIMIT 1`,
        values: [sessionId]
      })
      return result.rows[0] === undefined ? null : toItem(result.rows[0])
    },
    storeMany: async (checkpoints) => {
      const row = (k: number) => `(${INSERT.map((_, c) => `$${k * INSERT.length + c + 1}`).join(", ")})`
      await pool.query({
        name: `bench_store_${checkpoints.length}`,
        text: `INSERT INTO "AgentCheckpoints" (${INSERT.map(q).join(", ")}) VALUES ${
          checkpoints.map((_, k) => row(k)).join(", ")
        } RETURNING "id"`,
        values: checkpoints.flatMap(insertValues)
      })
    },
    exec: async (sql) => void (await pool.query(sql)),
    close: () => pool.end()
  }
}

const rawMysql = async (url: string, poolSize: number): Promise<PromiseOps> => {
  const mysql = await import("mysql2/promise")
  const pool = mysql.createPool({ uri: url, connectionLimit: poolSize, maxIdle: poolSize, supportBigNumbers: true })
  const q = (identifier: string) => `\`${identifier}\``
  const list = LIST.map(q).join(", ")
  const order = "ORDER BY `createdAt` DESC, `id` DESC"
  type Rows = Array<RawRow>
  return {
    store: async (c) => {
      const [header] = await pool.execute(
        `INSERT INTO \`AgentCheckpoints\` (${INSERT.map(q).join(", ")}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        insertValues(c)
      )
      return String((header as { insertId: number }).insertId)
    },
    retrieve: async (id) => {
      const [rows] = await pool.execute(`SELECT ${list}, \`state\` FROM \`AgentCheckpoints\` WHERE \`id\` = ?`, [Number(id)])
      const row = (rows as Rows)[0]
      return row === undefined ? null : toItem(row)
    },
    listPage: async (sessionId, limit, before) => {
      const [rows] = before === undefined
        ? await pool.execute(`SELECT ${list} FROM \`AgentCheckpoints\` WHERE \`sessionId\` = ? ${order} LIMIT ${limit + 1}`, [
          sessionId
        ])
        : await pool.execute(
          `SELECT ${list} FROM \`AgentCheckpoints\` WHERE \`sessionId\` = ? AND \`createdAt\` < ? ${order} LIMIT ${limit + 1}`,
          [sessionId, before]
        )
      return (rows as Rows).slice(0, limit).map(toItem)
    },
    listAll: async () => {
      const [rows] = await pool.execute(`SELECT ${list} FROM \`AgentCheckpoints\` ${order}`)
      return (rows as Rows).map(toItem)
    },
    latest: async (sessionId) => {
      const [rows] = await pool.execute(
        `SELECT ${list}, \`state\` FROM \`AgentCheckpoints\` WHERE \`sessionId\` = ? ${order} LIMIT 1`,
        [sessionId]
      )
      const row = (rows as Rows)[0]
      return row === undefined ? null : toItem(row)
    },
    storeMany: async (checkpoints) => {
      const row = `(${INSERT.map(() => "?").join(", ")})`
      await pool.execute(
        `INSERT INTO \`AgentCheckpoints\` (${INSERT.map(q).join(", ")}) VALUES ${checkpoints.map(() => row).join(", ")}`,
        checkpoints.flatMap(insertValues)
      )
    },
    exec: async (sql) => void (await pool.query(sql)),
    close: () => pool.end()
  }
}

interface SqliteStatement {
  get(...params: Array<unknown>): unknown
  all(...params: Array<unknown>): Array<unknown>
  run(...params: Array<unknown>): { readonly lastInsertRowid: number | bigint }
}

/**
 * How durable a SQLite commit is on both sides (`PRAGMA synchronous`): the storage layers' default, "normal" (no
 * fsync per commit, with WAL), or BENCH_SQLITE_SYNCHRONOUS=full for commits that survive a power cut (an fsync each).
 */
export const sqliteSynchronous: SqliteSynchronous = process.env.BENCH_SQLITE_SYNCHRONOUS === "full" ? "full" : "normal"

// The raw driver's connection set up as the storage layers set up theirs (src/layers/SqliteSession.ts), so that both
// sides commit alike.
const SQLITE_PRAGMAS = ["busy_timeout = 5000", "journal_mode = WAL", `synchronous = ${sqliteSynchronous.toUpperCase()}`]

/** better-sqlite3 under Node.js, bun:sqlite under Bun; prepared once, like the raw driver's users do. */
const rawSqlite = async (path: string): Promise<PromiseOps> => {
  let prepare: (sql: string) => SqliteStatement
  let exec: (sql: string) => void
  let close: () => void
  if (isBun) {
    const specifier = "bun:sqlite"
    const { Database } = (await import(/* @vite-ignore */ specifier)) as {
      Database: new(path: string) => { query(sql: string): SqliteStatement; run(sql: string): void; close(): void }
    }
    const db = new Database(path)
    for (const pragma of SQLITE_PRAGMAS) db.run(`PRAGMA ${pragma}`)
    prepare = (sql) => db.query(sql)
    exec = (sql) => db.run(sql)
    close = () => db.close()
  } else {
    const { default: Database } = await import("better-sqlite3")
    const db = new Database(path)
    for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma)
    prepare = (sql) => db.prepare(sql) as unknown as SqliteStatement
    exec = (sql) => void db.exec(sql)
    close = () => db.close()
  }
  const q = (identifier: string) => `"${identifier}"`
  const list = LIST.map(q).join(", ")
  const order = `ORDER BY "createdAt" DESC, "id" DESC`
  // `run` and the new rowid, as an application writes a row: `get` on INSERT … RETURNING would stop the statement
  // after its first row, and SQLite then skips its automatic WAL checkpoint, so the WAL would grow without bound
  // (about 30 MB per 3,000 inserts here) and a side that does run its statements to the end would pay for it.
  const insert = prepare(`INSERT INTO "AgentCheckpoints" (${INSERT.map(q).join(", ")}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const retrieve = prepare(`SELECT ${list}, "state" FROM "AgentCheckpoints" WHERE "id" = ?`)
  const pages = new Map<string, SqliteStatement>()
  const page = (limit: number, deep: boolean) => {
    const key = `${limit}:${deep}`
    let statement = pages.get(key)
    if (statement === undefined) {
      statement = prepare(
        `SELECT ${list} FROM "AgentCheckpoints" WHERE "sessionId" = ? ${deep ? `AND "createdAt" < ?` : ""} ${order} LIMIT ${limit + 1}`
      )
      pages.set(key, statement)
    }
    return statement
  }
  const all = prepare(`SELECT ${list} FROM "AgentCheckpoints" ${order}`)
  const latest = prepare(`SELECT ${list}, "state" FROM "AgentCheckpoints" WHERE "sessionId" = ? ${order} LIMIT 1`)
  const inserts = new Map<number, SqliteStatement>()
  const insertMany = (count: number) => {
    let statement = inserts.get(count)
    if (statement === undefined) {
      const row = `(${INSERT.map(() => "?").join(", ")})`
      statement = prepare(`INSERT INTO "AgentCheckpoints" (${INSERT.map(q).join(", ")}) VALUES ${Array(count).fill(row).join(", ")}`)
      inserts.set(count, statement)
    }
    return statement
  }
  return {
    store: async (c) => String(insert.run(...insertValues(c)).lastInsertRowid),
    retrieve: async (id) => {
      const row = retrieve.get(Number(id)) as RawRow | undefined | null
      return row === undefined || row === null ? null : toItem(row)
    },
    listPage: async (sessionId, limit, before) =>
      (before === undefined ? page(limit, false).all(sessionId) : page(limit, true).all(sessionId, before))
        .slice(0, limit).map((row) => toItem(row as RawRow)),
    listAll: async () => all.all().map((row) => toItem(row as RawRow)),
    latest: async (sessionId) => {
      const row = latest.get(sessionId) as RawRow | undefined | null
      return row === undefined || row === null ? null : toItem(row)
    },
    storeMany: async (checkpoints) => void insertMany(checkpoints.length).run(...checkpoints.flatMap(insertValues)),
    exec: async (sql) => exec(sql),
    close: async () => close()
  }
}

/** The raw driver on this database, with a pool as large as the storage's (10). */
export const rawSide = async (database: BenchDatabase, poolSize = 10): Promise<Side> =>
  promiseSide(
    "raw",
    database.db === "pg"
      ? await rawPostgres(database.connectionString, poolSize)
      : database.db === "mysql"
      ? await rawMysql(database.connectionString, poolSize)
      : await rawSqlite(database.connectionString)
  )

// --- Our storage -------------------------------------------------------------------------------------------------

/** The storage layer of this database, with the defaults a user gets (a pool of 10 on the servers). */
export const storageLayer = (db: Db, connectionString: string) => {
  // BENCH_NO_OPERATION_TIMEOUT=1 turns the per-operation timeout off (`operationTimeout: Duration.infinity`), to
  // measure what it costs. Passed untyped: the option is newer than this benchmark.
  const extra: object = process.env.BENCH_NO_OPERATION_TIMEOUT === "1" ? { operationTimeout: Duration.infinity } : {}
  return db === "pg"
    ? layerPostgres({ connectionString, ...extra })
    : db === "mysql"
    ? layerMysql({ connectionString, ...extra })
    : isBun
    ? layerSqliteBun({ databasePath: connectionString, synchronous: sqliteSynchronous, ...extra })
    : layerSqliteNode({ databasePath: connectionString, synchronous: sqliteSynchronous, ...extra })
}

const effectOp = (
  storage: CheckpointStorageService,
  storedIds: Array<string>,
  op: OpName,
  work: Workload,
  i: number
): Effect.Effect<unknown, unknown> => {
  switch (op) {
    case "store":
      return Effect.map(
        storage.storeAgentCheckpoint(takenNow(work.inputs[i % work.inputs.length]!)),
        (id) => void storedIds.push(id)
      )
    case "retrieve":
      return storage.retrieveAgentCheckpoint(work.ids[(i * 7919) % work.ids.length]!)
    case "listPage":
      return storage.listAgentCheckpoints({ sessionId: work.sessionId, limit: work.pageSize })
    case "deepPage":
      return storage.listAgentCheckpoints({ sessionId: work.sessionId, limit: work.pageSize, before: work.before })
    case "listAll":
      return storage.listAgentCheckpoints()
    case "latest":
      return storage.retrieveLatestAgentCheckpoint({ sessionId: work.sessionId })
  }
}

/**
 * A side whose operations are Effects: each measurement is one Effect program of N fibers, each looping over
 * `call` (no fiber per call), closed with `scope`.
 */
const effectLoopSide = (
  name: SideName,
  scope: Scope.CloseableScope,
  call: (storedIds: Array<string>, op: OpName, work: Workload, i: number) => Effect.Effect<unknown, unknown>
): Side => {
  const storedIds: Array<string> = []
  return {
    name,
    storedIds,
    exec: () => Promise.reject(new Error(`the ${name} side runs no raw SQL`)),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
    run: (op, work, concurrency, millis, minOps = 1) =>
      Effect.runPromise(Effect.gen(function*() {
        let next = 0
        const start = performance.now()
        const deadline = start + millis
        const caller = Effect.whileLoop({
          while: () => performance.now() < deadline || next < minOps,
          body: () => Effect.suspend(() => call(storedIds, op, work, next++)),
          step: () => {}
        })
        yield* Effect.all(Array.from({ length: concurrency }, () => caller), { concurrency: "unbounded", discard: true })
        return { ops: next, seconds: (performance.now() - start) / 1000 }
      }))
  }
}

/** Our storage through the Effect API: each measurement is one Effect program of N fibers. */
export const effectSide = async (database: BenchDatabase): Promise<Side> => {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(
    Layer.buildWithScope(storageLayer(database.db, database.connectionString), scope)
  )
  const storage = Context.get(context, CheckpointStorage)
  return effectLoopSide("effect", scope, (storedIds, op, work, i) => effectOp(storage, storedIds, op, work, i))
}

// --- A bare SqlClient of the same layer ----------------------------------------------------------------------------

/**
 * The `SqlClient` the storage layer of `db` builds, built here the same way, from the same modules of src and with
 * the options the layer gives it by default: what a user writing the storage's SQL by hand on the same client would
 * run on.
 *
 * - PostgreSQL: `PgClient.fromPool` over the pool of src/clients/PgClientLayer.ts (each connection naming and
 *   preparing a statement text once), on sockets watched by the connection watchdog armed at the default operation
 *   timeout, as src/layers/Postgres.ts builds it.
 * - MySQL/MariaDB: the official `MysqlClient` with the options src/layers/Mysql.ts gives it (`mysqlClientConfig`: 10
 *   connections kept idle, the connect timeout, watched sockets opened as mysql2 opens them).
 * - SQLite: our client of src/clients/ (better-sqlite3 under Node.js, bun:sqlite under Bun) with the session's
 *   pragmas, through `layerSqliteClient` of src/layers/SqliteNode.ts, as both SQLite layers open a file.
 */
export const bareClientLayer = (db: Db, connectionString: string): Layer.Layer<SqlClient.SqlClient, unknown> =>
  Layer.unwrapEffect(Effect.promise(async (): Promise<Layer.Layer<SqlClient.SqlClient, unknown>> => {
    if (db === "sqlite") {
      const open = await (isBun ? bunSqlite : betterSqlite3).load()
      return layerSqliteClient(open, { databasePath: connectionString, synchronous: sqliteSynchronous })
    }
    const watchdog = makeConnectionWatchdog()
    watchdog.arm(Duration.toMillis(DEFAULT_OPERATION_TIMEOUT))
    if (db === "pg") {
      const [PgClient, { default: pg }] = await Promise.all([import("@effect/sql-pg/PgClient"), import("pg")])
      const { Client, Pool } = pg
      return pgClientLayer({ Client, Pool, PgClient }, {
        connectTimeout: DEFAULT_CONNECT_TIMEOUT,
        stream: () => watchdog.watch(new Net.Socket()),
        url: Redacted.make(connectionString)
      })
    }
    const { MysqlClient } = await import("@effect/sql-mysql2")
    return MysqlClient.layer(mysqlClientConfig({ connectionString }, watchdog))
  }))

const ROW = [...LIST, "state"]
// The columns of the storage's INSERT, in its order (src/layers/CheckpointInserts.ts).
const STORE_COLUMNS = ["state", "sizeBytes", "sessionId", "agentId", "name", "agentType", "createdAt", "parentId"]

/**
 * The texts of the statements the storage runs for its hot operations on AgentCheckpoints, compiled by `sql` from the
 * same fragments as the storage builds them (src/layers/CheckpointStatements.ts, CheckpointInserts.ts,
 * CheckpointPages.ts, SqlCheckpointTable.ts). `checkSameStatements` checks them against what the storage runs.
 */
export const storageStatementTexts = (sql: SqlClient.SqlClient, pageSize: number) => {
  const table = sql("AgentCheckpoints")
  const columns = (names: ReadonlyArray<string>) => sql.csv(names.map((column) => sql`${sql(column)}`))
  const desc = sql.literal("DESC")
  const newestFirst = sql`ORDER BY ${sql("createdAt")} ${desc}, ${sql("id")} ${desc}`
  const limit = (n: number) => sql`LIMIT ${sql.literal(String(n))}`
  const bySession = sql`WHERE ${sql.and([sql`${sql("sessionId")} = ${""}`])}`
  const bySessionBefore = sql`WHERE ${sql.and([sql`${sql("sessionId")} = ${""}`, sql`${sql("createdAt")} < ${0}`])}`
  const insert = sql`INSERT INTO ${table} ${sql.insert(Object.fromEntries(STORE_COLUMNS.map((column) => [column, 0])))}`
  const text = (statement: Statement.Statement<unknown>) => statement.compile()[0]
  return {
    store: text(sql.onDialectOrElse({ mysql: () => insert, orElse: () => sql`${insert} RETURNING ${sql("id")}` })),
    retrieve: text(sql`SELECT ${columns(ROW)} FROM ${table} WHERE ${sql("id")} = ${0}`),
    latest: text(sql`SELECT ${columns(ROW)} FROM ${table} ${bySession} ${newestFirst} ${limit(1)}`),
    listPage: text(sql`SELECT ${columns(LIST)} FROM ${table} ${bySession} ${newestFirst} ${limit(pageSize + 1)}`),
    deepPage: text(sql`SELECT ${columns(LIST)} FROM ${table} ${bySessionBefore} ${newestFirst} ${limit(pageSize + 1)}`),
    listAll: text(sql`SELECT ${columns(LIST)} FROM ${table} ${newestFirst}`)
  }
}
type StatementTexts = ReturnType<typeof storageStatementTexts>

type Row = Record<string, unknown>
const withParsedState = (row: Row | undefined) => row === undefined ? null : { ...row, state: JSON.parse(row.state as string) }

/** What a user of the bare client does: the storage's statement, the state encoded on the way in, parsed on the way out. */
const bareOp = (
  sql: SqlClient.SqlClient,
  texts: StatementTexts,
  db: Db,
  storedIds: Array<string>,
  op: OpName,
  work: Workload,
  i: number
): Effect.Effect<unknown, SqlError> => {
  switch (op) {
    case "store": {
      const c = takenNow(work.inputs[i % work.inputs.length]!)
      const state = JSON.stringify(c.state)
      const values = [state, Buffer.byteLength(state, "utf8"), c.sessionId, c.agentId, c.name, c.agentType, c.createdAt, null]
      return db === "mysql"
        ? Effect.map(sql.unsafe(texts.store, values).raw, (header) =>
          void storedIds.push(String((header as { readonly insertId: number }).insertId)))
        : Effect.map(sql.unsafe<{ readonly id: unknown }>(texts.store, values), (rows) => void storedIds.push(String(rows[0]!.id)))
    }
    case "retrieve":
      return Effect.map(
        sql.unsafe<Row>(texts.retrieve, [Number(work.ids[(i * 7919) % work.ids.length]!)]),
        (rows) => withParsedState(rows[0])
      )
    case "latest":
      return Effect.map(sql.unsafe<Row>(texts.latest, [work.sessionId]), (rows) => withParsedState(rows[0]))
    case "listPage":
      return Effect.map(sql.unsafe<Row>(texts.listPage, [work.sessionId]), (rows) => rows.slice(0, work.pageSize))
    case "deepPage":
      return Effect.map(sql.unsafe<Row>(texts.deepPage, [work.sessionId, work.before ?? 0]), (rows) => rows.slice(0, work.pageSize))
    case "listAll":
      return sql.unsafe<Row>(texts.listAll)
  }
}

/**
 * A bare `SqlClient` of the same layer (`bareClientLayer`) running the storage's statement texts with
 * `sql.unsafe(text, values)`: the floor of the Effect API, everything of @effect/sql and the driver and nothing of
 * ours. Statement spans as @effect/sql makes them by default (the storage makes one span per operation instead).
 */
export const bareSide = async (database: BenchDatabase, pageSize = 50): Promise<Side> => {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(bareClientLayer(database.db, database.connectionString), scope))
  const sql = Context.get(context, SqlClient.SqlClient).withoutTransforms()
  const texts = storageStatementTexts(sql, pageSize)
  return effectLoopSide("bare", scope, (storedIds, op, work, i) => bareOp(sql, texts, database.db, storedIds, op, work, i))
}

/**
 * Checks that the bare side runs the storage's own statements: a storage over the same client (`layerSql`) runs each
 * hot operation once, every statement it sends recorded (`Statement.withTransformer`), and each text of the bare
 * side must be among them. Returns the texts that are not (none when all is well). The tables must exist.
 */
export const checkSameStatements = async (database: BenchDatabase, pageSize = 50): Promise<ReadonlyArray<string>> => {
  const sent = new Set<string>()
  const recording = Statement.withTransformer((statement) => {
    sent.add(statement.compile()[0])
    return Effect.succeed(statement)
  })
  const program = Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const [input] = checkpointsForCheck
    const id = yield* storage.storeAgentCheckpoint(takenNow(input!))
    yield* storage.retrieveAgentCheckpoint(id)
    yield* storage.retrieveLatestAgentCheckpoint({ sessionId: input!.sessionId })
    yield* storage.listAgentCheckpoints({ sessionId: input!.sessionId, limit: pageSize })
    yield* storage.listAgentCheckpoints({ sessionId: input!.sessionId, limit: pageSize, before: Date.now() })
    yield* storage.listAgentCheckpoints()
    const texts = storageStatementTexts(sql, pageSize)
    return Object.values(texts).filter((text) => !sent.has(text))
  })
  const client = bareClientLayer(database.db, database.connectionString)
  return Effect.runPromise(recording(Effect.scoped(Effect.provide(
    program,
    Layer.provideMerge(layerSql(), client)
  ))) as Effect.Effect<ReadonlyArray<string>, unknown>)
}
const checkpointsForCheck = [{
  agentId: "agent-check",
  sessionId: "bench-check",
  agentType: "coder",
  name: "check",
  state: { check: true },
  createdAt: 0
}]

/** Our storage through the Promise facade (SQLiteStorage / MySQLStorage / PostgresStorage). */
export const promiseFacadeSide = async (database: BenchDatabase): Promise<Side> => {
  const storage = database.db === "pg"
    ? new PostgresStorage({ type: "postgres", connectionString: database.connectionString })
    : database.db === "mysql"
    ? new MySQLStorage({ type: "mysql", connectionString: database.connectionString })
    : new SQLiteStorage({ type: "sqlite", databasePath: database.connectionString, synchronous: sqliteSynchronous })
  await storage.start()
  return promiseSide("promise", {
    store: (c) => storage.storeAgentCheckpoint(c),
    retrieve: (id) => storage.retrieveAgentCheckpoint(id),
    listPage: (sessionId, limit, before) =>
      storage.listAgentCheckpointPage({ sessionId, limit, ...(before === undefined ? {} : { before }) })
        .then((page) => page.items),
    listAll: () => storage.listAgentCheckpoints(),
    latest: (sessionId) => storage.retrieveLatestAgentCheckpoint({ sessionId }),
    close: () => storage.stop()
  })
}
