/**
 * The conformance suite of agent metrics and of the retention rules of one table (Token Ring's retention): written
 * once, run against each target from CheckpointQuerySuite.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Exit, Option, TestClock } from "effect"
import {
  type AgentMetricsInput,
  type AppSessionCheckpoint,
  CheckpointStorage,
  type CheckpointValidationError,
  type NamedAgentCheckpoint
} from "../src/index.js"
import { buildStorage, countRows, withStorage } from "./support/storageLayers.js"
import { TestDatabase, type TestTarget } from "./support/TestDatabase.js"

const TABLES = ["AgentCheckpoints", "AppCheckpoints", "AgentMetrics"] as const

/** Empties every table behind the storage's back: each test starts from nothing. */
const emptyTables = Effect.flatMap(TestDatabase, (db) =>
  db.withSql((sql) => Effect.forEach(TABLES, (table) => sql`DELETE FROM ${sql(table)}`, { discard: true })))

const bytesOf = (value: object) => Buffer.byteLength(JSON.stringify(value), "utf8")

const agentCheckpoint = (overrides: Partial<NamedAgentCheckpoint> = {}): NamedAgentCheckpoint => ({
  agentId: "agent-1",
  sessionId: "session-1",
  agentType: "coder",
  name: "step",
  state: { note: "é🦊" },
  createdAt: 10_000,
  ...overrides
})

const appCheckpoint = (overrides: Partial<AppSessionCheckpoint> = {}): AppSessionCheckpoint => ({
  sessionId: "session-1",
  hostname: "host",
  workspaceDirectory: "/workspace",
  state: { files: ["ü.ts"] },
  createdAt: 10_000,
  ...overrides
})

const zeroTokens = { totalInputTokens: 0, totalOutputTokens: 0, totalCachedTokens: 0, totalReasoningTokens: 0 }

/** The metrics Token Ring's schema gives for `{}`: every part filled with zeros and empty collections. */
const emptyMetrics = {
  costs: {},
  tokens: zeroTokens,
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

const metricsOf = (agentId: string, cost: number, updatedAt: number): AgentMetricsInput => ({
  agentId,
  metrics: {
    costs: { "modèle-🦊": cost, other: 0.01 },
    tokens: { totalInputTokens: 100, totalOutputTokens: 40 },
    latency: { requestCount: 3, recentElapsedMs: [120, 80] },
    activity: { totalSteps: 5, totalToolCalls: 2, toolCallsByName: { search: 2 } }
  },
  updatedAt
})

export const checkpointMetricsSuite = (target: TestTarget) => {
  describe(`${target.name}: agent metrics`, () => {
    layer(withStorage(target), { timeout: 120_000 })("one record per agent", (it) => {
      it.effect("stores metrics and reads them back, the parts left out filled with zeros and empty collections", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* storage.storeAgentMetrics({ agentId: "bare", metrics: {}, updatedAt: 1_000 })
          expect(yield* storage.retrieveAgentMetrics("bare")).toEqual(
            Option.some({ agentId: "bare", metrics: emptyMetrics, updatedAt: 1_000 })
          )
          yield* storage.storeAgentMetrics(metricsOf("agent-1", 0.12, 2_000))
          const stored = yield* storage.retrieveAgentMetrics("agent-1")
          expect(Option.map(stored, (record) => record.metrics.costs)).toEqual(Option.some({ "modèle-🦊": 0.12, other: 0.01 }))
          expect(Option.map(stored, (record) => record.metrics.tokens)).toEqual(
            Option.some({ ...zeroTokens, totalInputTokens: 100, totalOutputTokens: 40 })
          )
          expect(Option.map(stored, (record) => record.metrics.latency.recentElapsedMs)).toEqual(Option.some([120, 80]))
          expect(Option.map(stored, (record) => record.metrics.errors)).toEqual(Option.some(emptyMetrics.errors))
          expect(yield* storage.retrieveAgentMetrics("nobody")).toEqual(Option.none())
        }))

      it.effect("replaces an agent's metrics whole on each store: the last write wins", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* storage.storeAgentMetrics(metricsOf("agent-1", 0.12, 1_000))
          yield* storage.storeAgentMetrics({ agentId: "agent-1", metrics: { costs: { other: 0.25 } }, updatedAt: 2_000 })
          expect(yield* storage.retrieveAgentMetrics("agent-1")).toEqual(
            Option.some({ agentId: "agent-1", metrics: { ...emptyMetrics, costs: { other: 0.25 } }, updatedAt: 2_000 })
          )
          expect(yield* countRows("AgentMetrics")).toBe(1)
        }))

      it.effect("lists each agent's totals, most recently updated first, then by agentId", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* storage.storeAgentMetrics(metricsOf("b", 0.5, 3_000))
          yield* storage.storeAgentMetrics(metricsOf("a", 0.25, 3_000))
          yield* storage.storeAgentMetrics({ agentId: "c", metrics: {}, updatedAt: 9_000 })
          const listed = yield* storage.listAgentMetrics()
          expect(listed.map((item) => item.agentId)).toEqual(["c", "a", "b"])
          expect(listed[1]).toEqual({
            agentId: "a",
            totalCost: 0.25 + 0.01,
            totalInputTokens: 100,
            totalOutputTokens: 40,
            requestCount: 3,
            totalSteps: 5,
            totalToolCalls: 2,
            updatedAt: 3_000
          })
          expect(listed[0]).toMatchObject({ totalCost: 0, requestCount: 0 })
        }))

      it.effect("deletes an agent's metrics, and deleting what is not there removes nothing", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* storage.storeAgentMetrics(metricsOf("agent-1", 0.12, 1_000))
          yield* storage.storeAgentMetrics(metricsOf("agent-2", 0.12, 1_000))
          expect(yield* storage.deleteAgentMetrics("agent-1")).toBe(1)
          expect(yield* storage.deleteAgentMetrics("agent-1")).toBe(0)
          expect(yield* storage.retrieveAgentMetrics("agent-1")).toEqual(Option.none())
          expect((yield* storage.listAgentMetrics()).map((item) => item.agentId)).toEqual(["agent-2"])
        }))

      it.effect("refuses invalid metrics with a CheckpointValidationError naming each field, writing nothing", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          const refusals: ReadonlyArray<readonly [unknown, ReadonlyArray<string>]> = [
            [{ agentId: "", metrics: {}, updatedAt: 1 }, ["agentId"]],
            [{ agentId: "a", metrics: { costs: { x: Number.NaN } }, updatedAt: 1 }, ["metrics.costs.x"]],
            [{ agentId: "a", metrics: { tokens: { totalInputTokens: "many" } }, updatedAt: 1.5 }, [
              "metrics.tokens.totalInputTokens",
              "updatedAt"
            ]]
          ]
          for (const [input, paths] of refusals) {
            const error = yield* Effect.flip(storage.storeAgentMetrics(input as AgentMetricsInput))
            expect(error._tag).toBe("CheckpointValidationError")
            expect((error as CheckpointValidationError).subject).toBe("AgentMetrics")
            expect((error as CheckpointValidationError).issues.map((issue) => issue.path).sort()).toEqual([...paths].sort())
          }
          expect(yield* countRows("AgentMetrics")).toBe(0)
        }))

      it.effect("reports metrics written outside the library that are not JSON as a StateDecodeError", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const db = yield* TestDatabase
          yield* db.withSql((sql) =>
            sql`INSERT INTO ${sql("AgentMetrics")} ${sql.insert({ agentId: "broken", metrics: "{not json", updatedAt: 1 })}`
          )
          const storage = yield* CheckpointStorage
          const error = yield* Effect.flip(storage.retrieveAgentMetrics("broken"))
          expect(error).toMatchObject({ _tag: "StateDecodeError", table: "AgentMetrics", id: "broken" })
        }))
    })

    layer(withStorage(target), { timeout: 120_000 })("the rules of one table", (it) => {
      it.effect("keepLast keeps the table's newest N, ties by id, and planPrune says so first", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          const ids: Array<string> = []
          for (const [index, createdAt] of [1_000, 3_000, 2_000, 3_000, 1_500].entries()) {
            ids.push(yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: `s-${index}`, createdAt })))
          }
          const policy = { appCheckpoints: { keepLast: 3 } }
          const plan = yield* storage.planPrune(policy)
          expect(plan.appCheckpoints.sample.map((item) => item.id)).toEqual([ids[0], ids[4]])
          expect(plan.agentCheckpoints.count).toBe(0)
          const result = yield* storage.prune(policy)
          expect(result).toEqual({
            agentCheckpoints: 0,
            appCheckpoints: 2,
            agentMetrics: 0,
            freedBytes: plan.appCheckpoints.bytes
          })
          expect((yield* storage.listAppCheckpoints()).map((item) => item.id)).toEqual([ids[3], ids[1], ids[2]])
        }))

      it.effect("maxAge with maxAgeSparesNewestPerAgent keeps each agent's newest checkpoint however old", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* TestClock.setTime(100_000)
          const old1 = yield* storage.storeAgentCheckpoint(agentCheckpoint({ agentId: "a", sessionId: "s1", createdAt: 1_000 }))
          const old2 = yield* storage.storeAgentCheckpoint(agentCheckpoint({ agentId: "a", sessionId: "s2", createdAt: 2_000 }))
          const lone = yield* storage.storeAgentCheckpoint(agentCheckpoint({ agentId: "b", createdAt: 1_000 }))
          const young = yield* storage.storeAgentCheckpoint(agentCheckpoint({ agentId: "c", createdAt: 99_000 }))
          const older = yield* storage.storeAgentCheckpoint(agentCheckpoint({ agentId: "c", createdAt: 5_000 }))
          const sparing = { agentCheckpoints: { maxAge: 10_000, maxAgeSparesNewestPerAgent: true } }
          expect((yield* storage.planPrune(sparing)).agentCheckpoints.count).toBe(2)
          expect(yield* storage.prune(sparing)).toMatchObject({ agentCheckpoints: 2 })
          const left = (yield* storage.listAgentCheckpoints()).map((item) => item.id).sort()
          expect(left).toEqual([old2, lone, young].sort())
          expect(left).not.toContain(old1)
          expect(left).not.toContain(older)
          // Without it, every old checkpoint goes.
          expect(yield* storage.prune({ agentCheckpoints: { maxAge: 10_000 } })).toMatchObject({ agentCheckpoints: 2 })
          expect((yield* storage.listAgentCheckpoints()).map((item) => item.id)).toEqual([young])
        }))

      it.effect("a table's own rule wins over the shared one of the same name", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* TestClock.setTime(100_000)
          yield* storage.storeAgentCheckpoint(agentCheckpoint({ createdAt: 50_000 }))
          yield* storage.storeAppCheckpoint(appCheckpoint({ createdAt: 50_000 }))
          const result = yield* storage.prune({ maxAge: 10_000, appCheckpoints: { maxAge: 60_000 } })
          expect(result).toMatchObject({ agentCheckpoints: 1, appCheckpoints: 0 })
          expect(yield* countRows("AppCheckpoints")).toBe(1)
        }))

      it.effect("agentMetrics.maxAge removes metrics not updated since, and freedBytes counts UTF-8 bytes", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* TestClock.setTime(100_000)
          yield* storage.storeAgentMetrics(metricsOf("stale", 0.5, 1_000))
          yield* storage.storeAgentMetrics(metricsOf("fresh", 0.5, 99_000))
          const stale = Option.getOrThrow(yield* storage.retrieveAgentMetrics("stale"))
          const old = agentCheckpoint({ createdAt: 1_000, state: { text: "ünïcödé 🦊".repeat(20) } })
          yield* storage.storeAgentCheckpoint(old)
          const policy = { maxAge: 60_000, agentMetrics: { maxAge: 60_000 } }
          const plan = yield* storage.planPrune(policy)
          expect(plan.agentMetrics).toMatchObject({ count: 1, bytes: bytesOf(stale.metrics) })
          expect(plan.agentMetrics.sample.map((item) => item.agentId)).toEqual(["stale"])
          expect(yield* storage.prune(policy)).toEqual({
            agentCheckpoints: 1,
            appCheckpoints: 0,
            agentMetrics: 1,
            freedBytes: bytesOf(stale.metrics) + bytesOf(old.state)
          })
          expect((yield* storage.listAgentMetrics()).map((item) => item.agentId)).toEqual(["fresh"])
        }))

      it.effect("freedBytes measures rows written without a recorded size (by other programs) from their text", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const db = yield* TestDatabase
          const state = { text: "naïve ✓ 你好" }
          yield* db.withSql((sql) =>
            sql`INSERT INTO ${sql("AppCheckpoints")} ${
              sql.insert({
                sessionId: "elsewhere",
                hostname: "h",
                workspaceDirectory: "/w",
                state: JSON.stringify(state),
                createdAt: 1
              })
            }`
          )
          const storage = yield* CheckpointStorage
          expect(yield* storage.prune({ maxAge: 1_000 })).toEqual({
            agentCheckpoints: 0,
            appCheckpoints: 1,
            agentMetrics: 0,
            freedBytes: bytesOf(state)
          })
        }))

      it.effect("with atomicRules a rule interrupted half-way deletes nothing; without, its finished batches stay done", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          for (let index = 0; index < 6; index++) {
            yield* storage.storeAgentCheckpoint(agentCheckpoint({ name: `step-${index}`, createdAt: 10_000 + index }))
          }
          const stopAfterFirstBatch = { batchSize: 2, onProgress: () => Effect.interrupt }
          const atomic = yield* Effect.exit(storage.prune({ keepLastPerSession: 1 }, { ...stopAfterFirstBatch, atomicRules: true }))
          expect(Exit.isInterrupted(atomic)).toBe(true)
          expect(yield* countRows("AgentCheckpoints")).toBe(6)
          const batched = yield* Effect.exit(storage.prune({ keepLastPerSession: 1 }, stopAfterFirstBatch))
          expect(Exit.isInterrupted(batched)).toBe(true)
          expect(yield* countRows("AgentCheckpoints")).toBe(4)
        }))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("at store time", (it) => {
      it.effect("a store keeps the table within its keepLast", () =>
        Effect.gen(function*() {
          const storage = yield* buildStorage({ retention: { appCheckpoints: { keepLast: 3 } } })
          for (let index = 0; index < 5; index++) {
            yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: `s-${index}`, createdAt: 1_000 + index }))
          }
          const left = yield* storage.listAppCheckpoints()
          expect(left.map((item) => item.sessionId)).toEqual(["s-4", "s-3", "s-2"])
        }).pipe(Effect.scoped))
    })
  })
}
