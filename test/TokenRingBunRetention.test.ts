/**
 * BunStorage's retention as Token Ring configures it, on every database of this runtime: the cleanup at start(), its
 * rules and figures, and the cleanup timer.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { BunStorage } from "../src/index.js"
import { provision, runtimeTargets } from "./support/provision.js"
import { connectionStringOf, recordingApp } from "./support/tokenRingApp.js"

const DAY = 86_400_000
const bytesOf = (value: object) => Buffer.byteLength(JSON.stringify(value), "utf8")

const agentCheckpoint = (agentId: string, ageDays: number, state: Record<string, unknown> = { note: "é🦊" }) => ({
  agentId,
  sessionId: `${agentId}-session-${ageDays}`,
  agentType: "coder",
  name: `${ageDays} days old`,
  state,
  createdAt: Date.now() - ageDays * DAY
})

const appCheckpoint = (ageDays: number) => ({
  sessionId: `app-${ageDays}`,
  hostname: "host",
  workspaceDirectory: "/w",
  state: { files: ["ü.ts"] },
  createdAt: Date.now() - ageDays * DAY
})

const tokenRingRetention = {
  agentCheckpoints: { maxAge: "30d", maxPerAgent: 2, keepLatest: true },
  appCheckpoints: { maxAge: "90d", maxTotal: 1000 },
  agentMetrics: { maxAge: "60d" }
}

for (const target of runtimeTargets) {
  describe(`BunStorage retention on ${target.name}`, () => {
    let database: Awaited<ReturnType<typeof provision>>
    let connectionString: string
    // Each test starts from empty tables, written by a storage without retention.
    let writer: BunStorage

    beforeAll(async () => {
      database = await provision(target)
      connectionString = connectionStringOf(database.db.config)
      writer = new BunStorage({ connectionString }, recordingApp().app)
      await writer.start()
    }, 120_000)
    afterAll(async () => {
      await writer?.stop()
      await database?.release()
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    const emptyTables = async () => {
      const cleaner = new BunStorage({
        connectionString,
        retention: { agentCheckpoints: { maxAge: "0d", keepLatest: false }, appCheckpoints: { maxAge: "0d" }, agentMetrics: { maxAge: "0d" } }
      }, recordingApp().app)
      await cleaner.cleanup()
      await cleaner.stop()
    }

    it("cleans up at start() as bun-storage's test expects, and a second cleanup finds nothing", async () => {
      await emptyTables()
      for (const age of [40, 35, 1, 0]) await writer.storeAgentCheckpoint(agentCheckpoint("busy", age))
      const lone = await writer.storeAgentCheckpoint(agentCheckpoint("lone", 60))
      await writer.storeAppCheckpoint(appCheckpoint(100))
      const recentApp = await writer.storeAppCheckpoint(appCheckpoint(1))
      await writer.storeAgentMetrics({ agentId: "stale", metrics: {}, updatedAt: Date.now() - 70 * DAY })
      await writer.storeAgentMetrics({ agentId: "fresh", metrics: {}, updatedAt: Date.now() })

      const { app, errors, output } = recordingApp()
      const storage = new BunStorage({ connectionString, retention: tokenRingRetention }, app)
      await storage.start()
      try {
        const busy = await storage.listAgentCheckpoints({ agentId: "busy" })
        expect(busy.items.map((item) => item.name)).toEqual(["0 days old", "1 days old"])
        expect((await storage.retrieveAgentCheckpoint(lone))?.name).toBe("60 days old")
        expect((await storage.listAppCheckpoints()).items.map((item) => item.id)).toEqual([recentApp])
        expect((await storage.listAgentMetrics()).map((item) => item.agentId)).toEqual(["fresh"])
        expect(errors).toEqual([])
        expect(output).toHaveLength(1)
        expect(await storage.cleanup()).toEqual({
          agentCheckpointsDeleted: 0,
          appCheckpointsDeleted: 0,
          agentMetricsDeleted: 0,
          spaceFreedBytes: 0
        })
      } finally {
        await storage.stop()
      }
    })

    it("counts spaceFreedBytes in UTF-8 bytes of the removed JSON, and maxTotal keeps the newest app checkpoints", async () => {
      await emptyTables()
      const wide = { text: "naïve 你好 🦊".repeat(50) }
      const old = agentCheckpoint("wide", 40, wide)
      await writer.storeAgentCheckpoint(old)
      await writer.storeAgentCheckpoint(agentCheckpoint("wide", 1))
      const apps = [5, 4, 3, 2, 1].map(appCheckpoint)
      for (const checkpoint of apps) await writer.storeAppCheckpoint(checkpoint)
      const metrics = { costs: { "modèle": 1 } }
      await writer.storeAgentMetrics({ agentId: "stale", metrics, updatedAt: 1 })
      const stale = await writer.retrieveAgentMetrics("stale")

      const storage = new BunStorage({
        connectionString,
        retention: { agentCheckpoints: { maxAge: "30d" }, appCheckpoints: { maxTotal: 2 }, agentMetrics: { maxAge: "1d" } }
      }, recordingApp().app)
      try {
        expect(await storage.cleanup()).toEqual({
          agentCheckpointsDeleted: 1,
          appCheckpointsDeleted: 3,
          agentMetricsDeleted: 1,
          spaceFreedBytes: bytesOf(wide) + apps.slice(0, 3).reduce((sum, app) => sum + bytesOf(app.state), 0) +
            bytesOf(stale!.metrics)
        })
        expect((await storage.listAppCheckpoints()).items.map((item) => item.sessionId)).toEqual(["app-1", "app-2"])
      } finally {
        await storage.stop()
      }
    })

    it("spares each agent's newest checkpoint from maxAge when keepLatest is left out (bun-storage's default)", async () => {
      await emptyTables()
      const alone = await writer.storeAgentCheckpoint(agentCheckpoint("alone", 60))
      const pairNewest = await writer.storeAgentCheckpoint(agentCheckpoint("pair", 60))
      await writer.storeAgentCheckpoint(agentCheckpoint("pair", 61))
      const recent = await writer.storeAgentCheckpoint(agentCheckpoint("recent", 0))
      await writer.storeAgentCheckpoint(agentCheckpoint("recent", 40))

      const storage = new BunStorage({ connectionString, retention: { agentCheckpoints: { maxAge: "30d" } } }, recordingApp().app)
      try {
        expect(await storage.cleanup()).toMatchObject({ agentCheckpointsDeleted: 2 })
        expect((await storage.listAgentCheckpoints()).items.map((item) => item.id)).toEqual([recent, pairNewest, alone])
      } finally {
        await storage.stop()
      }
    })

    it("without a retention config, cleanup() removes nothing and start() schedules nothing", async () => {
      await emptyTables()
      await writer.storeAgentCheckpoint(agentCheckpoint("kept", 400))
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] })
      const storage = new BunStorage({ connectionString }, recordingApp().app)
      await storage.start()
      try {
        expect(vi.getTimerCount()).toBe(0)
        expect(await storage.cleanup()).toEqual({
          agentCheckpointsDeleted: 0,
          appCheckpointsDeleted: 0,
          agentMetricsDeleted: 0,
          spaceFreedBytes: 0
        })
        expect((await storage.listAgentCheckpoints()).total).toBe(1)
      } finally {
        await storage.stop()
      }
    })

    it("cleans up again every cleanupInterval, reports what went, and stops with stop()", async () => {
      await emptyTables()
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] })
      const { app, errors, output } = recordingApp()
      const storage = new BunStorage({
        connectionString,
        retention: { agentCheckpoints: { maxAge: "30d", keepLatest: false }, cleanupInterval: "1h" }
      }, app)
      await storage.start()
      expect(vi.getTimerCount()).toBe(1)
      expect(output).toEqual([])
      await writer.storeAgentCheckpoint(agentCheckpoint("aging", 31))
      vi.advanceTimersByTime(59 * 60_000)
      expect((await storage.listAgentCheckpoints()).total).toBe(1)
      vi.advanceTimersByTime(60_000)
      await vi.waitFor(() => expect(output).toHaveLength(1))
      expect(String(output[0]![0])).toContain("1 agent checkpoints")
      expect((await storage.listAgentCheckpoints()).total).toBe(0)

      await storage.stop()
      expect(vi.getTimerCount()).toBe(0)
      await writer.storeAgentCheckpoint(agentCheckpoint("aging", 31))
      vi.advanceTimersByTime(2 * 3_600_000)
      expect((await writer.listAgentCheckpoints()).total).toBe(1)
      expect(errors).toEqual([])
    })
  })
}

describe("the cleanup timer", () => {
  it("never keeps a process alive: one that starts a BunStorage with retention and never stops it exits", () => {
    const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-timer-"))
    try {
      const script = Path.join(directory, "main.ts")
      Fs.writeFileSync(script, `
import { BunStorage } from ${JSON.stringify(Path.resolve(import.meta.dirname, "../src/index.ts"))}
const app = { getWorkspaceResolvedPath: (p: string) => ${JSON.stringify(directory)} + "/" + p, serviceOutput() {}, serviceError() {}, addService() {}, waitForService() {} }
const storage = new BunStorage({ retention: { agentCheckpoints: { maxAge: "30d" }, cleanupInterval: "1s" } }, app)
await storage.start()
console.log("started")
`)
      const isBun = typeof process.versions.bun === "string"
      const [command, args] = isBun
        ? [process.execPath, [script]]
        : [Path.resolve(import.meta.dirname, "../node_modules/.bin/vite-node"), [script]]
      const result = ChildProcess.spawnSync(command, args, { encoding: "utf8", timeout: 30_000 })
      expect(result.stdout).toContain("started")
      expect(result.status).toBe(0)
      expect(Fs.existsSync(Path.join(directory, "database.sqlite"))).toBe(true)
    } finally {
      Fs.rmSync(directory, { recursive: true, force: true })
    }
  }, 60_000)
})
