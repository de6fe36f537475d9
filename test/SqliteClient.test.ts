/**
 * The SqlClient of the SQLite layers (src/clients/SqliteClient.ts), on the runtime's driver: better-sqlite3 under
 * Node.js, bun:sqlite under Bun. What it must keep: it works as any @effect/sql client does (transactions, `.raw`,
 * `.values`, `.stream`, errors as SqlError with the driver's code), one fiber's statement never lands in another
 * fiber's transaction, the prepared statements stay within their cache, driver errors keep the codes the official
 * clients report, and every client option still works.
 */
import { describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Chunk, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Stream, String as Str, Tracer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { betterSqlite3 } from "../src/clients/BetterSqlite3.js"
import { bunSqlite } from "../src/clients/BunSqlite.js"
import type { OpenSqliteDatabase, SqliteClientOptions, SqliteDatabaseHandle } from "../src/clients/SqliteClient.js"
import { makeStatementCache } from "../src/clients/SqliteStatementCache.js"
import {
  type AppSessionCheckpoint,
  CheckpointStorage,
  layerSql,
  layerSqliteBun,
  layerSqliteNode,
  type NamedAgentCheckpoint
} from "../src/index.js"
import { classifyDriverError } from "../src/internal/driverError.js"
import { layerSqliteClient } from "../src/layers/SqliteNode.js"
import { layerSqliteSession, type SqliteSessionOptions } from "../src/layers/SqliteSession.js"

const isBun = typeof process.versions.bun === "string"
const driver = isBun ? bunSqlite : betterSqlite3
const layerSqlite = isBun ? layerSqliteBun : layerSqliteNode

const agentCheckpoint = (name: string): NamedAgentCheckpoint => ({
  agentId: "agent-1",
  sessionId: "session-1",
  agentType: "coder",
  name,
  state: { name, messages: [{ role: "user", content: "hello" }] },
  createdAt: 1_763_900_000_000
})

const appCheckpoint = (sessionId: string): AppSessionCheckpoint => ({
  sessionId,
  hostname: "localhost",
  workspaceDirectory: "/home/user/project",
  state: { sessionId },
  createdAt: 1_763_900_000_000
})

const databaseFile = Effect.map(
  Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-sqlite-client-"))),
    (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
  ),
  (directory) => Path.join(directory, "checkpoints.db")
)

/** The driver's open, recording what the client asks of it. */
const recordingOpen = Effect.map(Effect.promise(driver.load), (open) => {
  const prepared: Array<string> = []
  let closed = 0
  const recording: OpenSqliteDatabase = (filename, options) => {
    const db = open(filename, options)
    return {
      prepare: (sql) => {
        prepared.push(sql)
        return db.prepare(sql)
      },
      close: () => {
        closed++
        db.close()
      }
    } satisfies SqliteDatabaseHandle
  }
  return { open: recording, prepared, closed: () => closed }
})

/** Builds the client of the SQLite layers on a file, for the rest of the scope. */
const buildClient = (
  databasePath: string,
  options: SqliteClientOptions & SqliteSessionOptions = {},
  open?: OpenSqliteDatabase
) =>
  Effect.gen(function*() {
    const opener = open ?? (yield* Effect.promise(driver.load))
    const context = yield* Layer.build(layerSqliteClient(opener, { ...options, databasePath }))
    return Context.get(context, SqlClient.SqlClient)
  })

/** Another connection to the same file, straight on the driver, for the rest of the scope. */
const otherConnection = (databasePath: string) =>
  Effect.flatMap(Effect.promise(driver.load), (open) =>
    Effect.acquireRelease(
      Effect.sync(() => open(databasePath, { readonly: false })),
      (db) => Effect.sync(() => db.close())
    ))

/** The storage over the client of the SQLite layers, and the client itself (as a caller of `layerSql` holds it). */
const buildStorage = (databasePath: string) =>
  Effect.gen(function*() {
    const open = yield* Effect.promise(driver.load)
    const context = yield* Layer.build(layerSql().pipe(Layer.provideMerge(layerSqliteClient(open, { databasePath }))))
    return { storage: Context.get(context, CheckpointStorage), sql: Context.get(context, SqlClient.SqlClient) }
  })

// Lets the other fibers run for a while, on the real clock.
const pause = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))

const driverCode = (error: SqlError) => classifyDriverError("sqlite", error.cause)

/** A table of three notes, through the client. */
const withNotes = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    yield* sql`CREATE TABLE "notes" ("id" INTEGER PRIMARY KEY, "text" TEXT NOT NULL)`
    yield* sql`INSERT INTO "notes" ("text") VALUES (${"one"}), (${"two"}), (${"three"})`
  })

const noteTexts = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ readonly text: string }>`SELECT "text" FROM "notes" ORDER BY "id"`, (rows) => rows.map((row) => row.text))

describe(`The SQLite client (${isBun ? "bun:sqlite" : "better-sqlite3"})`, () => {
  describe("as a SqlClient", () => {
    it.scopedLive("commits a transaction that succeeds and rolls back one that fails, a nested one to its savepoint", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        yield* withNotes(sql)
        yield* sql.withTransaction(sql`INSERT INTO "notes" ("text") VALUES (${"committed"})`)
        const failed = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO "notes" ("text") VALUES (${"rolled back"})`
          expect(yield* noteTexts(sql)).toContain("rolled back")
          return yield* Effect.fail("abort" as const)
        })))
        expect(failed).toEqual(Exit.fail("abort"))
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO "notes" ("text") VALUES (${"outer"})`
          const inner = yield* Effect.exit(sql.withTransaction(Effect.zipRight(
            sql`INSERT INTO "notes" ("text") VALUES (${"inner"})`,
            Effect.fail("inner abort" as const)
          )))
          expect(inner).toEqual(Exit.fail("inner abort"))
        }))
        expect(yield* noteTexts(sql)).toEqual(["one", "two", "three", "committed", "outer"])
      }))

    it.scopedLive("streams the rows of a query, with the name transforms", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile, { transformResultNames: Str.snakeToCamel })
        yield* withNotes(sql)
        const rows = yield* Stream.runCollect(sql`SELECT "id" AS "note_id", "text" FROM "notes" ORDER BY "id"`.stream)
        expect(Chunk.toReadonlyArray(rows)).toEqual([
          { noteId: 1, text: "one" },
          { noteId: 2, text: "two" },
          { noteId: 3, text: "three" }
        ])
        // A statement without rows streams nothing, and runs.
        expect(Chunk.size(yield* Stream.runCollect(sql`DELETE FROM "notes" WHERE "id" = ${3}`.stream))).toBe(0)
        expect(yield* noteTexts(sql)).toEqual(["one", "two"])
      }))

    // A driver cursor left open would refuse every write on the connection all fibers share, and hold its snapshot.
    it.scopedLive("a stream read in part leaves the connection free: writes go on and a checkpoint empties the WAL", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const sql = yield* buildClient(databasePath)
        yield* withNotes(sql)
        const first = yield* Stream.runHead(sql<{ readonly text: string }>`SELECT "text" FROM "notes" ORDER BY "id"`.stream)
        expect(Option.map(first, (row) => row.text)).toEqual(Option.some("one"))
        yield* sql`INSERT INTO "notes" ("text") VALUES (${"four"})`
        const other = yield* otherConnection(databasePath)
        other.prepare(`UPDATE "notes" SET "text" = "text" WHERE "id" = ?`).run([1])
        expect(other.prepare("PRAGMA wal_checkpoint(TRUNCATE)").all([])[0]).toEqual({ busy: 0, log: 0, checkpointed: 0 })
      }))

    it.scopedLive("a stream started while another fiber's transaction is open reads after its commit, not inside it", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        yield* withNotes(sql)
        const inside = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const transaction = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO "notes" ("text") VALUES (${"uncommitted"})`
          yield* Deferred.succeed(inside, undefined)
          yield* Deferred.await(release)
          return yield* Effect.fail("abort" as const)
        })).pipe(Effect.fork)
        yield* Deferred.await(inside)
        const streamed = yield* Effect.fork(Stream.runCollect(sql<{ readonly text: string }>`SELECT "text" FROM "notes"`.stream))
        yield* pause
        expect(Option.isNone(yield* Fiber.poll(streamed))).toBe(true)
        yield* Deferred.succeed(release, undefined)
        expect(yield* Fiber.await(transaction)).toEqual(Exit.fail("abort"))
        expect(Chunk.toReadonlyArray(yield* Fiber.join(streamed)).map((row) => row.text)).toEqual(["one", "two", "three"])
      }))

    it.scopedLive("a stream inside the caller's transaction reads it", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        yield* withNotes(sql)
        const texts = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO "notes" ("text") VALUES (${"four"})`
          return yield* Stream.runCollect(sql<{ readonly text: string }>`SELECT "text" FROM "notes" ORDER BY "id"`.stream)
        }))
        expect(Chunk.toReadonlyArray(texts).map((row) => row.text)).toEqual(["one", "two", "three", "four"])
      }))

    it.scopedLive(".raw gives what the driver reports: the rows, or an INSERT's changes and lastInsertRowid", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        yield* withNotes(sql)
        expect(yield* sql`INSERT INTO "notes" ("text") VALUES (${"four"})`.raw).toEqual({ changes: 1, lastInsertRowid: 4 })
        expect(yield* sql`UPDATE "notes" SET "text" = 'x' WHERE "id" > ${2}`.raw).toMatchObject({ changes: 2 })
        expect(yield* sql`INSERT INTO "notes" ("text") VALUES (${"five"}) RETURNING "id"`.raw).toEqual([{ id: 5 }])
        expect(yield* sql`SELECT "text" FROM "notes" WHERE "id" = ${1}`.raw).toEqual([{ text: "one" }])
        // Through `execute`, a statement without rows gives none, as in the official clients.
        expect(yield* sql`INSERT INTO "notes" ("text") VALUES (${"six"})`).toEqual([])
      }))

    it.scopedLive(".values gives each row as an array, and .unprepared runs as a statement does", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        yield* withNotes(sql)
        expect(yield* sql`SELECT "id", "text" FROM "notes" ORDER BY "id"`.values).toEqual([[1, "one"], [2, "two"], [
          3,
          "three"
        ]])
        expect(yield* sql`DELETE FROM "notes" WHERE "id" = ${3}`.values).toEqual([])
        expect(yield* sql`SELECT COUNT(*) AS "n" FROM "notes"`.unprepared).toEqual([{ n: 2 }])
      }))

    it.scopedLive("reads integers as bigint where the fiber asks for SafeIntegers, and as numbers again afterwards", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        const select = sql`SELECT 9007199254740993 AS "n"`
        expect(yield* Effect.provideService(select, SqlClient.SafeIntegers, true)).toEqual([{ n: 9007199254740993n }])
        expect(yield* select).toEqual([{ n: 9007199254740992 }])
      }))

    it.scopedLive("a failing statement fails with a SqlError whose cause carries the driver's code", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile)
        yield* withNotes(sql)
        const missing = yield* Effect.flip(sql`SELECT * FROM "no_such_table"`)
        expect(missing).toBeInstanceOf(SqlError)
        expect(missing.message).toBe("Failed to prepare statement")
        expect(driverCode(missing).code).toBe("SQLITE_ERROR")
        const notNull = yield* Effect.flip(sql`INSERT INTO "notes" ("text") VALUES (${null})`)
        expect(notNull).toBeInstanceOf(SqlError)
        expect(notNull.message).toBe("Failed to execute statement")
        expect(driverCode(notNull)).toEqual({ code: "SQLITE_CONSTRAINT_NOTNULL", isConnectionFailure: false })
        const inStream = yield* Effect.flip(Stream.runDrain(sql`SELECT * FROM "no_such_table"`.stream))
        expect(inStream).toBeInstanceOf(SqlError)
        // The failures left nothing behind: the connection goes on.
        expect(yield* noteTexts(sql)).toEqual(["one", "two", "three"])
      }))

    it.scopedLive("a file that cannot be opened fails the layer with a SqlError holding the driver's error", () =>
      Effect.gen(function*() {
        const missingDirectory = Path.join(Os.tmpdir(), `ecs-missing-${Date.now()}`, "x", "checkpoints.db")
        const error = yield* Effect.flip(buildClient(missingDirectory))
        expect(error).toBeInstanceOf(SqlError)
        expect(error.message).toBe("Failed to open database")
        // better-sqlite3 throws a TypeError for a missing directory, bun:sqlite a SQLiteError (SQLITE_CANTOPEN).
        expect(error.cause).toBeInstanceOf(Error)
      }))
  })

  describe("the storage over the client", () => {
    it.scopedLive("a store issued while another fiber's transaction is open waits for it and stays out of it", () =>
      Effect.gen(function*() {
        const { sql, storage } = yield* buildStorage(yield* databaseFile)
        const inside = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const transaction = yield* sql.withTransaction(Effect.gen(function*() {
          yield* storage.storeAppCheckpoint(appCheckpoint("rolled-back"))
          yield* Deferred.succeed(inside, undefined)
          yield* Deferred.await(release)
          return yield* Effect.fail("abort" as const)
        })).pipe(Effect.fork)
        yield* Deferred.await(inside)

        const outside = yield* Effect.fork(storage.storeAgentCheckpoint(agentCheckpoint("outside")))
        yield* pause
        expect(Option.isNone(yield* Fiber.poll(outside))).toBe(true)

        yield* Deferred.succeed(release, undefined)
        expect(yield* Fiber.await(transaction)).toEqual(Exit.fail("abort"))
        const id = yield* Fiber.join(outside)
        const stored = yield* storage.retrieveAgentCheckpoint(id)
        expect(Option.map(stored, (checkpoint) => checkpoint.name)).toEqual(Option.some("outside"))
        expect(yield* storage.listAppCheckpoints()).toEqual([])
      }))

    it.scopedLive("a read issued while another fiber's transaction is open answers after its commit", () =>
      Effect.gen(function*() {
        const { sql, storage } = yield* buildStorage(yield* databaseFile)
        yield* storage.storeAppCheckpoint(appCheckpoint("before"))
        const inside = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const transaction = yield* sql.withTransaction(Effect.gen(function*() {
          yield* storage.storeAppCheckpoint({ ...appCheckpoint("committed"), createdAt: 1_763_900_000_001 })
          yield* Deferred.succeed(inside, undefined)
          yield* Deferred.await(release)
        })).pipe(Effect.fork)
        yield* Deferred.await(inside)

        const latest = yield* Effect.fork(storage.retrieveLatestAppCheckpoint())
        yield* pause
        expect(Option.isNone(yield* Fiber.poll(latest))).toBe(true)

        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(transaction)
        const found = yield* Fiber.join(latest)
        expect(Option.map(found, (checkpoint) => checkpoint.sessionId)).toEqual(Option.some("committed"))
      }))

    it.scopedLive("inside the caller's own transaction the storage's statements run in it, and roll back with it", () =>
      Effect.gen(function*() {
        const { sql, storage } = yield* buildStorage(yield* databaseFile)
        let id = ""
        let seenInside = ""
        const exit = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
          id = yield* storage.storeAgentCheckpoint(agentCheckpoint("uncommitted"))
          const inside = yield* storage.retrieveAgentCheckpoint(id)
          seenInside = Option.match(inside, { onNone: () => "nothing", onSome: (checkpoint) => checkpoint.name })
          return yield* Effect.fail("rollback" as const)
        })))
        expect(exit).toEqual(Exit.fail("rollback"))
        expect(seenInside).toBe("uncommitted")
        expect(Option.isNone(yield* storage.retrieveAgentCheckpoint(id))).toBe(true)
      }))

    // Every statement is stepped to its end: a connection that kept a read open would keep its snapshot, and no
    // checkpoint could empty the WAL again.
    it.scopedLive("a read of one row leaves no read open: another connection's checkpoint then empties the WAL", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const { storage } = yield* buildStorage(databasePath)
        const first = yield* storage.storeAgentCheckpoint(agentCheckpoint("first"))
        yield* storage.storeAgentCheckpoint(agentCheckpoint("second"))
        const other = yield* otherConnection(databasePath)
        const truncate = () => other.prepare("PRAGMA wal_checkpoint(TRUNCATE)").all([])[0]
        for (const read of [storage.retrieveAgentCheckpoint(first), storage.retrieveLatestAgentCheckpoint()]) {
          expect(Option.isSome(yield* read)).toBe(true)
          // A frame written after the read: a snapshot still held would keep the checkpoint from resetting the WAL.
          other.prepare(`UPDATE "AgentCheckpoints" SET "name" = "name" WHERE "id" = ?`).run([Number(first)])
          expect(truncate()).toEqual({ busy: 0, log: 0, checkpointed: 0 })
        }
      }))

    it.scopedLive("many concurrent stores, retention stores and reads all land, each once", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const context = yield* Layer.build(layerSqlite({ databasePath, retention: { keepLastPerSession: 1000 } }))
        const retained = Context.get(context, CheckpointStorage)
        const { storage } = yield* buildStorage(databasePath)
        const ids = yield* Effect.forEach(
          Array.from({ length: 120 }, (_, n) => n),
          (n) =>
            n % 3 === 0
              ? retained.storeAgentCheckpoint(agentCheckpoint(`retained-${n}`))
              : Effect.tap(
                storage.storeAgentCheckpoint(agentCheckpoint(`plain-${n}`)),
                (id) => storage.retrieveAgentCheckpoint(id)
              ),
          { concurrency: "unbounded" }
        )
        expect(new Set(ids).size).toBe(120)
        const names = (yield* storage.listAgentCheckpoints()).map((item) => item.name)
        expect(names.length).toBe(120)
      }))
  })

  describe("the prepared statement cache", () => {
    it("keeps at most its capacity, dropping the least recently used statement first", () => {
      const prepared: Array<string> = []
      const statementOf = makeStatementCache({
        capacity: 2,
        timeToLiveMillis: 60_000,
        prepare: (sql) => {
          prepared.push(sql)
          return { sql }
        }
      })
      const first = statementOf("a")
      statementOf("b")
      expect(statementOf("a")).toBe(first)
      statementOf("c") // evicts b, used less recently than a
      statementOf("a")
      statementOf("b") // prepared again; evicts c
      statementOf("a")
      expect(prepared).toEqual(["a", "b", "c", "b"])
    })

    it("drops a statement unused for longer than its time to live when another is prepared", () => {
      let now = 1_000_000
      const realNow = Date.now
      Date.now = () => now
      try {
        const prepared: Array<string> = []
        const statementOf = makeStatementCache({
          capacity: 10,
          timeToLiveMillis: 1000,
          prepare: (sql) => void prepared.push(sql)
        })
        statementOf("old")
        now += 600
        statementOf("recent")
        now += 600
        statementOf("new") // "old" has been unused for 1200 ms
        statementOf("recent")
        statementOf("old")
        expect(prepared).toEqual(["old", "recent", "new", "old"])
      } finally {
        Date.now = realNow
      }
    })

    it("prepares nothing ahead and keeps nothing with a capacity below 1", () => {
      const prepared: Array<string> = []
      const statementOf = makeStatementCache({ capacity: 0, timeToLiveMillis: 1000, prepare: (sql) => prepared.push(sql) })
      statementOf("a")
      statementOf("a")
      expect(prepared).toEqual(["a", "a"])
    })

    it.scopedLive("the client prepares a statement once, and again only after prepareCacheSize others pushed it out", () =>
      Effect.gen(function*() {
        const recording = yield* recordingOpen
        const sql = yield* buildClient(yield* databaseFile, { prepareCacheSize: 2 }, recording.open)
        const select = (n: number) => `SELECT ${n} AS n`
        for (const n of [1, 2, 1, 1, 2, 1, 2]) yield* sql.unsafe(select(n))
        yield* sql.unsafe(select(3)) // evicts 1
        yield* sql.unsafe(select(2)).raw
        expect(yield* sql.unsafe(select(1)).values).toEqual([[1]])
        expect(recording.prepared.filter((text) => text.startsWith("SELECT "))).toEqual([1, 2, 3, 1].map(select))
      }))

    it.scopedLive("closes the database when the layer's scope closes", () =>
      Effect.gen(function*() {
        const recording = yield* recordingOpen
        const databasePath = yield* databaseFile
        yield* Effect.scoped(buildClient(databasePath, {}, recording.open))
        expect(recording.closed()).toBe(1)
      }))
  })

  describe("driver errors", () => {
    // The official client of this runtime, on the same file: the errors must be classified as they were through it.
    const officialClient = (databasePath: string, session: SqliteSessionOptions) =>
      Effect.gen(function*() {
        const { SqliteClient } = isBun
          ? yield* Effect.promise(() => import("@effect/sql-sqlite-bun"))
          : yield* Effect.promise(() => import("@effect/sql-sqlite-node"))
        const context = yield* Layer.build(
          Layer.provideMerge(layerSqliteSession(session), SqliteClient.layer({ filename: databasePath, disableWAL: true }))
        )
        return Context.get(context, SqlClient.SqlClient)
      })

    it.scopedLive("a constraint violation has the same code as through the official client", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const ours = yield* buildClient(databasePath)
        const official = yield* officialClient(databasePath, {})
        yield* ours`CREATE TABLE "unique_names" ("name" TEXT UNIQUE)`
        yield* ours`INSERT INTO "unique_names" ("name") VALUES (${"taken"})`
        const insert = `INSERT INTO "unique_names" ("name") VALUES (?) RETURNING "name"`
        const viaClient = yield* Effect.flip(ours.unsafe(insert, ["taken"]))
        const viaOfficial = yield* Effect.flip(official.unsafe(insert, ["taken"]))
        const expected = { code: "SQLITE_CONSTRAINT_UNIQUE", isConnectionFailure: false }
        expect(driverCode(viaOfficial)).toEqual(expected)
        expect(driverCode(viaClient)).toEqual(expected)
      }))

    it.scopedLive("a write lock held by another connection past the busy timeout has the same code as through the official client", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const ours = yield* buildClient(databasePath, { busyTimeout: 0 })
        const official = yield* officialClient(databasePath, { busyTimeout: 0 })
        yield* ours`CREATE TABLE "counters" ("n" INTEGER)`
        const other = yield* otherConnection(databasePath)
        other.prepare("BEGIN IMMEDIATE").run([])
        const insert = `INSERT INTO "counters" ("n") VALUES (?) RETURNING "n"`
        const viaClient = yield* Effect.flip(ours.unsafe(insert, [1]))
        const viaOfficial = yield* Effect.flip(official.unsafe(insert, [1]))
        other.prepare("ROLLBACK").run([])
        const expected = { code: "SQLITE_BUSY", isConnectionFailure: false }
        expect(driverCode(viaOfficial)).toEqual(expected)
        expect(driverCode(viaClient)).toEqual(expected)
        expect(yield* ours.unsafe(insert, [2])).toEqual([{ n: 2 }])
      }))
  })

  describe("options", () => {
    it.scopedLive("busyTimeout and WAL are applied; disableWAL keeps the rollback journal", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile, { busyTimeout: 1234 })
        expect(yield* sql`PRAGMA busy_timeout`).toEqual([{ timeout: 1234 }])
        expect(yield* sql`PRAGMA journal_mode`).toEqual([{ journal_mode: "wal" }])
        const rollbackJournal = yield* buildClient(yield* databaseFile, { disableWAL: true })
        expect(yield* rollbackJournal`PRAGMA journal_mode`).toEqual([{ journal_mode: "delete" }])
      }))

    // Left to the drivers, the durability of a commit would depend on the runtime (bun:sqlite syncs FULL; better-sqlite3
    // NORMAL, but FULL on a connection that just made a new file WAL): the layers always set it.
    it.scopedLive("synchronous is NORMAL with WAL and FULL with the rollback journal unless chosen, on every open", () =>
      Effect.gen(function*() {
        const synchronous = (sql: SqlClient.SqlClient) => Effect.map(sql`PRAGMA synchronous`, (rows) => rows[0])
        const databasePath = yield* databaseFile
        // 1 is NORMAL, 2 FULL, 3 EXTRA: the first open of a new file, a second open of it, and the rollback journal.
        expect(yield* synchronous((yield* buildClient(databasePath)))).toEqual({ synchronous: 1 })
        expect(yield* synchronous((yield* buildClient(databasePath)))).toEqual({ synchronous: 1 })
        expect(yield* synchronous((yield* buildClient(databasePath, { synchronous: "full" })))).toEqual({ synchronous: 2 })
        const rollbackJournal = yield* buildClient(yield* databaseFile, { disableWAL: true })
        expect(yield* synchronous(rollbackJournal)).toEqual({ synchronous: 2 })
        const extra = yield* buildClient(yield* databaseFile, { disableWAL: true, synchronous: "extra" })
        expect(yield* synchronous(extra)).toEqual({ synchronous: 3 })
      }))

    it.scopedLive("a synchronous level that could corrupt the file is refused with a typed error, and no file is made", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const normalWithoutWal = yield* Effect.flip(
          Layer.build(layerSqlite({ databasePath, disableWAL: true, synchronous: "normal" }))
        )
        expect(normalWithoutWal._tag).toBe("CheckpointValidationError")
        expect(normalWithoutWal.message).toContain("synchronous")
        expect(normalWithoutWal.message).toContain("safe with WAL only")
        // "off" is not a level the layers offer; a caller without types gets the same error.
        const off = yield* Effect.flip(
          Layer.build(layerSqlite({ databasePath, synchronous: "off" as unknown as "full" }))
        )
        expect(off._tag).toBe("CheckpointValidationError")
        expect(off.message).toContain("synchronous")
        expect(Fs.existsSync(databasePath)).toBe(false)
      }))

    it.scopedLive("a new database file is readable by its owner only", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        yield* buildClient(databasePath)
        expect(Fs.statSync(databasePath).mode & 0o777).toBe(0o600)
      }))

    it.scopedLive("readonly opens the file read-only", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const writer = yield* buildClient(databasePath)
        yield* writer`CREATE TABLE "notes" ("text" TEXT)`
        const reader = yield* buildClient(databasePath, { readonly: true })
        expect(yield* reader`SELECT COUNT(*) AS n FROM "notes"`).toEqual([{ n: 0 }])
        const refused = yield* Effect.flip(reader`INSERT INTO "notes" ("text") VALUES (${"x"})`)
        expect(driverCode(refused).code).toMatch(/^SQLITE_READONLY/)
      }))

    it.scopedLive("the name transforms apply to the caller's queries; the storage's own columns stay exact", () =>
      Effect.gen(function*() {
        const databasePath = yield* databaseFile
        const options = { transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel }
        const sql = yield* buildClient(databasePath, options)
        expect(yield* sql`SELECT 1 AS ${sql("someValue")}`).toEqual([{ someValue: 1 }])
        expect(sql`SELECT 1 AS ${sql("someValue")}`.compile()[0]).toContain(`"some_value"`)
        const context = yield* Layer.build(layerSqlite({ databasePath, ...options, retention: { keepLastPerSession: 5 } }))
        const storage = Context.get(context, CheckpointStorage)
        const id = yield* storage.storeAgentCheckpoint(agentCheckpoint("exact"))
        expect(yield* storage.retrieveAgentCheckpoint(id)).toEqual(Option.some({ id, ...agentCheckpoint("exact") }))
        const plain = yield* buildClient(databasePath)
        const row = (yield* plain`SELECT "sessionId", "agentType" FROM "AgentCheckpoints"`)[0]
        expect(row).toEqual({ sessionId: "session-1", agentType: "coder" })
      }))

    it.scopedLive("a :memory: database holds checkpoints for the layer's lifetime", () =>
      Effect.gen(function*() {
        const context = yield* Layer.build(layerSqlite({ databasePath: ":memory:" }))
        const storage = Context.get(context, CheckpointStorage)
        const id = yield* storage.storeAgentCheckpoint(agentCheckpoint("in memory"))
        expect(Option.map(yield* storage.retrieveAgentCheckpoint(id), (checkpoint) => checkpoint.name))
          .toEqual(Option.some("in memory"))
      }))

    it.scopedLive("spanAttributes label every statement's span, with db.system.name", () =>
      Effect.gen(function*() {
        const sql = yield* buildClient(yield* databaseFile, { spanAttributes: { service: "checkpoints" } })
        const attributes: Array<readonly [string, string, unknown]> = []
        const base = yield* Effect.tracer
        const tracer = Tracer.make({
          span: (...args: Parameters<Tracer.Tracer["span"]>) => {
            const span = base.span(...args)
            const attribute = span.attribute.bind(span)
            span.attribute = (key, value) => {
              attributes.push([args[0], key, value])
              attribute(key, value)
            }
            return span
          },
          context: base.context
        })
        yield* Effect.withTracer(sql`SELECT 1`, tracer)
        expect(attributes).toEqual(expect.arrayContaining([
          ["sql.execute", "service", "checkpoints"],
          ["sql.execute", "db.system.name", "sqlite"]
        ]))
      }))
  })
})
