/**
 * BunStorage, the drop-in for Token Ring's `@tokenring-ai/bun-storage` 0.2, on every database of this runtime: what
 * bun-storage's own test checks, and what it leaves untested (orders, ties, bad options, masking, metrics on servers).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BunStorage, CheckpointValidationError } from "../src/index.js"
import { provision, runtimeTargets } from "./support/provision.js"
import { connectionStringOf, recordingApp } from "./support/tokenRingApp.js"

const agentCheckpoint = (overrides: Record<string, unknown> = {}) => ({
  agentId: "agent-1",
  sessionId: "session-1",
  agentType: "coder",
  name: "step",
  state: { messages: [{ role: "user", content: "héllo 🦊" }], nested: { deep: [1, 2, { three: 3 }] } },
  createdAt: 1_700_000_000_000,
  ...overrides
})

const appCheckpoint = (overrides: Record<string, unknown> = {}) => ({
  sessionId: "session-1",
  hostname: "host",
  workspaceDirectory: "/home/user/workspace",
  state: { open: ["a.ts"] },
  createdAt: 1_700_000_000_000,
  ...overrides
})

describe("BunStorage without a database", () => {
  it("has bun-storage's name, and a displayName that never shows the password", () => {
    const { app } = recordingApp()
    const postgres = new BunStorage({ connectionString: "postgres://agent:s3cr3t@db.example:5432/agents" }, app)
    expect(postgres.name).toBe("BunStorage")
    expect(postgres.dialect).toBe("postgres")
    expect(postgres.displayName).toBe("Bun SQL postgres (postgres://agent:***@db.example:5432/agents)")
    const mysql = new BunStorage({ connectionString: "mariadb://root:s3cr3t@db.example/agents" }, app)
    expect(mysql.dialect).toBe("mysql")
    expect(mysql.displayName).toBe("Bun SQL mysql (mariadb://root:***@db.example/agents)")
    for (const storage of [postgres, mysql]) {
      expect(JSON.stringify(storage)).not.toContain("s3cr3t")
      expect(Object.values(storage).join(" ")).not.toContain("s3cr3t")
    }
    // A libpq keyword string is no URL: it is not shown at all, since a secret could sit anywhere in it.
    expect(new BunStorage({ connectionString: "host=db password=s3cr3t" }, app).displayName).toBe(
      "Bun SQL postgres (<connection string>)"
    )
  })

  it("detects the database from the connection string as bun-storage does, and defaults to the workspace's file", () => {
    const { app } = recordingApp("/srv/ws")
    const dialect = (connectionString: string) => new BunStorage({ connectionString }, app).dialect
    expect([":memory:", "sqlite:./a.db", "sqlite:///a.db", "file:a.db", "file:///a.db"].map(dialect)).toEqual(
      Array(5).fill("sqlite")
    )
    expect(["mysql://h/d", "mysql2://h/d", "mariadb://h/d"].map(dialect)).toEqual(Array(3).fill("mysql"))
    expect(["postgres://h/d", "postgresql://h/d", "/var/run/db"].map(dialect)).toEqual(Array(3).fill("postgres"))
    const defaulted = new BunStorage(undefined, app)
    expect(defaulted.displayName).toBe("Bun SQL sqlite (sqlite:/srv/ws/database.sqlite)")
  })

  it("refuses a bad duration or count at construction with a CheckpointValidationError naming the field", () => {
    const { app } = recordingApp()
    const refused = (retention: unknown) => {
      try {
        new BunStorage({ connectionString: ":memory:", retention } as never, app)
      } catch (error) {
        expect(error).toBeInstanceOf(CheckpointValidationError)
        return (error as CheckpointValidationError).issues.map((issue) => issue.path)
      }
      throw new Error("accepted")
    }
    expect(refused({ agentCheckpoints: { maxAge: "30 days" } })).toEqual(["retention.agentCheckpoints.maxAge"])
    expect(refused({ appCheckpoints: { maxAge: "1w" } })).toEqual(["retention.appCheckpoints.maxAge"])
    expect(refused({ agentMetrics: { maxAge: "-1d" } })).toEqual(["retention.agentMetrics.maxAge"])
    expect(refused({ agentCheckpoints: { maxAge: "1.5h", maxPerAgent: 0 } }).sort()).toEqual([
      "retention.agentCheckpoints.maxAge",
      "retention.agentCheckpoints.maxPerAgent"
    ])
    expect(refused({ appCheckpoints: { maxTotal: 2.5 } })).toEqual(["retention.appCheckpoints.maxTotal"])
    expect(refused({ cleanupInterval: "0h" })).toEqual(["retention.cleanupInterval"])
    // What bun-storage accepts, this accepts: "0d" too.
    expect(() => new BunStorage({ connectionString: ":memory:", retention: { agentCheckpoints: { maxAge: "0d" } } }, app))
      .not.toThrow()
  })

  it("keeps checkpoints in a private in-memory database with :memory:", async () => {
    const storage = new BunStorage({ connectionString: ":memory:" }, recordingApp().app)
    expect(storage.displayName).toBe("Bun SQL sqlite (:memory:)")
    try {
      await storage.start()
      const id = await storage.storeAgentCheckpoint(agentCheckpoint())
      expect(await storage.retrieveAgentCheckpoint(id)).toEqual({ id, ...agentCheckpoint() })
    } finally {
      await storage.stop()
    }
  })
})

for (const target of runtimeTargets) {
  describe(`BunStorage on ${target.name}`, () => {
    let database: Awaited<ReturnType<typeof provision>>
    let storage: BunStorage

    beforeAll(async () => {
      database = await provision(target)
      storage = new BunStorage({ connectionString: connectionStringOf(database.db.config) }, recordingApp().app)
      await storage.start()
    }, 120_000)
    afterAll(async () => {
      await storage?.stop()
      await database?.release()
    })

    it("stores an agent checkpoint under a number id and reads it back whole", async () => {
      const checkpoint = agentCheckpoint({ sessionId: "round-trip" })
      const id = await storage.storeAgentCheckpoint(checkpoint)
      expect(typeof id).toBe("number")
      expect(await storage.retrieveAgentCheckpoint(id)).toEqual({ id, ...checkpoint })
    })

    it("answers null for an id it does not have (also for ids that cannot be)", async () => {
      for (const id of [999999, 0, -1, 1.5, Number.NaN]) {
        expect(await storage.retrieveAgentCheckpoint(id)).toBeNull()
        expect(await storage.retrieveAppCheckpoint(id)).toBeNull()
      }
    })

    it("lists with bun-storage's defaults: limit 50, offset 0, a number total and a boolean hasMore", async () => {
      const page = await storage.listAgentCheckpoints()
      expect(page).toMatchObject({ limit: 50, offset: 0, total: expect.any(Number), hasMore: false })
      expect(page.items.length).toBe(page.total)
      expect(page.items.every((item) => typeof item.id === "number" && !("state" in item))).toBe(true)
    })

    it("filters by agentId and pages with limit and offset", async () => {
      for (const createdAt of [1, 2, 3]) {
        await storage.storeAgentCheckpoint(agentCheckpoint({ agentId: "paged", sessionId: `paged-${createdAt}`, createdAt }))
      }
      const first = await storage.listAgentCheckpoints({ agentId: "paged", limit: 2 })
      expect(first).toMatchObject({ total: 3, hasMore: true, limit: 2, offset: 0 })
      expect(first.items.map((item) => item.createdAt)).toEqual([3, 2])
      const second = await storage.listAgentCheckpoints({ agentId: "paged", limit: 2, offset: 2 })
      expect(second).toMatchObject({ total: 3, hasMore: false, limit: 2, offset: 2 })
      expect(second.items.map((item) => item.createdAt)).toEqual([1])
      expect((await storage.listAgentCheckpoints({ sessionId: "paged-2" })).items.map((item) => item.createdAt)).toEqual([2])
      // A null filter is no filter, as in bun-storage.
      expect((await storage.listAgentCheckpoints({ agentId: "paged", sessionId: null })).total).toBe(3)
    })

    it("filters by agentType, and by createdAt strictly after and before", async () => {
      for (const createdAt of [100, 200, 300]) {
        await storage.storeAgentCheckpoint(agentCheckpoint({ agentType: "timed", createdAt }))
      }
      const times = async (options: Record<string, unknown>) =>
        (await storage.listAgentCheckpoints({ agentType: "timed", ...options })).items.map((item) => item.createdAt)
      expect(await times({})).toEqual([300, 200, 100])
      expect(await times({ after: 100 })).toEqual([300, 200])
      expect(await times({ before: 300 })).toEqual([200, 100])
      expect(await times({ after: 100, before: 300 })).toEqual([200])
    })

    it("orders by id or createdAt, either way, ties in createdAt by id, and pages never overlap", async () => {
      const ids: Array<number> = []
      for (const createdAt of [50, 10, 50, 30, 50]) {
        ids.push(await storage.storeAgentCheckpoint(agentCheckpoint({ agentType: "ordered", createdAt })))
      }
      const list = async (options: Record<string, unknown>) =>
        (await storage.listAgentCheckpoints({ agentType: "ordered", ...options })).items.map((item) => item.id)
      const [a, b, c, d, e] = ids as [number, number, number, number, number]
      expect(await list({ orderBy: "id", orderDir: "ASC" })).toEqual([a, b, c, d, e])
      expect(await list({ orderBy: "id" })).toEqual([e, d, c, b, a])
      expect(await list({})).toEqual([e, c, a, d, b])
      expect(await list({ orderDir: "ASC" })).toEqual([b, d, a, c, e])
      const paged = [
        ...await list({ limit: 2 }),
        ...await list({ limit: 2, offset: 2 }),
        ...await list({ limit: 2, offset: 4 })
      ]
      expect(paged).toEqual([e, c, a, d, b])
    })

    it("refuses list options bun-storage would pass to the database, with a CheckpointValidationError", async () => {
      const refusals: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ limit: 0 }, "limit"],
        [{ limit: -1 }, "limit"],
        [{ limit: 1.5 }, "limit"],
        [{ limit: 10_001 }, "limit"],
        [{ offset: -1 }, "offset"],
        [{ orderBy: "name" }, "orderBy"],
        [{ orderDir: "sideways" }, "orderDir"]
      ]
      for (const [options, path] of refusals) {
        for (const list of [storage.listAgentCheckpoints(options), storage.listAppCheckpoints(options)]) {
          const error = await list.catch((error: unknown) => error)
          expect(error).toBeInstanceOf(CheckpointValidationError)
          expect((error as CheckpointValidationError).issues.map((issue) => issue.path)).toContain(path)
        }
      }
    })

    it("stores app checkpoints with workspaceDirectory, lists them, and the latest is the newest createdAt", async () => {
      const older = await storage.storeAppCheckpoint(appCheckpoint({ sessionId: "app-1", createdAt: 1_000 }))
      const newer = await storage.storeAppCheckpoint(appCheckpoint({ sessionId: "app-2", createdAt: 2_000 }))
      expect(await storage.retrieveAppCheckpoint(older)).toEqual({ id: older, ...appCheckpoint({ sessionId: "app-1", createdAt: 1_000 }) })
      expect((await storage.retrieveLatestAppCheckpoint())?.id).toBe(newer)
      const page = await storage.listAppCheckpoints({ sessionId: "app-1" })
      expect(page).toMatchObject({ total: 1, hasMore: false })
      expect(page.items).toEqual([{ id: older, sessionId: "app-1", hostname: "host", workspaceDirectory: "/home/user/workspace", createdAt: 1_000 }])
      // agentId and agentType do not apply to app checkpoints.
      expect((await storage.listAppCheckpoints({ agentId: "nobody" })).total).toBe(2)
    })

    it("opens the same database through each connection-string prefix bun-storage accepts", async () => {
      const id = await storage.storeAgentCheckpoint(agentCheckpoint({ name: "prefixes" }))
      const plain = connectionStringOf(database.db.config)
      const variants = storage.dialect === "sqlite"
        ? [plain.replace(/^sqlite:/, "sqlite://"), plain.replace(/^sqlite:/, "file:"), plain.replace(/^sqlite:/, "file://")]
        : storage.dialect === "mysql"
        ? [plain.replace(/^mysql:/, "mysql2:"), plain.replace(/^mysql:/, "mariadb:")]
        : [plain.replace(/^postgres:/, "postgresql:")]
      for (const connectionString of variants) {
        const other = new BunStorage({ connectionString }, recordingApp().app)
        expect(other.dialect).toBe(storage.dialect)
        try {
          expect((await other.retrieveAgentCheckpoint(id))?.name).toBe("prefixes")
        } finally {
          await other.stop()
        }
      }
    })

    it("stores, upserts, lists and deletes agent metrics", async () => {
      const metrics = (cost: number) => ({
        agentId: "metered",
        metrics: { costs: { model: cost }, tokens: { totalInputTokens: 100 } },
        updatedAt: 5_000
      })
      await storage.storeAgentMetrics(metrics(0.12))
      await storage.storeAgentMetrics(metrics(0.25))
      const stored = await storage.retrieveAgentMetrics("metered")
      expect(stored?.metrics.costs).toEqual({ model: 0.25 })
      expect(stored?.metrics.activity).toEqual({ totalSteps: 0, totalToolCalls: 0, toolCallsByName: {} })
      expect(await storage.listAgentMetrics()).toEqual([{
        agentId: "metered",
        totalCost: 0.25,
        totalInputTokens: 100,
        totalOutputTokens: 0,
        requestCount: 0,
        totalSteps: 0,
        totalToolCalls: 0,
        updatedAt: 5_000
      }])
      await storage.deleteAgentMetrics("metered")
      await storage.deleteAgentMetrics("metered")
      expect(await storage.retrieveAgentMetrics("metered")).toBeNull()
    })

    it("fills every part of metrics left out with zeros and empty collections", async () => {
      await storage.storeAgentMetrics({ agentId: "unmetered", metrics: {}, updatedAt: 6_000 })
      expect(await storage.retrieveAgentMetrics("unmetered")).toEqual({
        agentId: "unmetered",
        updatedAt: 6_000,
        metrics: {
          costs: {},
          tokens: { totalInputTokens: 0, totalOutputTokens: 0, totalCachedTokens: 0, totalReasoningTokens: 0 },
          tokensByCategory: {},
          latency: {
            requestCount: 0,
            totalElapsedMs: 0,
            totalTimeToFirstTokenMs: 0,
            timeToFirstTokenCount: 0,
            totalTokensPerSecond: 0,
            tokensPerSecondCount: 0,
            recentElapsedMs: [],
            recentTimeToFirstTokenMs: []
          },
          errors: { errorsByProvider: {}, errorsByType: {}, retryCount: 0 },
          activity: { totalSteps: 0, totalToolCalls: 0, toolCallsByName: {} }
        }
      })
      await storage.deleteAgentMetrics("unmetered")
    })
  })
}
