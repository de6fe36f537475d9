/**
 * The Promise facade (SQLiteStorage, MySQLStorage, PostgresStorage) as Token Ring uses it, on every database of
 * this runtime.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MySQLStorage, PostgresStorage, SQLiteStorage } from "../src/index.js"
import { provision, runtimeTargets } from "./support/provision.js"
import { olderStorageFor } from "./support/tokenRingApp.js"
import type { TestDatabaseService } from "./support/TestDatabase.js"

const checkpoint = () => ({
  agentId: "agent-123",
  sessionId: "session-456",
  agentType: "coder",
  name: "session-1",
  state: { messages: ["Hello"], count: 1 },
  createdAt: Date.now()
})

// The connections a storage holds, counted on the server (the test's own inspection connection excluded).
const openConnections = (db: TestDatabaseService): Promise<number> =>
  Effect.runPromise(db.withSql((sql) =>
    sql.onDialectOrElse({
      pg: () =>
        sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = '@effect/sql-pg'`,
      orElse: () =>
        sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Killed'`
    })
  ).pipe(Effect.map((rows) => Number(rows[0]!.n))))

// The server ends a backend a moment after its client closed the socket: look again for up to two seconds.
const connectionsOnceSettled = async (db: TestDatabaseService): Promise<number> => {
  let open = await openConnections(db)
  for (let attempt = 0; open > 0 && attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    open = await openConnections(db)
  }
  return open
}

describe("the storage classes, without a database", () => {
  it("have drizzle-storage's names and descriptions, and display names without the password", () => {
    const sqlite = new SQLiteStorage({ type: "sqlite", databasePath: "./agent_state.db" })
    const mysql = new MySQLStorage({ type: "mysql", connectionString: "mysql://user:s3cr3t@localhost:3306/database" })
    const postgres = new PostgresStorage({
      type: "postgres",
      connectionString: "postgres://user:s3cr3t@localhost:5432/database"
    })
    expect([sqlite.name, sqlite.description, sqlite.displayName]).toEqual([
      "SQLiteStorage",
      "SQLite storage provider",
      "SQLite (./agent_state.db)"
    ])
    expect([mysql.name, mysql.description, mysql.displayName]).toEqual([
      "MySQLStorage",
      "MySQL storage provider",
      "MySQL (mysql://user:***@localhost:3306/database)"
    ])
    expect([postgres.name, postgres.description, postgres.displayName]).toEqual([
      "PostgresStorage",
      "PostgreSQL storage provider",
      "Postgres (postgres://user:***@localhost:5432/database)"
    ])
    for (const storage of [mysql, postgres]) {
      expect(JSON.stringify(storage)).not.toContain("s3cr3t")
      expect(Object.values(storage).join(" ")).not.toContain("s3cr3t")
    }
  })

  it("reject start() on a bad config with a CheckpointValidationError that names the field, every time", async () => {
    const storage = new PostgresStorage({ type: "postgres", connectionString: "s3cr3t-not-a-url" })
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await storage.start().catch((error: unknown) => error)
      expect(error).toBeInstanceOf(Error)
      expect(error).toMatchObject({
        _tag: "CheckpointValidationError",
        issues: [{ path: "connectionString", message: expect.stringContaining("must be a URL") }]
      })
      expect((error as Error).message).not.toContain("s3cr3t")
    }
    const sqlite = new SQLiteStorage({ type: "sqlite", databasePath: "" })
    await expect(sqlite.start()).rejects.toMatchObject({ _tag: "CheckpointValidationError", issues: [{ path: "databasePath" }] })
  })
})

for (const target of runtimeTargets) {
  describe(`${target.name} through the Promise facade`, () => {
    let database: Awaited<ReturnType<typeof provision>>

    beforeAll(async () => {
      database = await provision(target)
    }, 120_000)
    afterAll(() => database?.release())

    it("starts lazily: a method called before start() works, and start() afterwards is harmless", async () => {
      const storage = olderStorageFor(database.db.config)
      const id = await storage.storeAgentCheckpoint(checkpoint())
      await storage.start()
      await storage.start()
      expect((await storage.retrieveAgentCheckpoint(id))?.state).toEqual({ messages: ["Hello"], count: 1 })
      await storage.stop()
    })

    it("resolves retrieves of unknown or malformed ids to null", async () => {
      const storage = olderStorageFor(database.db.config)
      await storage.start()
      for (const id of ["999999", "abc", "1 OR 1=1", ""]) {
        expect(await storage.retrieveAgentCheckpoint(id)).toBeNull()
        expect(await storage.retrieveAppCheckpoint(id)).toBeNull()
      }
      await storage.close()
    })

    it("rejects a failure with the typed error itself: an Error with its _tag, its fields and a readable message", async () => {
      const storage = olderStorageFor(database.db.config)
      const error = await storage.storeAgentCheckpoint({ ...checkpoint(), createdAt: 1.5 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect(error).toMatchObject({ _tag: "CheckpointValidationError", subject: "NamedAgentCheckpoint" })
      expect((error as Error).message).toBe(
        "Invalid NamedAgentCheckpoint: createdAt: must be a whole number of milliseconds (a safe integer)"
      )
      const circular: Record<string, unknown> = {}
      circular.self = circular
      await expect(storage.storeAppCheckpoint({
        sessionId: "s",
        hostname: "h",
        projectDirectory: "/",
        state: circular,
        createdAt: 1
      })).rejects.toMatchObject({ _tag: "StateEncodeError", path: "state.self" })
      await storage.stop()
    })

    // Once started, store, retrieve and latest run on the storage's callbacks, not in a fiber per call (a store with
    // a parent excepted): the values and typed errors must be those of the service's Effects.
    it("answers store, retrieve and latest with plain values, nulls and typed errors; bad input writes nothing", async () => {
      const storage = olderStorageFor(database.db.config)
      await storage.start()
      const sessionId = "hot"
      const count = async () => (await storage.statistics()).agentCheckpoints.count
      const id = await storage.storeAgentCheckpoint({ ...checkpoint(), sessionId, createdAt: 30_000 })
      expect(await storage.retrieveAgentCheckpoint(id)).toMatchObject({ id, sessionId, state: { messages: ["Hello"], count: 1 } })
      expect(await storage.retrieveAgentCheckpoint("abc")).toBeNull()
      expect((await storage.retrieveLatestAgentCheckpoint({ sessionId }))?.id).toBe(id)
      expect(await storage.retrieveLatestAgentCheckpoint({ sessionId: `${sessionId}-none` })).toBeNull()

      const before = await count()
      await expect(storage.storeAgentCheckpoint({ ...checkpoint(), sessionId, createdAt: 1.5 })).rejects.toMatchObject({
        _tag: "CheckpointValidationError",
        issues: [{ path: "createdAt" }]
      })
      await expect(storage.retrieveLatestAgentCheckpoint({ sessionId: 7 as unknown as string })).rejects.toMatchObject({
        _tag: "CheckpointValidationError",
        issues: [{ path: "sessionId" }]
      })
      // A store with a parent runs in a transaction: the Effect's path, with its own errors.
      await expect(storage.storeAgentCheckpoint({ ...checkpoint(), sessionId, parentId: "999999" })).rejects.toMatchObject({
        _tag: "CheckpointNotFoundError",
        role: "parent"
      })
      expect(await count()).toBe(before)
      const child = await storage.storeAgentCheckpoint({ ...checkpoint(), sessionId, parentId: id, createdAt: 30_001 })
      expect((await storage.retrieveLatestAgentCheckpoint({ sessionId }))).toMatchObject({ id: child, parentId: id })

      const appId = await storage.storeAppCheckpoint({
        sessionId,
        hostname: "h",
        projectDirectory: "/",
        state: { open: ["a.ts"] },
        createdAt: 30_000
      })
      await Effect.runPromise(database.db.withSql((sql) =>
        sql`UPDATE ${sql("AppCheckpoints")} SET ${sql("state")} = ${"{\"open\": ["} WHERE ${sql("id")} = ${Number(appId)}`
      ))
      await expect(storage.retrieveAppCheckpoint(appId)).rejects.toMatchObject({ _tag: "StateDecodeError", id: appId })
      await expect(storage.retrieveLatestAppCheckpoint({ sessionId })).rejects.toMatchObject({
        _tag: "StateDecodeError",
        id: appId
      })
      await storage.stop()
    })

    it("lists and retrieves the latest checkpoint as plain arrays and objects", async () => {
      const storage = olderStorageFor(database.db.config)
      const appId = await storage.storeAppCheckpoint({
        sessionId: "session-latest",
        hostname: "localhost",
        projectDirectory: "/home/user/project",
        state: { files: ["index.ts"] },
        createdAt: 4_000_000_000_000
      })
      const latest = await storage.retrieveLatestAppCheckpoint()
      expect(latest).toEqual({
        id: appId,
        sessionId: "session-latest",
        hostname: "localhost",
        projectDirectory: "/home/user/project",
        state: { files: ["index.ts"] },
        createdAt: 4_000_000_000_000
      })
      const apps = await storage.listAppCheckpoints()
      expect(Array.isArray(apps)).toBe(true)
      expect(apps[0]?.id).toBe(appId)
      expect(Array.isArray(await storage.listAgentCheckpoints())).toBe(true)
      await storage.stop()
    })

    it("answers Token Ring's paginated list options with a PaginatedResult", async () => {
      const storage = olderStorageFor(database.db.config)
      const ids: Array<string> = []
      for (let step = 0; step < 5; step++) {
        ids.push(await storage.storeAgentCheckpoint({ ...checkpoint(), sessionId: "paged", createdAt: 10_000 + step }))
      }
      const page = await storage.listAgentCheckpoints({ sessionId: "paged", limit: 2, offset: 1 })
      expect(page).toMatchObject({ total: 5, hasMore: true, limit: 2, offset: 1 })
      expect(page.items.map((item) => item.id)).toEqual([ids[3], ids[2]])
      const last = await storage.listAgentCheckpoints({ sessionId: "paged", limit: 2, offset: 4, orderDir: "DESC" })
      expect(last).toMatchObject({ total: 5, hasMore: false, items: [{ id: ids[0] }] })
      const apps = await storage.listAppCheckpoints({ sessionId: "no-such-session" })
      expect(apps).toEqual({ items: [], total: 0, hasMore: false, limit: 50, offset: 0 })
      await storage.stop()
    })

    it("pages with cursors, streams with for await, and fails a stream with the typed error", async () => {
      const storage = olderStorageFor(database.db.config)
      const first = await storage.listAgentCheckpointPage({ sessionId: "paged", limit: 3, orderDir: "ASC" })
      expect(first.items).toHaveLength(3)
      expect(typeof first.nextCursor).toBe("string")
      const second = await storage.listAgentCheckpointPage({
        sessionId: "paged",
        limit: 3,
        orderDir: "ASC",
        cursor: first.nextCursor!,
        includeTotal: true
      })
      expect(second).toMatchObject({ nextCursor: null, total: 5 })
      expect([...first.items, ...second.items].map((item) => item.createdAt)).toEqual([10_000, 10_001, 10_002, 10_003, 10_004])

      const streamed: Array<number> = []
      for await (const item of storage.streamAgentCheckpoints({ sessionId: "paged", pageSize: 2, includeState: true })) {
        expect(item.state).toEqual({ messages: ["Hello"], count: 1 })
        streamed.push(item.createdAt)
      }
      expect(streamed).toEqual([10_004, 10_003, 10_002, 10_001, 10_000])
      const failing = async () => {
        for await (const _ of storage.streamAppCheckpoints({ pageSize: 0 })) {
          // never reached
        }
      }
      await expect(failing()).rejects.toMatchObject({ _tag: "CheckpointValidationError" })
      await storage.stop()
    })

    it("releases a stream left early (break or throw): later calls work on a pool of one connection", async () => {
      const config = database.db.config
      const storage = config.type === "postgres"
        ? new PostgresStorage({ ...config, maxConnections: 1 })
        : config.type === "mysql"
        ? new MySQLStorage({ ...config, maxConnections: 1 })
        : olderStorageFor(config)
      for (let step = 0; step < 5; step++) {
        await storage.storeAgentCheckpoint({ ...checkpoint(), sessionId: "left-early", createdAt: 20_000 + step })
      }
      const seen: Array<number> = []
      for await (const item of storage.streamAgentCheckpoints({ sessionId: "left-early", pageSize: 2 })) {
        seen.push(item.createdAt)
        if (seen.length === 3) break // in the second page
      }
      expect(seen).toEqual([20_004, 20_003, 20_002])
      const consumerFailure = new Error("the consumer gave up")
      const throwing = async () => {
        for await (const _ of storage.streamAgentCheckpoints({ sessionId: "left-early", pageSize: 2 })) {
          throw consumerFailure
        }
      }
      await expect(throwing()).rejects.toBe(consumerFailure)
      const page = await storage.listAgentCheckpointPage({ sessionId: "left-early", limit: 10 })
      expect(page.items.map((item) => item.createdAt)).toEqual([20_004, 20_003, 20_002, 20_001, 20_000])
      let streamed = 0
      for await (const _ of storage.streamAgentCheckpoints({ sessionId: "left-early", pageSize: 2 })) streamed++
      expect(streamed).toBe(5)
      await storage.stop()
    })

    it("deletes, prunes, forks, walks lineage and reports statistics, as plain values", async () => {
      const storage = olderStorageFor(database.db.config)
      const root = await storage.storeAgentCheckpoint({ ...checkpoint(), sessionId: "lifecycle", createdAt: 20_000 })
      const fork = await storage.forkAgentCheckpoint(root, { name: "branch", createdAt: 20_001 })
      expect((await storage.listAgentLineage(fork)).map((item) => item.id)).toEqual([fork, root])
      expect((await storage.retrieveLatestAgentCheckpoint({ sessionId: "lifecycle" }))?.id).toBe(fork)
      expect(await storage.prune({ keepLastPerSession: 1 })).toMatchObject({ appCheckpoints: expect.any(Number) })
      expect(await storage.retrieveAgentCheckpoint(root)).toBeNull()
      expect(await storage.deleteAgentCheckpoint(fork)).toBe(1)
      expect(await storage.deleteAgentCheckpoints({ sessionId: "lifecycle" })).toBe(0)
      const statistics = await storage.statistics()
      expect(typeof statistics.agentCheckpoints.count).toBe("number")
      expect(statistics.agentCheckpoints.oldestCreatedAt === null || typeof statistics.agentCheckpoints.oldestCreatedAt === "number")
        .toBe(true)
      await expect(storage.forkAppCheckpoint("999999")).rejects.toMatchObject({
        _tag: "CheckpointNotFoundError",
        role: "source"
      })
      await storage.stop()
    })

    if (target.dialect !== "sqlite") {
      it("releases every connection on stop(), and works again after a new start()", async () => {
        const storage = olderStorageFor(database.db.config)
        await storage.start()
        await Promise.all(Array.from({ length: 8 }, () => storage.listAgentCheckpoints()))
        expect(await openConnections(database.db)).toBeGreaterThan(0)
        await storage.stop()
        expect(await connectionsOnceSettled(database.db)).toBe(0)
        await storage.start()
        expect(Array.isArray(await storage.listAgentCheckpoints())).toBe(true)
        await storage.stop()
        expect(await connectionsOnceSettled(database.db)).toBe(0)
      })
    }

    for (const { config, label } of target.unreachable) {
      it(`rejects start() for ${label} with a StorageConnectionError`, async () => {
        const storage = olderStorageFor(config)
        await expect(storage.start()).rejects.toMatchObject({ _tag: "StorageConnectionError", operation: "connect" })
        await expect(storage.listAgentCheckpoints()).rejects.toMatchObject({ _tag: "StorageConnectionError" })
        await storage.stop()
      }, 30_000)
    }
  })
}
