/**
 * Databases as Token Ring's storages left them, on every database of this runtime: one bun-storage 0.2 created opens
 * as it is under BunStorage, and one of the older generation (drizzle-storage, string ids, projectDirectory) is shared
 * by the older classes and BunStorage, each reading what the other wrote.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BunStorage } from "../src/index.js"
import { provision, runtimeTargets } from "./support/provision.js"
import { connectionStringOf, olderStorageFor, recordingApp } from "./support/tokenRingApp.js"
import { createBunStorageTables, createDrizzleStorageTables } from "./support/tokenRingTables.js"

// Larger than MySQL's TEXT (64 KiB): the state column bun-storage and drizzle-storage gave MySQL cuts it.
const largeState = { messages: Array.from({ length: 800 }, (_, step) => ({ step, text: "ünïcödé 🦊 ".repeat(10) })) }

const agent = { agentId: "agent-1", sessionId: "session-1", agentType: "coder", name: "step-1", state: { a: 1 }, createdAt: 1_000 }

for (const target of runtimeTargets) {
  describe(`${target.name}: a database bun-storage 0.2 created`, () => {
    let database: Awaited<ReturnType<typeof provision>>

    beforeAll(async () => {
      database = await provision(target)
      // Its tables, and rows as bun-storage writes them: JSON text, no size, and a whole metrics record.
      await Effect.runPromise(database.db.withSql((sql) =>
        Effect.gen(function*() {
          yield* createBunStorageTables(sql)
          yield* sql`INSERT INTO ${sql("AgentCheckpoints")} ${
            sql.insert({ ...agent, sessionId: "from-bun", state: JSON.stringify({ written: "by bun-storage" }) })
          }`
          yield* sql`INSERT INTO ${sql("AppCheckpoints")} ${
            sql.insert({ sessionId: "from-bun", hostname: "h", workspaceDirectory: "/ws", state: "{}", createdAt: 2_000 })
          }`
          yield* sql`INSERT INTO ${sql("AgentMetrics")} ${
            sql.insert({
              agentId: "agent-1",
              metrics: JSON.stringify({ costs: { model: 0.5 }, tokens: { totalInputTokens: 7 } }),
              updatedAt: 3_000
            })
          }`
        })
      ))
    }, 120_000)
    afterAll(() => database?.release())

    it("opens as it is: its rows read back with number ids, new ones store, and states over 64 KiB fit", async () => {
      const storage = new BunStorage({ connectionString: connectionStringOf(database.db.config) }, recordingApp().app)
      await storage.start()
      try {
        expect(await storage.retrieveAgentCheckpoint(1)).toEqual({
          id: 1,
          ...agent,
          sessionId: "from-bun",
          state: { written: "by bun-storage" }
        })
        expect(await storage.retrieveLatestAppCheckpoint()).toEqual({
          id: 1,
          sessionId: "from-bun",
          hostname: "h",
          workspaceDirectory: "/ws",
          state: {},
          createdAt: 2_000
        })
        expect(await storage.listAgentMetrics()).toMatchObject([{ agentId: "agent-1", totalCost: 0.5, totalInputTokens: 7 }])
        const id = await storage.storeAgentCheckpoint({ ...agent, state: largeState })
        expect(id).toBe(2)
        expect((await storage.retrieveAgentCheckpoint(id))?.state).toEqual(largeState)
        await storage.storeAgentMetrics({ agentId: "agent-1", metrics: { costs: { model: 0.75 } }, updatedAt: 4_000 })
        expect(await storage.listAgentMetrics()).toMatchObject([{ agentId: "agent-1", totalCost: 0.75, updatedAt: 4_000 }])
      } finally {
        await storage.stop()
      }
    })

    it("keeps bun-storage's indexes, and stays a database bun-storage can run its init.sql on and write to", async () => {
      const storage = new BunStorage({ connectionString: connectionStringOf(database.db.config) }, recordingApp().app)
      try {
        await storage.start()
        const indexes = await Effect.runPromise(database.db.withSql((sql) =>
          sql.onDialectOrElse({
            pg: () => sql<{ readonly name: string }>`SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()`,
            mysql: () =>
              sql<{ readonly name: string }>`SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()`,
            orElse: () => sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'index'`
          })
        ))
        expect(indexes.map((row) => row.name)).toEqual(expect.arrayContaining([
          "idx_agent_checkpoints_session",
          "idx_agent_checkpoints_agent_id",
          "idx_agent_checkpoints_created",
          "idx_agent_checkpoints_agent_session",
          "idx_app_checkpoints_session",
          "idx_app_checkpoints_created",
          "idx_agent_metrics_updated"
        ]))
        // bun-storage 0.2 starting on it again, and writing as it does (no sizeBytes, no parentId).
        await Effect.runPromise(database.db.withSql((sql) =>
          Effect.zipRight(
            createBunStorageTables(sql),
            sql`INSERT INTO ${sql("AppCheckpoints")} ${
              sql.insert({ sessionId: "bun-again", hostname: "h", workspaceDirectory: "/later", state: "{\"x\":1}", createdAt: 9_000 })
            }`
          )
        ))
        expect(await storage.retrieveLatestAppCheckpoint()).toMatchObject({ sessionId: "bun-again", state: { x: 1 } })
      } finally {
        await storage.stop()
      }
    })
  })

  describe(`${target.name}: a database of the older generation, shared by both`, () => {
    let database: Awaited<ReturnType<typeof provision>>

    beforeAll(async () => {
      database = await provision(target)
      await Effect.runPromise(database.db.withSql(createDrizzleStorageTables))
    }, 120_000)
    afterAll(() => database?.release())

    it("the older classes and BunStorage, open at once, each read what the other wrote", async () => {
      const older = olderStorageFor(database.db.config)
      const current = new BunStorage({ connectionString: connectionStringOf(database.db.config) }, recordingApp().app)
      await older.start()
      await current.start()
      try {
        const olderAgent = await older.storeAgentCheckpoint(agent)
        const olderApp = await older.storeAppCheckpoint({
          sessionId: "older",
          hostname: "h",
          projectDirectory: "/project",
          state: { by: "older" },
          createdAt: 1_000
        })
        expect(typeof olderAgent).toBe("string")
        expect(await current.retrieveAgentCheckpoint(Number(olderAgent))).toEqual({ id: Number(olderAgent), ...agent })
        expect(await current.retrieveAppCheckpoint(Number(olderApp))).toEqual({
          id: Number(olderApp),
          sessionId: "older",
          hostname: "h",
          workspaceDirectory: "/project",
          state: { by: "older" },
          createdAt: 1_000
        })

        const currentApp = await current.storeAppCheckpoint({
          sessionId: "current",
          hostname: "h",
          workspaceDirectory: "/workspace",
          state: { by: "current" },
          createdAt: 2_000
        })
        expect(await older.retrieveLatestAppCheckpoint()).toEqual({
          id: String(currentApp),
          sessionId: "current",
          hostname: "h",
          projectDirectory: "/workspace",
          state: { by: "current" },
          createdAt: 2_000
        })
        const listed = await older.listAppCheckpoints()
        expect(listed.map((item) => [item.id, item.projectDirectory])).toEqual([
          [String(currentApp), "/workspace"],
          [olderApp, "/project"]
        ])
        expect(listed.every((item) => !("workspaceDirectory" in item))).toBe(true)
        const page = await older.listAppCheckpoints({ projectDirectory: "/project" })
        expect(page.items.map((item) => item.id)).toEqual([olderApp])
      } finally {
        await current.stop()
        await older.stop()
      }
    })
  })
}
