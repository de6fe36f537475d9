/**
 * The conformance suite beyond Token Ring's interface: filtered pages, streams, latest per key, erasure, retention,
 * size limits, statistics and lineage. Written once, run against each target like CheckpointStorageSuite.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Chunk, Effect, Option, Stream, TestClock } from "effect"
import {
  type AgentCheckpointListItem,
  type AgentCheckpointListOptions,
  type AppSessionCheckpoint,
  CheckpointStorage,
  type CheckpointValidationError,
  type NamedAgentCheckpoint
} from "../src/index.js"
import { checkpointMaintenanceSuite } from "./CheckpointMaintenanceSuite.js"
import { checkpointMetricsSuite } from "./CheckpointMetricsSuite.js"
import { checkpointSessionsSuite } from "./CheckpointSessionsSuite.js"
import { buildStorage, countRows, withStorage } from "./support/storageLayers.js"
import { TestDatabase, type TestTarget } from "./support/TestDatabase.js"

// 30 agent checkpoints over 3 sessions, 2 agents and 2 types, with pairs sharing a createdAt (ties).
const agentFixture = (index: number): NamedAgentCheckpoint => ({
  agentId: `agent-${index % 2}`,
  sessionId: `session-${index % 3}`,
  agentType: index % 5 === 0 ? "writer" : "coder",
  name: `step-${index}`,
  state: { index },
  createdAt: 1_000 + Math.floor(index / 2)
})

const appFixture = (index: number): AppSessionCheckpoint => ({
  sessionId: `session-${index % 3}`,
  hostname: `host-${index % 2}`,
  workspaceDirectory: `/projects/${index % 4}`,
  state: { index },
  createdAt: 1_000 + index
})

type Item = { readonly id: string; readonly createdAt: number }

/** The order a list must have, computed in JavaScript. */
const sortedLikeTheDatabase = <A extends Item>(
  items: ReadonlyArray<A>,
  orderBy: "createdAt" | "id" = "createdAt",
  orderDir: "ASC" | "DESC" = "DESC"
): Array<A> => {
  const sign = orderDir === "ASC" ? 1 : -1
  return [...items].sort((a, b) =>
    orderBy === "id"
      ? sign * (Number(a.id) - Number(b.id))
      : sign * (a.createdAt - b.createdAt || Number(a.id) - Number(b.id))
  )
}

/** Reads every page of a list by following nextCursor. */
const readAllPages = (options: AgentCheckpointListOptions) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const items: Array<AgentCheckpointListItem> = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = yield* storage.listAgentCheckpoints(cursor === undefined ? options : { ...options, cursor })
      items.push(...page.items)
      cursor = Option.getOrUndefined(page.nextCursor)
      pages++
    } while (cursor !== undefined && pages < 100)
    return { items, pages }
  })

const seed = Effect.gen(function*() {
  const storage = yield* CheckpointStorage
  const agents: Array<AgentCheckpointListItem> = []
  for (let index = 0; index < 30; index++) {
    const checkpoint = agentFixture(index)
    const id = yield* storage.storeAgentCheckpoint(checkpoint)
    const { state: _, ...item } = checkpoint
    agents.push({ id, ...item })
  }
  for (let index = 0; index < 12; index++) yield* storage.storeAppCheckpoint(appFixture(index))
  return agents
})

export const checkpointQuerySuite = (target: TestTarget) => {
  describe(`${target.name}: beyond the Token Ring interface`, () => {
    layer(withStorage(target), { timeout: 120_000 })("filtered pages", (it) => {
      it.effect("filter by sessionId, agentId, agentType and a createdAt range, as the same filter in JavaScript", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const all = yield* seed
          const filters = [
            { sessionId: "session-1" },
            { agentId: "agent-0" },
            { agentType: "writer" },
            { sessionId: "session-2", agentId: "agent-1" },
            { after: 1_003, before: 1_010 },
            { sessionId: "no-such-session" }
          ] as const
          for (const filter of filters) {
            const expected = sortedLikeTheDatabase(all.filter((item) =>
              Object.entries(filter).every(([key, value]) =>
                key === "after"
                  ? item.createdAt > (value as number)
                  : key === "before"
                  ? item.createdAt < (value as number)
                  : item[key as keyof AgentCheckpointListItem] === value
              )
            ))
            const page = yield* storage.listAgentCheckpoints({ ...filter, limit: 100, includeTotal: true })
            expect(page.items.map((item) => item.id)).toEqual(expected.map((item) => item.id))
            expect(page.total).toEqual(Option.some(expected.length))
            expect(page.nextCursor).toEqual(Option.none())
          }
        }))

      it.effect("page through every order with cursors: each row once, in order, none skipped", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const all = (yield* storage.listAgentCheckpoints()).filter((item) => item.sessionId !== "extra")
          for (const orderBy of ["createdAt", "id"] as const) {
            for (const orderDir of ["ASC", "DESC"] as const) {
              const { items, pages } = yield* readAllPages({ orderBy, orderDir, limit: 7 })
              expect(items.map((item) => item.id)).toEqual(
                sortedLikeTheDatabase(all, orderBy, orderDir).map((item) => item.id)
              )
              expect(pages).toBe(Math.ceil(all.length / 7))
            }
          }
          const filtered = yield* readAllPages({ agentId: "agent-1", limit: 4, orderDir: "ASC" })
          expect(filtered.items.map((item) => item.id)).toEqual(
            sortedLikeTheDatabase(all.filter((item) => item.agentId === "agent-1"), "createdAt", "ASC").map((item) => item.id)
          )
        }))

      it.effect("pages hold 50 items unless told otherwise, and count every match on request", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          for (let index = 30; index < 80; index++) yield* storage.storeAgentCheckpoint(agentFixture(index))
          const first = yield* storage.listAgentCheckpoints({})
          expect(first.items).toHaveLength(50)
          expect(Option.isSome(first.nextCursor)).toBe(true)
          expect(first.total).toEqual(Option.none())
          const second = yield* storage.listAgentCheckpoints({ cursor: Option.getOrThrow(first.nextCursor), includeTotal: true })
          expect(second.items).toHaveLength(30)
          expect(second.nextCursor).toEqual(Option.none())
          expect(second.total).toEqual(Option.some(80))
        }))

      it.effect("skip rows with offset, as Token Ring's paginated lists do", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const all = yield* storage.listAgentCheckpoints()
          const page = yield* storage.listAgentCheckpoints({ offset: 10, limit: 5 })
          expect(page.items.map((item) => item.id)).toEqual(all.slice(10, 15).map((item) => item.id))
        }))

      it.effect("refuse a cursor from another query, a garbled cursor, a bad page size, and cursor with offset", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const page = yield* storage.listAgentCheckpoints({ sessionId: "session-0", limit: 2 })
          const cursor = Option.getOrThrow(page.nextCursor)
          const refusals: ReadonlyArray<readonly [AgentCheckpointListOptions, string]> = [
            [{ sessionId: "session-1", cursor }, "cursor"],
            [{ sessionId: "session-0", orderDir: "ASC", cursor }, "cursor"],
            [{ cursor: "not-a-cursor" }, "cursor"],
            [{ limit: 0 }, "limit"],
            [{ limit: 10_001 }, "limit"],
            [{ limit: 2.5 }, "limit"],
            [{ sessionId: "session-0", cursor, offset: 2 }, "cursor"],
            [{ orderBy: "name" as "id" }, "orderBy"]
          ]
          for (const [options, path] of refusals) {
            const error = yield* Effect.flip(storage.listAgentCheckpoints(options))
            expect(error._tag).toBe("CheckpointValidationError")
            expect((error as CheckpointValidationError).issues.map((issue) => issue.path)).toContain(path)
          }
        }))

      it.effect("filter and page app checkpoints by sessionId, hostname and workspaceDirectory", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const all = yield* storage.listAppCheckpoints()
          const page = yield* storage.listAppCheckpoints({ hostname: "host-1", workspaceDirectory: "/projects/1", limit: 10 })
          expect(page.items.map((item) => item.id)).toEqual(
            all.filter((item) => item.hostname === "host-1" && item.workspaceDirectory === "/projects/1").map((item) => item.id)
          )
          expect(page.items.length).toBeGreaterThan(0)
        }))

      it.effect("stream every matching row in order, a page at a time, with or without the state", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const all = yield* storage.listAgentCheckpoints()
          const streamed = Chunk.toReadonlyArray(yield* Stream.runCollect(storage.streamAgentCheckpoints({ pageSize: 7 })))
          expect(streamed.map((item) => item.id)).toEqual(all.map((item) => item.id))
          expect(streamed[0]).not.toHaveProperty("state")
          const withState = Chunk.toReadonlyArray(
            yield* Stream.runCollect(
              storage.streamAgentCheckpoints({ sessionId: "session-2", orderDir: "ASC", pageSize: 3, includeState: true })
            )
          )
          const expected = sortedLikeTheDatabase(all.filter((item) => item.sessionId === "session-2"), "createdAt", "ASC")
          expect(withState.map((checkpoint) => checkpoint.id)).toEqual(expected.map((item) => item.id))
          for (const checkpoint of withState) {
            expect(checkpoint.state).toEqual({ index: Number(checkpoint.name.replace("step-", "")) })
          }
          const apps = Chunk.toReadonlyArray(yield* Stream.runCollect(storage.streamAppCheckpoints({ sessionId: "session-0" })))
          expect(apps.map((item) => item.sessionId)).toEqual(Array(apps.length).fill("session-0"))
          expect(apps.length).toBe(4)
        }))

      it.effect("retrieve the latest checkpoint of a session, of an agent, and of an app session", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const all = yield* storage.listAgentCheckpoints()
          for (const filter of [{ sessionId: "session-1" }, { agentId: "agent-0" }] as const) {
            const newest = all.find((item) => Object.entries(filter).every(([key, value]) => item[key as "agentId"] === value))
            const latest = yield* storage.retrieveLatestAgentCheckpoint(filter)
            expect(Option.map(latest, (checkpoint) => checkpoint.id)).toEqual(Option.some(newest!.id))
            expect(Option.map(latest, (checkpoint) => checkpoint.state)).toEqual(
              Option.some({ index: Number(newest!.name.replace("step-", "")) })
            )
          }
          expect(yield* storage.retrieveLatestAgentCheckpoint({ sessionId: "nobody" })).toEqual(Option.none())
          const latestApp = yield* storage.retrieveLatestAppCheckpoint({ sessionId: "session-1" })
          expect(Option.map(latestApp, (checkpoint) => checkpoint.state)).toEqual(Option.some({ index: 10 }))
        }))
    })

    layer(withStorage(target), { timeout: 120_000 })("erasure and pruning", (it) => {
      it.effect("delete one checkpoint, reporting 1 and then 0, and nothing else", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const keep = yield* storage.storeAgentCheckpoint(agentFixture(1))
          const remove = yield* storage.storeAgentCheckpoint(agentFixture(2))
          expect(yield* storage.deleteAgentCheckpoint(remove)).toBe(1)
          expect(yield* storage.deleteAgentCheckpoint(remove)).toBe(0)
          expect(yield* storage.deleteAgentCheckpoint("abc")).toBe(0)
          expect(yield* storage.retrieveAgentCheckpoint(remove)).toEqual(Option.none())
          expect(Option.isSome(yield* storage.retrieveAgentCheckpoint(keep))).toBe(true)
          const app = yield* storage.storeAppCheckpoint(appFixture(1))
          expect(yield* storage.deleteAppCheckpoint(app)).toBe(1)
          yield* storage.deleteAgentCheckpoint(keep)
        }))

      it.effect("erase everything of a session or of an agent, reporting how many rows went", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          yield* seed
          expect(yield* storage.deleteAgentCheckpoints({ sessionId: "session-0" })).toBe(10)
          expect(yield* storage.deleteAgentCheckpoints({ sessionId: "session-1", agentId: "agent-1" })).toBe(5)
          expect(yield* storage.deleteAgentCheckpoints({ agentId: "agent-0" })).toBe(10)
          const left = yield* storage.listAgentCheckpoints()
          expect(left.map((item) => [item.sessionId, item.agentId])).toEqual(Array(5).fill(["session-2", "agent-1"]))
          expect(yield* storage.deleteAppCheckpoints({ sessionId: "session-2" })).toBe(4)
          expect((yield* storage.listAppCheckpoints()).map((item) => item.sessionId).sort()).toEqual(
            ["session-0", "session-0", "session-0", "session-0", "session-1", "session-1", "session-1", "session-1"]
          )
          const error = yield* Effect.flip(storage.deleteAgentCheckpoints({}))
          expect(error).toMatchObject({ _tag: "CheckpointValidationError" })
          expect(yield* countRows("AgentCheckpoints")).toBe(5)
        }))

      it.effect("prune now: keep the newest N per session and per agent, drop what is older than a duration", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          yield* storage.deleteAgentCheckpoints({ sessionId: "session-2" })
          yield* storage.deleteAppCheckpoints({ sessionId: "session-0" })
          yield* storage.deleteAppCheckpoints({ sessionId: "session-1" })
          yield* seed
          const before = yield* storage.listAgentCheckpoints()
          const result = yield* storage.prune({ keepLastPerSession: 4 })
          expect(result).toMatchObject({ agentCheckpoints: 18, appCheckpoints: 0 })
          const after = yield* storage.listAgentCheckpoints()
          for (const sessionId of ["session-0", "session-1", "session-2"]) {
            expect(after.filter((item) => item.sessionId === sessionId).map((item) => item.id)).toEqual(
              before.filter((item) => item.sessionId === sessionId).slice(0, 4).map((item) => item.id)
            )
          }
          expect(yield* storage.prune({ keepLastPerAgent: 5 })).toMatchObject({ agentCheckpoints: 2, appCheckpoints: 0 })
          // The clock says 1_020 ms; a maxAge of 15 ms drops everything created before 1_005.
          yield* TestClock.setTime(1_020)
          const oldApps = (yield* storage.listAppCheckpoints()).filter((item) => item.createdAt < 1_005).length
          const oldAgents = (yield* storage.listAgentCheckpoints()).filter((item) => item.createdAt < 1_005).length
          expect(yield* storage.prune({ maxAge: "15 millis" })).toMatchObject({
            agentCheckpoints: oldAgents,
            appCheckpoints: oldApps
          })
          expect((yield* storage.listAppCheckpoints()).every((item) => item.createdAt >= 1_005)).toBe(true)
          const invalid = yield* Effect.flip(storage.prune({ keepLastPerSession: 0 }))
          expect(invalid).toMatchObject({ _tag: "CheckpointValidationError" })
        }))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("retention applied by every store", (it) => {
      it.effect("never lets a session or an agent hold more than N checkpoints, even under concurrent stores", () =>
        Effect.gen(function*() {
          const storage = yield* buildStorage({ retention: { keepLastPerSession: 3, keepLastPerAgent: 5 } })
          for (let index = 0; index < 8; index++) {
            yield* storage.storeAgentCheckpoint({ ...agentFixture(index), sessionId: "kept", createdAt: 2_000 + index })
            expect((yield* storage.listAgentCheckpoints({ sessionId: "kept" })).items.length).toBeLessThanOrEqual(3)
          }
          expect((yield* storage.listAgentCheckpoints({ sessionId: "kept" })).items.map((item) => item.name)).toEqual(
            ["step-7", "step-6", "step-5"]
          )
          yield* Effect.forEach(Array.from({ length: 24 }, (_, index) => index), (index) =>
            storage.storeAgentCheckpoint({
              ...agentFixture(index),
              sessionId: `busy-${index % 2}`,
              agentId: "busy-agent",
              createdAt: 3_000 + index
            }), { concurrency: 8 })
          const busy = yield* storage.listAgentCheckpoints({ agentId: "busy-agent", limit: 100 })
          expect(busy.items.length).toBeLessThanOrEqual(5)
          for (const sessionId of ["busy-0", "busy-1"]) {
            expect((yield* storage.listAgentCheckpoints({ sessionId })).items.length).toBeLessThanOrEqual(3)
          }
          expect(busy.items[0]?.createdAt).toBe(3_023)
          for (let index = 0; index < 5; index++) {
            yield* storage.storeAppCheckpoint({ ...appFixture(index), sessionId: "app-kept" })
          }
          expect((yield* storage.listAppCheckpoints({ sessionId: "app-kept" })).items.length).toBe(3)
        }).pipe(Effect.scoped))

      it.effect("drops checkpoints older than maxAge as new ones are stored", () =>
        Effect.gen(function*() {
          const storage = yield* buildStorage({ retention: { maxAge: "1 hour" } })
          yield* TestClock.setTime(10 * 3_600_000)
          const old = yield* storage.storeAppCheckpoint({ ...appFixture(0), sessionId: "aging", createdAt: 1_000 })
          expect(yield* storage.retrieveAppCheckpoint(old)).toEqual(Option.none())
          const fresh = yield* storage.storeAppCheckpoint({ ...appFixture(1), sessionId: "aging", createdAt: 10 * 3_600_000 - 60_000 })
          expect(Option.isSome(yield* storage.retrieveAppCheckpoint(fresh))).toBe(true)
        }).pipe(Effect.scoped))

      it.effect("refuses an invalid retention policy when the storage is built", () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(buildStorage({ retention: { keepLastPerSession: -1 } }))
          expect(error).toMatchObject({ _tag: "CheckpointValidationError" })
          expect((error as CheckpointValidationError).issues.map((issue) => issue.path)).toEqual(
            ["retention.keepLastPerSession"]
          )
        }).pipe(Effect.scoped))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("state size", (it) => {
      it.effect("refuses a state over maxStateBytes with StateTooLargeError, counting UTF-8 bytes, writing nothing", () =>
        Effect.gen(function*() {
          const storage = yield* buildStorage({ maxStateBytes: 1_000 })
          const fits = { text: "é".repeat(490) } // {"text":"…"} is 11 bytes + 980
          const tooLarge = { text: "é".repeat(500) }
          expect(Buffer.byteLength(JSON.stringify(fits))).toBe(991)
          yield* storage.storeAgentCheckpoint({ ...agentFixture(0), state: fits })
          const before = yield* countRows("AgentCheckpoints")
          const error = yield* Effect.flip(storage.storeAgentCheckpoint({ ...agentFixture(0), state: tooLarge }))
          expect(error).toMatchObject({ _tag: "StateTooLargeError", sizeBytes: 1_011, maxBytes: 1_000 })
          expect(error.message).toContain("1011 bytes")
          expect(yield* countRows("AgentCheckpoints")).toBe(before)
        }).pipe(Effect.scoped))

      it.effect("reports count, total and largest size, oldest and newest per table", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          yield* db.withSql((sql) => sql`DELETE FROM ${sql("AgentCheckpoints")}`)
          const storage = yield* buildStorage()
          const empty = yield* storage.statistics()
          expect(empty).toEqual({
            agentCheckpoints: {
              count: 0,
              totalBytes: 0,
              largestBytes: 0,
              oldestCreatedAt: Option.none(),
              newestCreatedAt: Option.none()
            },
            appCheckpoints: {
              count: 0,
              totalBytes: 0,
              largestBytes: 0,
              oldestCreatedAt: Option.none(),
              newestCreatedAt: Option.none()
            }
          })
          const states = [{ a: 1 }, { text: "héllo 🦊" }, { list: [1, 2, 3] }]
          for (const [index, state] of states.entries()) {
            yield* storage.storeAgentCheckpoint({ ...agentFixture(index), state, createdAt: 5_000 + index })
          }
          const sizes = states.map((state) => Buffer.byteLength(JSON.stringify(state)))
          const stats = yield* storage.statistics()
          expect(stats.agentCheckpoints).toEqual({
            count: 3,
            totalBytes: sizes.reduce((a, b) => a + b, 0),
            largestBytes: Math.max(...sizes),
            oldestCreatedAt: Option.some(5_000),
            newestCreatedAt: Option.some(5_002)
          })
          expect(stats.appCheckpoints.count).toBe(0)
        }).pipe(Effect.scoped))
    })

    layer(withStorage(target), { timeout: 120_000 })("lineage", (it) => {
      it.effect("fork an earlier checkpoint into a new branch, and walk any checkpoint back to its root", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const root = yield* storage.storeAgentCheckpoint({ ...agentFixture(0), name: "root", state: { step: 0 } })
          const child = yield* storage.forkAgentCheckpoint(root, { name: "child", state: { step: 1 }, createdAt: 2_000 })
          const grandchild = yield* storage.forkAgentCheckpoint(child, { name: "grandchild" })
          const branch = yield* storage.forkAgentCheckpoint(root, { name: "branch", createdAt: 3_000 })

          const lineage = yield* storage.listAgentLineage(grandchild)
          expect(lineage.map((item) => [item.id, item.name, item.parentId])).toEqual([
            [grandchild, "grandchild", child],
            [child, "child", root],
            [root, "root", undefined]
          ])
          expect((yield* storage.listAgentLineage(branch)).map((item) => item.id)).toEqual([branch, root])
          expect(yield* storage.listAgentLineage("999999")).toEqual([])

          const forked = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(grandchild))
          expect(forked).toMatchObject({ parentId: child, state: { step: 1 }, agentId: "agent-0", sessionId: "session-0" })
          const original = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(root))
          expect(original).not.toHaveProperty("parentId")
          expect(original.state).toEqual({ step: 0 })
        }))

      it.effect("store a checkpoint that continues another by giving its parentId", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const parent = yield* storage.storeAppCheckpoint(appFixture(0))
          const child = yield* storage.storeAppCheckpoint({ ...appFixture(1), parentId: parent })
          expect((yield* storage.listAppLineage(child)).map((item) => item.id)).toEqual([child, parent])
          const listed = (yield* storage.listAppCheckpoints()).find((item) => item.id === child)
          expect(listed?.parentId).toBe(parent)
        }))

      it.effect("refuse a missing parent or fork source with CheckpointNotFoundError, writing nothing", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const before = yield* countRows("AgentCheckpoints")
          const missingParent = yield* Effect.flip(storage.storeAgentCheckpoint({ ...agentFixture(0), parentId: "999999" }))
          expect(missingParent).toMatchObject({ _tag: "CheckpointNotFoundError", id: "999999", role: "parent" })
          const missingSource = yield* Effect.flip(storage.forkAgentCheckpoint("999999"))
          expect(missingSource).toMatchObject({ _tag: "CheckpointNotFoundError", id: "999999", role: "source" })
          const malformed = yield* Effect.flip(storage.storeAgentCheckpoint({ ...agentFixture(0), parentId: "root" }))
          expect(malformed).toMatchObject({ _tag: "CheckpointValidationError" })
          expect(yield* countRows("AgentCheckpoints")).toBe(before)
        }))
    })
  })
  checkpointMaintenanceSuite(target)
  checkpointMetricsSuite(target)
  checkpointSessionsSuite(target)
}
