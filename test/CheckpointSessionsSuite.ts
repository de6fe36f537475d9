/**
 * The conformance suite of the session and agent summaries (`listSessions`, `listAgents`): order, filters, keyset
 * pages and refused input, each checked against the same computation in JavaScript. Run against each target from
 * CheckpointQuerySuite.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import {
  type AgentListOptions,
  type AgentSummary,
  type AppSessionCheckpoint,
  CheckpointStorage,
  type NamedAgentCheckpoint,
  type SessionListOptions,
  type SessionSummary
} from "../src/index.js"
import { withStorage } from "./support/storageLayers.js"
import { TestDatabase, type TestTarget } from "./support/TestDatabase.js"

const emptyTables = Effect.flatMap(TestDatabase, (db) =>
  db.withSql((sql) =>
    Effect.forEach(["AgentCheckpoints", "AppCheckpoints"], (table) => sql`DELETE FROM ${sql(table)}`, { discard: true })
  ))

// 36 agent checkpoints over 6 sessions, 4 agents and 2 types. Pairs share a createdAt, and sessions 0 and 1 (2 and 3,
// 4 and 5) end in the same millisecond: the order's tie on lastCreatedAt is decided by sessionId.
const agentFixture = (index: number): NamedAgentCheckpoint => ({
  agentId: `agent-${index % 4}`,
  sessionId: `session-${index % 6}`,
  agentType: index % 3 === 0 ? "writer" : "coder",
  name: `step-${index}`,
  state: { index, text: "é🦊".repeat(index % 5) },
  createdAt: 1_000 + Math.floor(index / 2) * 10
})

const appFixture = (index: number): AppSessionCheckpoint => ({
  sessionId: `app-${index % 4}`,
  hostname: "host",
  workspaceDirectory: "/w",
  state: { index, note: "ü".repeat(index) },
  createdAt: 5_000 + index
})

const bytesOf = (state: object) => Buffer.byteLength(JSON.stringify(state), "utf8")
const distinct = (values: ReadonlyArray<string>) => [...new Set(values)].sort()
const byNewest = <A extends { readonly lastCreatedAt: number }>(key: (a: A) => string) => (a: A, b: A) =>
  b.lastCreatedAt - a.lastCreatedAt || (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0)

type Fixture = NamedAgentCheckpoint | AppSessionCheckpoint

/** The session summaries the database must return, computed in JavaScript. */
const expectedSessions = (
  checkpoints: ReadonlyArray<Fixture>,
  filter: { readonly agentType?: string; readonly agentId?: string; readonly from?: number; readonly to?: number }
): Array<SessionSummary> => {
  const matching = checkpoints.filter((c) =>
    (filter.agentType === undefined || ("agentType" in c && c.agentType === filter.agentType)) &&
    (filter.agentId === undefined || ("agentId" in c && c.agentId === filter.agentId)) &&
    (filter.from === undefined || c.createdAt >= filter.from) && (filter.to === undefined || c.createdAt <= filter.to)
  )
  return distinct(matching.map((c) => c.sessionId)).map((sessionId) => {
    const own = matching.filter((c) => c.sessionId === sessionId)
    const times = own.map((c) => c.createdAt)
    return {
      sessionId,
      checkpoints: own.length,
      agentIds: distinct(own.flatMap((c) => ("agentId" in c ? [c.agentId] : []))).slice(0, 10),
      agentTypes: distinct(own.flatMap((c) => ("agentType" in c ? [c.agentType] : []))).slice(0, 10),
      firstCreatedAt: Math.min(...times),
      lastCreatedAt: Math.max(...times),
      totalStateBytes: own.reduce((sum, c) => sum + bytesOf(c.state), 0)
    }
  }).sort(byNewest((s) => s.sessionId))
}

const expectedAgents = (
  checkpoints: ReadonlyArray<NamedAgentCheckpoint>,
  filter: { readonly agentType?: string; readonly from?: number; readonly to?: number }
) => {
  const matching = checkpoints.filter((c) =>
    (filter.agentType === undefined || c.agentType === filter.agentType) &&
    (filter.from === undefined || c.createdAt >= filter.from) && (filter.to === undefined || c.createdAt <= filter.to)
  )
  return distinct(matching.map((c) => c.agentId)).map((agentId): AgentSummary => {
    const own = matching.filter((c) => c.agentId === agentId)
    return {
      agentId,
      agentType: distinct(own.map((c) => c.agentType)).at(-1)!,
      checkpoints: own.length,
      sessions: distinct(own.map((c) => c.sessionId)).length,
      lastCreatedAt: Math.max(...own.map((c) => c.createdAt))
    }
  }).sort(byNewest((a) => a.agentId))
}

const seed = Effect.gen(function*() {
  yield* emptyTables
  const storage = yield* CheckpointStorage
  const agents = Array.from({ length: 36 }, (_, index) => agentFixture(index))
  const apps = Array.from({ length: 10 }, (_, index) => appFixture(index))
  for (const checkpoint of agents) yield* storage.storeAgentCheckpoint(checkpoint)
  for (const checkpoint of apps) yield* storage.storeAppCheckpoint(checkpoint)
  return { agents, apps }
})

/** Every page of a list, following nextCursor. */
const allSessionPages = (options: SessionListOptions) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const sessions: Array<SessionSummary> = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = yield* storage.listSessions(cursor === undefined ? options : { ...options, cursor })
      sessions.push(...page.items)
      cursor = page.nextCursor
      pages++
    } while (cursor !== undefined && pages < 50)
    return { sessions, pages }
  })

const allAgentPages = (options: AgentListOptions) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const agents: Array<AgentSummary> = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = yield* storage.listAgents(cursor === undefined ? options : { ...options, cursor })
      agents.push(...page.items)
      cursor = page.nextCursor
      pages++
    } while (cursor !== undefined && pages < 50)
    return { agents, pages }
  })

export const checkpointSessionsSuite = (target: TestTarget) => {
  describe(`${target.name}: session and agent summaries`, () => {
    layer(withStorage(target), { timeout: 120_000 })("listSessions and listAgents", (it) => {
      it.effect("list sessions newest activity first, ties by sessionId descending, summed as in JavaScript", () =>
        Effect.gen(function*() {
          const { agents, apps } = yield* seed
          const storage = yield* CheckpointStorage
          const page = yield* storage.listSessions({ kind: "agent", limit: 100 })
          expect(page.items).toEqual(expectedSessions(agents, {}))
          expect(page.nextCursor).toBeUndefined()
          expect(page.items.map((s) => s.sessionId).slice(0, 2)).toEqual(["session-5", "session-4"])
          const appPage = yield* storage.listSessions({ kind: "app" })
          expect(appPage.items).toEqual(expectedSessions(apps, {}))
        }))

      it.effect("filter sessions by agentType, agentId and an inclusive createdAt range", () =>
        Effect.gen(function*() {
          const { agents, apps } = yield* seed
          const storage = yield* CheckpointStorage
          const filters = [
            { agentType: "writer" },
            { agentId: "agent-1" },
            { from: 1_050, to: 1_120 },
            { agentId: "agent-2", agentType: "coder", from: 1_000 },
            { agentId: "nobody" }
          ] as const
          for (const filter of filters) {
            const page = yield* storage.listSessions({ kind: "agent", ...filter, limit: 100 })
            expect(page.items).toEqual(expectedSessions(agents, filter))
          }
          const appPage = yield* storage.listSessions({ kind: "app", from: 5_003, to: 5_006 })
          expect(appPage.items).toEqual(expectedSessions(apps, { from: 5_003, to: 5_006 }))
        }))

      it.effect("page through sessions and agents with cursors: each once, in order, none skipped", () =>
        Effect.gen(function*() {
          const { agents } = yield* seed
          for (const limit of [1, 2, 4]) {
            const { pages, sessions } = yield* allSessionPages({ kind: "agent", limit })
            expect(sessions).toEqual(expectedSessions(agents, {}))
            expect(pages).toBe(Math.ceil(6 / limit))
          }
          const filtered = yield* allSessionPages({ kind: "agent", agentType: "coder", from: 1_020, limit: 2 })
          expect(filtered.sessions).toEqual(expectedSessions(agents, { agentType: "coder", from: 1_020 }))
          const listed = yield* allAgentPages({ limit: 3 })
          expect(listed.agents).toEqual(expectedAgents(agents, {}))
          expect(listed.pages).toBe(2)
          const writers = yield* allAgentPages({ agentType: "writer", to: 1_100, limit: 1 })
          expect(writers.agents).toEqual(expectedAgents(agents, { agentType: "writer", to: 1_100 }))
        }))

      it.effect("refuse a bad limit, a foreign cursor, from after to, and agent filters on app sessions", () =>
        Effect.gen(function*() {
          yield* seed
          const storage = yield* CheckpointStorage
          const refused = (options: SessionListOptions) => Effect.flip(storage.listSessions(options))
          const first = yield* storage.listSessions({ kind: "agent", limit: 1 })
          const failures = [
            yield* refused({ kind: "agent", limit: 0 }),
            yield* refused({ kind: "agent", limit: 501 }),
            yield* refused({ kind: "agent", limit: 1.5 }),
            yield* refused({ kind: "agent", from: 2_000, to: 1_000 }),
            yield* refused({ kind: "agent", cursor: "not-a-cursor" }),
            yield* refused({ kind: "agent", agentType: "writer", cursor: first.nextCursor! }),
            yield* refused({ kind: "app", agentId: "agent-1" }),
            yield* Effect.flip(storage.listAgents({ cursor: first.nextCursor! })),
            yield* Effect.flip(storage.listAgents({ from: 5, to: 4 }))
          ]
          for (const failure of failures) expect(failure._tag).toBe("CheckpointValidationError")
          expect(failures[3]!.message).toContain("from")
          expect(failures[5]!.message).toContain("cursor")
        }))
    })
  })
}
