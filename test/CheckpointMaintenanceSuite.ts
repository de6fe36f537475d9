/**
 * The conformance suite of maintenance: planning and carrying out a prune, statistics per session, and imports of
 * checkpoints from elsewhere with their ledger. Written once, run against each target from CheckpointQuerySuite.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import {
  type AgentCheckpointListItem,
  type AppSessionCheckpoint,
  type AppSessionListItem,
  CheckpointStorage,
  type CheckpointValidationError,
  type ImportedAgentCheckpoint,
  type ImportedAppCheckpoint,
  type NamedAgentCheckpoint,
  type PruneProgress,
  type RetentionPolicy
} from "../src/index.js"
import { buildStorage, countRows, withStorage } from "./support/storageLayers.js"
import { TestDatabase, type TestTarget } from "./support/TestDatabase.js"

/** Empties both tables behind the storage's back: each test of a group starts from nothing. */
const emptyTables = Effect.flatMap(TestDatabase, (db) =>
  db.withSql((sql) =>
    Effect.all([sql`DELETE FROM ${sql("AgentCheckpoints")}`, sql`DELETE FROM ${sql("AppCheckpoints")}`])
  ))

const bytesOf = (state: object) => Buffer.byteLength(JSON.stringify(state), "utf8")
const byId = (a: { readonly id: string }, b: { readonly id: string }) => Number(a.id) - Number(b.id)
const idsOf = (items: ReadonlyArray<{ readonly id: string }>) => items.map((item) => item.id)

const agentCheckpoint = (overrides: Partial<NamedAgentCheckpoint> = {}): NamedAgentCheckpoint => ({
  agentId: "agent-1",
  sessionId: "session-1",
  agentType: "coder",
  name: "step",
  state: { step: 0 },
  createdAt: 10_000,
  ...overrides
})

const appCheckpoint = (overrides: Partial<AppSessionCheckpoint> = {}): AppSessionCheckpoint => ({
  sessionId: "session-1",
  hostname: "host",
  workspaceDirectory: "/project",
  state: { files: [] },
  createdAt: 10_000,
  ...overrides
})

/** A row as the retention rules see it. */
interface Kept {
  readonly id: string
  readonly createdAt: number
  readonly sessionId: string
  readonly agentId?: string
}

/** Of each key's rows, the newest `keep` (createdAt, then id, descending): the rule as the storage documents it. */
const keepNewest = <A extends Kept>(rows: ReadonlyArray<A>, key: (row: A) => string, keep: number): Array<A> => {
  const groups = new Map<string, Array<A>>()
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row])
  return [...groups.values()].flatMap((group) =>
    [...group].sort((a, b) => b.createdAt - a.createdAt || Number(b.id) - Number(a.id)).slice(0, keep)
  )
}

/** What a policy keeps of a table, computed in JavaScript: per session, then per agent, then by age. */
const keptBy = <A extends Kept>(rows: ReadonlyArray<A>, policy: RetentionPolicy, now: number, maxAgeMillis: number) => {
  let kept = [...rows]
  if (policy.keepLastPerSession !== undefined) kept = keepNewest(kept, (row) => row.sessionId, policy.keepLastPerSession)
  if (policy.keepLastPerAgent !== undefined && kept.every((row) => row.agentId !== undefined)) {
    kept = keepNewest(kept, (row) => row.agentId!, policy.keepLastPerAgent)
  }
  if (policy.maxAge !== undefined) kept = kept.filter((row) => row.createdAt >= now - maxAgeMillis)
  return kept
}

/** A checkpoint of a source to import, with the ids it had there; its createdAt derives from its source id. */
const imported = (
  sourceId: string,
  sourceParentId: string | undefined,
  overrides: Partial<NamedAgentCheckpoint> = {}
): ImportedAgentCheckpoint => {
  const { parentId: _, ...checkpoint } = agentCheckpoint({
    sessionId: "imported",
    name: `source-${sourceId}`,
    state: { sourceId },
    createdAt: 1_600_000_000_000 + Number(sourceId),
    ...overrides
  })
  return sourceParentId === undefined ? { sourceId, checkpoint } : { sourceId, sourceParentId, checkpoint }
}

export const checkpointMaintenanceSuite = (target: TestTarget) => {
  describe(`${target.name}: maintenance`, () => {
    layer(withStorage(target), { timeout: 120_000 })("planning and carrying out a prune", (it) => {
      it.effect("planPrune reports exactly what prune then deletes: count, bytes and rows, per table", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          const agents: Array<AgentCheckpointListItem & { readonly bytes: number }> = []
          for (let index = 0; index < 24; index++) {
            // Pairs share a createdAt, so that the id decides between them.
            const checkpoint = agentCheckpoint({
              agentId: `agent-${index % 4}`,
              sessionId: `session-${index % 3}`,
              name: `step-${index}`,
              state: { index, padding: "é".repeat(index * 3) },
              createdAt: 10_000 + Math.floor(index / 2) * 10
            })
            const id = yield* storage.storeAgentCheckpoint(checkpoint)
            const { state, ...item } = checkpoint
            agents.push({ id, ...item, bytes: bytesOf(state) })
          }
          const apps: Array<AppSessionListItem & { readonly bytes: number }> = []
          for (let index = 0; index < 10; index++) {
            const checkpoint = appCheckpoint({
              sessionId: `session-${index % 2}`,
              state: { index },
              createdAt: 10_000 + index * 10
            })
            const id = yield* storage.storeAppCheckpoint(checkpoint)
            const { state, ...item } = checkpoint
            apps.push({ id, ...item, bytes: bytesOf(state) })
          }
          const now = 10_200
          yield* TestClock.setTime(now)
          const policy = { keepLastPerSession: 6, keepLastPerAgent: 4, maxAge: "150 millis" } as const
          const expected = (rows: ReadonlyArray<Kept & { readonly bytes: number }>) => {
            const kept = new Set(idsOf(keptBy(rows, policy, now, 150)))
            const deleted = rows.filter((row) => !kept.has(row.id)).sort(byId)
            return { deleted, bytes: deleted.reduce((sum, row) => sum + row.bytes, 0) }
          }
          const agentsDeleted = expected(agents)
          const appsDeleted = expected(apps)
          // The fixture exercises every rule on agents.
          expect(agentsDeleted.deleted.length).toBeGreaterThan(0)
          expect(agentsDeleted.deleted.length).toBeLessThan(agents.length)

          const plan = yield* storage.planPrune(policy, { sampleSize: 1_000 })
          expect(plan.agentCheckpoints.count).toBe(agentsDeleted.deleted.length)
          expect(plan.agentCheckpoints.bytes).toBe(agentsDeleted.bytes)
          expect(plan.agentCheckpoints.sample).toEqual(agentsDeleted.deleted.map(({ bytes: _, ...item }) => item))
          expect(plan.appCheckpoints.count).toBe(appsDeleted.deleted.length)
          expect(plan.appCheckpoints.bytes).toBe(appsDeleted.bytes)
          expect(idsOf(plan.appCheckpoints.sample)).toEqual(idsOf(appsDeleted.deleted))
          // The sample is the first 10 by id unless told otherwise; 0 asks for none.
          const plain = yield* storage.planPrune(policy)
          expect(idsOf(plain.agentCheckpoints.sample)).toEqual(idsOf(agentsDeleted.deleted.slice(0, 10)))
          expect((yield* storage.planPrune(policy, { sampleSize: 0 })).agentCheckpoints).toEqual({
            count: agentsDeleted.deleted.length,
            bytes: agentsDeleted.bytes,
            sample: []
          })
          // Planning deleted nothing.
          expect(yield* countRows("AgentCheckpoints")).toBe(agents.length)

          const before = yield* storage.listAgentCheckpoints()
          expect(yield* storage.prune(policy)).toEqual({
            agentCheckpoints: plan.agentCheckpoints.count,
            appCheckpoints: plan.appCheckpoints.count,
            agentMetrics: 0,
            freedBytes: plan.agentCheckpoints.bytes + plan.appCheckpoints.bytes
          })
          const after = new Set(idsOf(yield* storage.listAgentCheckpoints()))
          expect(idsOf(before.filter((item) => !after.has(item.id))).sort((a, b) => Number(a) - Number(b))).toEqual(
            idsOf(plan.agentCheckpoints.sample)
          )
          // Nothing left to prune under the same policy.
          expect(yield* storage.planPrune(policy)).toEqual({
            agentCheckpoints: { count: 0, bytes: 0, sample: [] },
            appCheckpoints: { count: 0, bytes: 0, sample: [] },
            agentMetrics: { count: 0, bytes: 0, sample: [] }
          })
        }))

      it.effect("combined rules apply one after another: the per-agent rule sees only what the per-session rule kept", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          const store = (name: string, sessionId: string, agentId: string, createdAt: number) =>
            storage.storeAgentCheckpoint(agentCheckpoint({ name, sessionId, agentId, createdAt }))
          const z = yield* store("z", "s2", "B", 1_000)
          const y = yield* store("y", "s1", "B", 2_000)
          const x = yield* store("x", "s1", "A", 3_000)
          // Per session, s1 keeps x and loses y, s2 keeps z; then per agent, A keeps x and B keeps z. (Applied each
          // to the whole table, the per-agent rule would have taken z too: y is B's newest.)
          const policy = { keepLastPerSession: 1, keepLastPerAgent: 1 }
          const plan = yield* storage.planPrune(policy)
          expect(plan.agentCheckpoints.count).toBe(1)
          expect(plan.agentCheckpoints.sample.map((item) => item.name)).toEqual(["y"])
          expect(yield* storage.prune(policy)).toMatchObject({ agentCheckpoints: 1, appCheckpoints: 0 })
          expect(idsOf(yield* storage.listAgentCheckpoints())).toEqual([x, z])
          expect(yield* storage.retrieveAgentCheckpoint(y)).toEqual(Option.none())
        }))

      it.effect("prune deletes in batches of batchSize, reporting the rows deleted so far after each", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          for (let index = 0; index < 25; index++) {
            yield* storage.storeAgentCheckpoint(agentCheckpoint({ name: `step-${index}`, createdAt: 10_000 + index }))
          }
          for (let index = 0; index < 7; index++) {
            yield* storage.storeAppCheckpoint(appCheckpoint({ createdAt: 10_000 + index }))
          }
          const progress: Array<PruneProgress> = []
          const result = yield* storage.prune({ keepLastPerSession: 2 }, {
            batchSize: 5,
            onProgress: (report) => Effect.sync(() => progress.push(report))
          })
          expect(result).toMatchObject({ agentCheckpoints: 23, appCheckpoints: 5, agentMetrics: 0 })
          expect(progress).toEqual([
            ...[5, 10, 15, 20, 23].map((deleted) => ({ table: "AgentCheckpoints", deleted })),
            { table: "AppCheckpoints", deleted: 5 }
          ])
          expect((yield* storage.listAgentCheckpoints()).map((item) => item.name)).toEqual(["step-24", "step-23"])
          expect(yield* countRows("AppCheckpoints")).toBe(2)
          // Nothing to delete: no progress to report.
          progress.length = 0
          const again = yield* storage.prune({ keepLastPerSession: 2 }, {
            onProgress: (report) => Effect.sync(() => progress.push(report))
          })
          expect(again).toEqual({ agentCheckpoints: 0, appCheckpoints: 0, agentMetrics: 0, freedBytes: 0 })
          expect(progress).toEqual([])
        }))

      it.effect("refuse an invalid policy, batch size or sample size (CheckpointValidationError), deleting nothing", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          yield* storage.storeAgentCheckpoint(agentCheckpoint({ createdAt: 1 }))
          yield* storage.storeAgentCheckpoint(agentCheckpoint({ createdAt: 2 }))
          const refusals = [
            [storage.prune({ keepLastPerSession: 1 }, { batchSize: 0 }), "batchSize"],
            [storage.prune({ keepLastPerSession: 1 }, { batchSize: 1.5 }), "batchSize"],
            [storage.prune({ keepLastPerSession: -1 }), "keepLastPerSession"],
            [storage.planPrune({ keepLastPerSession: 1 }, { sampleSize: -1 }), "sampleSize"],
            [storage.planPrune({ maxAge: "forever" as never }), "maxAge"]
          ] as const
          for (const [operation, path] of refusals) {
            const error = yield* Effect.flip(operation as Effect.Effect<unknown, { readonly _tag: string }>)
            expect(error._tag, path).toBe("CheckpointValidationError")
            expect((error as CheckpointValidationError).issues.map((issue) => issue.path), path).toContain(path)
          }
          expect(yield* countRows("AgentCheckpoints")).toBe(2)
        }))
    })

    layer(withStorage(target), { timeout: 120_000 })("statistics per session", (it) => {
      it.effect("count, bytes, oldest and newest of each session, the sessions with the newest checkpoints first", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          expect(yield* storage.sessionStatistics()).toEqual({ agentCheckpoints: [], appCheckpoints: [] })
          const rows = [
            ["alpha", 100, { a: 1 }],
            ["alpha", 300, { text: "héllo 🦊" }],
            ["alpha", 200, { list: [1, 2, 3] }],
            ["beta", 500, {}],
            ["gamma", 50, { g: "g" }],
            ["gamma", 400, { g: "gg" }],
            ["delta", 300, { d: true }]
          ] as const
          for (const [sessionId, createdAt, state] of rows) {
            yield* storage.storeAgentCheckpoint(agentCheckpoint({ sessionId, createdAt, state }))
          }
          const of = (sessionId: string) => {
            const mine = rows.filter(([session]) => session === sessionId)
            return {
              sessionId,
              count: mine.length,
              totalBytes: mine.reduce((sum, [, , state]) => sum + bytesOf(state), 0),
              oldestCreatedAt: Math.min(...mine.map(([, createdAt]) => createdAt)),
              newestCreatedAt: Math.max(...mine.map(([, createdAt]) => createdAt))
            }
          }
          const statistics = yield* storage.sessionStatistics()
          // Newest first; alpha and delta share their newest createdAt and go by sessionId.
          expect(statistics.agentCheckpoints).toEqual(["beta", "gamma", "alpha", "delta"].map(of))
          expect(statistics.appCheckpoints).toEqual([])
          expect((yield* storage.sessionStatistics({ limit: 2 })).agentCheckpoints).toEqual(["beta", "gamma"].map(of))
        }))

      it.effect("at most 20 sessions unless told otherwise, per table; a limit outside 1 to 10 000 is refused", () =>
        Effect.gen(function*() {
          yield* emptyTables
          const storage = yield* CheckpointStorage
          for (let index = 0; index < 22; index++) {
            yield* storage.storeAppCheckpoint(appCheckpoint({ sessionId: `app-${index}`, createdAt: 1_000 + index }))
          }
          const statistics = yield* storage.sessionStatistics()
          expect(statistics.appCheckpoints.map((session) => session.sessionId)).toEqual(
            Array.from({ length: 20 }, (_, index) => `app-${21 - index}`)
          )
          expect(statistics.agentCheckpoints).toEqual([])
          expect((yield* storage.sessionStatistics({ limit: 100 })).appCheckpoints).toHaveLength(22)
          for (const limit of [0, 10_001, 2.5]) {
            const error = yield* Effect.flip(storage.sessionStatistics({ limit }))
            expect(error).toMatchObject({ _tag: "CheckpointValidationError" })
          }
        }))
    })

    layer(withStorage(target), { timeout: 120_000 })("imports", (it) => {
      it.effect("keep createdAt and map parents to the new ids, within a call (in any order) and across calls", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const source = "export-a.jsonl"
          // A child given before its parent: the parent is still written first.
          const first = yield* storage.importAgentCheckpoints(source, [
            imported("11", "10"),
            imported("10", undefined),
            imported("12", "11")
          ])
          expect(first).toMatchObject({ written: 3, skipped: 0, orphans: 0 })
          expect(first.ids.map((entry) => entry.sourceId)).toEqual(["11", "10", "12"])
          const id = Object.fromEntries(first.ids.map((entry) => [entry.sourceId, entry.id]))
          expect(new Set(Object.values(id)).size).toBe(3)
          const root = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(id["10"]!))
          expect(root).toEqual({ id: id["10"], ...imported("10", undefined).checkpoint })
          const child = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(id["11"]!))
          expect(child).toEqual({ id: id["11"], ...imported("11", "10").checkpoint, parentId: id["10"] })
          expect(child.createdAt).toBe(1_600_000_000_011)
          expect(idsOf(yield* storage.listAgentLineage(id["12"]!))).toEqual([id["12"], id["11"], id["10"]])

          // A later call finds the parent an earlier one wrote.
          const second = yield* storage.importAgentCheckpoints(source, [imported("13", "12")])
          expect(second).toMatchObject({ written: 1, skipped: 0, orphans: 0 })
          const grandchild = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(second.ids[0]!.id))
          expect(grandchild.parentId).toBe(id["12"])
        }))

      it.effect("skip what a source already imported, giving the ids it has here; another source is its own", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const source = "export-b.jsonl"
          const first = yield* storage.importAgentCheckpoints(source, [imported("1", undefined), imported("2", "1")])
          const rows = yield* countRows("AgentCheckpoints")
          const again = yield* storage.importAgentCheckpoints(source, [imported("1", undefined), imported("2", "1")])
          expect(again).toEqual({ written: 0, skipped: 2, orphans: 0, ids: first.ids })
          expect(yield* countRows("AgentCheckpoints")).toBe(rows)
          // Resuming: what was imported is skipped, the rest written, its parent found among the earlier rows.
          const resumed = yield* storage.importAgentCheckpoints(source, [imported("2", "1"), imported("3", "2")])
          expect(resumed).toMatchObject({ written: 1, skipped: 1, orphans: 0 })
          expect(resumed.ids[0]).toEqual(first.ids[1])
          const third = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(resumed.ids[1]!.id))
          expect(third.parentId).toBe(first.ids[1]!.id)
          // The same source ids from another source are other checkpoints.
          const other = yield* storage.importAgentCheckpoints("export-c.jsonl", [imported("1", undefined)])
          expect(other.written).toBe(1)
          expect(other.ids[0]!.id).not.toBe(first.ids[0]!.id)
        }))

      it.effect("write a checkpoint whose parent the target does not hold without a parent, counted as an orphan", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const result = yield* storage.importAgentCheckpoints("export-d.jsonl", [imported("5", "4")])
          expect(result).toMatchObject({ written: 1, skipped: 0, orphans: 1 })
          const orphan = Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(result.ids[0]!.id))
          expect(orphan).not.toHaveProperty("parentId")
        }))

      it.effect("a parent imported earlier but deleted since is not held: the child is written as an orphan", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const source = "export-deleted-parent.jsonl"
          const parent = yield* storage.importAgentCheckpoints(source, [imported("1", undefined)])
          expect(yield* storage.deleteAgentCheckpoint(parent.ids[0]!.id)).toBe(1)
          const child = yield* storage.importAgentCheckpoints(source, [imported("2", "1")])
          expect(child).toMatchObject({ written: 1, skipped: 0, orphans: 1 })
          expect(Option.getOrThrow(yield* storage.retrieveAgentCheckpoint(child.ids[0]!.id))).not.toHaveProperty("parentId")
        }))

      it.effect("refuse a batch with an invalid checkpoint with CheckpointValidationError, writing none of it", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const source = "export-e.jsonl"
          const before = yield* countRows("AgentCheckpoints")
          const missingAgent = { sourceId: "2", checkpoint: { ...imported("2", undefined).checkpoint, agentId: undefined } }
          for (
            const batch of [
              [imported("1", undefined), missingAgent],
              [imported("1", undefined), imported("not-an-id", undefined)],
              [imported("1", undefined), imported("3", "parent")]
            ]
          ) {
            const error = yield* Effect.flip(
              storage.importAgentCheckpoints(source, batch as Array<ImportedAgentCheckpoint>)
            )
            expect(error).toMatchObject({ _tag: "CheckpointValidationError" })
          }
          expect(yield* countRows("AgentCheckpoints")).toBe(before)
          expect((yield* storage.importPosition(source)).agentCheckpoints).toEqual({
            imported: 0,
            lastSourceId: Option.none()
          })
        }))

      it.effect("refuse a batch with a state over maxStateBytes with StateTooLargeError, writing none of it", () =>
        Effect.gen(function*() {
          const storage = yield* buildStorage({ maxStateBytes: 200 })
          const source = "export-f.jsonl"
          const before = yield* countRows("AgentCheckpoints")
          const large = imported("2", undefined, { state: { text: "x".repeat(300) } })
          const error = yield* Effect.flip(storage.importAgentCheckpoints(source, [imported("1", undefined), large]))
          const sizeBytes = bytesOf(large.checkpoint.state)
          expect(error).toMatchObject({ _tag: "StateTooLargeError", maxBytes: 200, sizeBytes })
          expect(yield* countRows("AgentCheckpoints")).toBe(before)
          expect((yield* storage.importPosition(source)).agentCheckpoints.imported).toBe(0)
        }).pipe(Effect.scoped))

      it.effect("import app checkpoints the same way: createdAt kept, parents mapped, a repeated import skipped", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const source = "apps.jsonl"
          const app = (sourceId: string, sourceParentId?: string): ImportedAppCheckpoint => {
            const checkpoint = appCheckpoint({
              sessionId: "imported-app",
              state: { sourceId },
              createdAt: 1_500_000_000_000 + Number(sourceId)
            })
            return sourceParentId === undefined ? { sourceId, checkpoint } : { sourceId, sourceParentId, checkpoint }
          }
          const first = yield* storage.importAppCheckpoints(source, [app("7"), app("8", "7")])
          expect(first).toMatchObject({ written: 2, skipped: 0, orphans: 0 })
          const [root, child] = first.ids.map((entry) => entry.id)
          expect(Option.getOrThrow(yield* storage.retrieveAppCheckpoint(child!))).toEqual({
            id: child,
            ...app("8").checkpoint,
            parentId: root
          })
          const second = yield* storage.importAppCheckpoints(source, [app("8", "7"), app("9", "8")])
          expect(second).toMatchObject({ written: 1, skipped: 1, orphans: 0 })
          expect(idsOf(yield* storage.listAppLineage(second.ids[1]!.id))).toEqual([second.ids[1]!.id, child, root])
          // Apps and agents keep separate ledgers: the same source ids of agents are not skipped.
          expect((yield* storage.importAgentCheckpoints(source, [imported("7", undefined)])).written).toBe(1)
        }))

      it.effect("importPosition: how many checkpoints of a source each table holds and the highest source id", () =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const source = "position.jsonl"
          expect(yield* storage.importPosition(source)).toEqual({
            agentCheckpoints: { imported: 0, lastSourceId: Option.none() },
            appCheckpoints: { imported: 0, lastSourceId: Option.none() }
          })
          yield* storage.importAgentCheckpoints(source, [imported("9", undefined), imported("10", "9")])
          yield* storage.importAgentCheckpoints(source, [imported("2", undefined)])
          yield* storage.importAppCheckpoints(source, [{ sourceId: "4", checkpoint: appCheckpoint() }])
          // The highest by number, not by text ("9" > "10" as text).
          expect(yield* storage.importPosition(source)).toEqual({
            agentCheckpoints: { imported: 3, lastSourceId: Option.some("10") },
            appCheckpoints: { imported: 1, lastSourceId: Option.some("4") }
          })
        }))
    })

    layer(target.freshDatabase, { timeout: 120_000 })("retention after imports", (it) => {
      it.effect("apply the storage's retention after each import", () =>
        Effect.gen(function*() {
          const storage = yield* buildStorage({ retention: { keepLastPerSession: 2 } })
          const result = yield* storage.importAgentCheckpoints(
            "retention.jsonl",
            ["1", "2", "3", "4", "5"].map((sourceId) => imported(sourceId, undefined, { sessionId: "kept-two" }))
          )
          expect(result.written).toBe(5)
          const kept = yield* storage.listAgentCheckpoints({ sessionId: "kept-two" })
          expect(kept.items.map((item) => item.name)).toEqual(["source-5", "source-4"])
        }).pipe(Effect.scoped))
    })
  })
}
