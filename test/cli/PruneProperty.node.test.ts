/**
 * `ecs prune` is the storage's prune: for random rows (sessions, agents, equal createdAt values included) and random
 * combinations of retention rules, on every database, `ecs prune --apply` leaves the rows `storage.prune` leaves, and
 * the dry run counts the rows `storage.prune` deletes. Both also agree with the rules as the documentation states
 * them (applied one after another: per session, then per agent, then by age).
 *
 * The command runs inside the test process (see support/inProcess.ts): the same command and layers as the binary.
 */
import { Effect, FastCheck, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pruneCommand } from "../../src/cli/PruneCommand.js"
import { CheckpointStorage, type RetentionPolicy } from "../../src/index.js"
import { provision } from "../support/provision.js"
import { mysql, postgres, sqliteNode } from "../support/targets.js"
import type { TestDatabaseService, TestTarget } from "../support/TestDatabase.js"
import { runInProcess } from "./support/inProcess.js"

const RUNS = 25
const DAY = 86_400_000
const SESSIONS = ["s0", "s1", "s2", "s3"] as const
const AGENTS = ["a0", "a1", "a2"] as const

/** A row: its session, its agent (agent checkpoints), and its age in whole days plus a few ms (equal values too). */
interface Row {
  readonly session: number
  readonly agent: number
  readonly days: number
  readonly jitter: number
}

interface Case {
  readonly agents: ReadonlyArray<Row>
  readonly apps: ReadonlyArray<Row>
  readonly keepLastPerSession: number | undefined
  readonly keepLastPerAgent: number | undefined
  /** maxAge in days, plus half a day: every row is at least 12 hours from the cutoff, whatever the clock did. */
  readonly maxAgeDays: number | undefined
}

const row = FastCheck.record({
  session: FastCheck.integer({ min: 0, max: SESSIONS.length - 1 }),
  agent: FastCheck.integer({ min: 0, max: AGENTS.length - 1 }),
  days: FastCheck.integer({ min: 0, max: 5 }),
  jitter: FastCheck.integer({ min: 0, max: 2 })
})

const optional = <A>(arbitrary: FastCheck.Arbitrary<A>) => FastCheck.option(arbitrary, { nil: undefined })

const cases: FastCheck.Arbitrary<Case> = FastCheck.record({
  agents: FastCheck.array(row, { maxLength: 24 }),
  apps: FastCheck.array(row, { maxLength: 12 }),
  keepLastPerSession: optional(FastCheck.integer({ min: 1, max: 4 })),
  keepLastPerAgent: optional(FastCheck.integer({ min: 1, max: 4 })),
  maxAgeDays: optional(FastCheck.integer({ min: 0, max: 5 }))
}).filter((c) => c.keepLastPerSession !== undefined || c.keepLastPerAgent !== undefined || c.maxAgeDays !== undefined)

const policyOf = (c: Case): RetentionPolicy => ({
  ...(c.keepLastPerSession === undefined ? {} : { keepLastPerSession: c.keepLastPerSession }),
  ...(c.keepLastPerAgent === undefined ? {} : { keepLastPerAgent: c.keepLastPerAgent }),
  ...(c.maxAgeDays === undefined ? {} : { maxAge: `${c.maxAgeDays * 24 + 12} hours` })
})

const pruneArgs = (c: Case): Array<string> => [
  ...(c.keepLastPerSession === undefined ? [] : ["--keep-last-per-session", String(c.keepLastPerSession)]),
  ...(c.keepLastPerAgent === undefined ? [] : ["--keep-last-per-agent", String(c.keepLastPerAgent)]),
  ...(c.maxAgeDays === undefined ? [] : ["--max-age", `${c.maxAgeDays * 24 + 12} hours`])
]

const createdAtOf = (now: number, r: Row) => now - r.days * DAY + r.jitter

/**
 * The rows the rules keep, as the documentation states them: of each session the newest N (createdAt, then id),
 * then of those, of each agent the newest N, then those not older than maxAge. Rows are given in id order; the
 * result is their indexes.
 */
const keptByRules = (rows: ReadonlyArray<Row>, c: Case, now: number, hasAgents: boolean): Array<number> => {
  let kept = rows.map((r, index) => ({ ...r, index, createdAt: createdAtOf(now, r) }))
  const keepLast = (key: (r: (typeof kept)[number]) => number, n: number) => {
    const newestFirst = [...kept].sort((x, y) => y.createdAt - x.createdAt || y.index - x.index)
    const seen = new Map<number, number>()
    const survivors = new Set<number>()
    for (const r of newestFirst) {
      const count = seen.get(key(r)) ?? 0
      if (count < n) survivors.add(r.index)
      seen.set(key(r), count + 1)
    }
    kept = kept.filter((r) => survivors.has(r.index))
  }
  if (c.keepLastPerSession !== undefined) keepLast((r) => r.session, c.keepLastPerSession)
  if (c.keepLastPerAgent !== undefined && hasAgents) keepLast((r) => r.agent, c.keepLastPerAgent)
  if (c.maxAgeDays !== undefined) {
    const cutoff = now - (c.maxAgeDays * 24 + 12) * 3_600_000
    kept = kept.filter((r) => r.createdAt >= cutoff)
  }
  return kept.map((r) => r.index).sort((a, b) => a - b)
}

const databaseUrl = (db: TestDatabaseService): string => {
  const config = db.config as { readonly connectionString?: string; readonly databasePath?: string }
  return config.connectionString ?? `sqlite:${config.databasePath}`
}

const targets: ReadonlyArray<TestTarget> = [sqliteNode, postgres, mysql]

describe.each(targets)("ecs prune and storage.prune on $name", (target) => {
  let cli: Awaited<ReturnType<typeof provision>>
  let reference: Awaited<ReturnType<typeof provision>>
  let viaCli: ManagedRuntime.ManagedRuntime<CheckpointStorage, unknown>
  let viaStorage: ManagedRuntime.ManagedRuntime<CheckpointStorage, unknown>

  beforeAll(async () => {
    ;[cli, reference] = await Promise.all([provision(target), provision(target)])
    viaCli = ManagedRuntime.make(cli.db.storage())
    viaStorage = ManagedRuntime.make(reference.db.storage())
  })

  afterAll(async () => {
    await Promise.all([viaCli?.dispose(), viaStorage?.dispose()])
    await Promise.all([cli?.release(), reference?.release()])
  })

  // Both databases start each case empty and receive the same rows in the same order: the same ids, so ties of
  // createdAt break the same way.
  const seed = (runtime: ManagedRuntime.ManagedRuntime<CheckpointStorage, unknown>, c: Case, now: number, source: string) =>
    runtime.runPromise(Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      for (const sessionId of SESSIONS) {
        yield* storage.deleteAgentCheckpoints({ sessionId })
        yield* storage.deleteAppCheckpoints({ sessionId })
      }
      const agents = yield* storage.importAgentCheckpoints(
        source,
        c.agents.map((r, index) => ({
          sourceId: String(index + 1),
          checkpoint: {
            sessionId: SESSIONS[r.session]!,
            agentId: AGENTS[r.agent]!,
            agentType: "coder",
            name: `agent-${index}`,
            state: { index },
            createdAt: createdAtOf(now, r)
          }
        }))
      )
      const apps = yield* storage.importAppCheckpoints(
        source,
        c.apps.map((r, index) => ({
          sourceId: String(index + 1),
          checkpoint: {
            sessionId: SESSIONS[r.session]!,
            hostname: "host",
            workspaceDirectory: "/work",
            state: { index },
            createdAt: createdAtOf(now, r)
          }
        }))
      )
      // The index of each row, by the id it got.
      const indexOf = (ids: ReadonlyArray<{ readonly sourceId: string; readonly id: string }>) =>
        new Map(ids.map(({ id, sourceId }) => [id, Number(sourceId) - 1]))
      return { agents: indexOf(agents.ids), apps: indexOf(apps.ids) }
    }))

  /** The indexes of the rows left, in each table. */
  const remaining = (
    runtime: ManagedRuntime.ManagedRuntime<CheckpointStorage, unknown>,
    indexOf: { readonly agents: ReadonlyMap<string, number>; readonly apps: ReadonlyMap<string, number> }
  ) =>
    runtime.runPromise(Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      const indexes = (items: ReadonlyArray<{ readonly id: string }>, of: ReadonlyMap<string, number>) =>
        items.map((item) => of.get(item.id) ?? -1).sort((a, b) => a - b)
      return {
        agents: indexes(yield* storage.listAgentCheckpoints(), indexOf.agents),
        apps: indexes(yield* storage.listAppCheckpoints(), indexOf.apps)
      }
    }))

  it("leave the same rows, and the dry run counts what storage.prune deletes", async () => {
    let run = 0
    await FastCheck.assert(
      FastCheck.asyncProperty(cases, async (c) => {
        const now = Date.now()
        const source = `prune-property-${++run}-${now}`
        const [cliIds, storageIds] = await Promise.all([seed(viaCli, c, now, source), seed(viaStorage, c, now, source)])
        const db = ["--db", databaseUrl(cli.db)]

        const dry = await runInProcess(pruneCommand, [...pruneArgs(c), "--json", "--show", "0", ...db])
        expect(dry.stderr).toBe("")
        expect(dry.code).toBe(0)
        const plan = JSON.parse(dry.stdout) as Record<string, { readonly wouldDelete: number }>

        const applied = await runInProcess(pruneCommand, [...pruneArgs(c), "--apply", "--json", ...db])
        expect(applied.code, applied.stderr).toBe(0)
        const deletedByCli = JSON.parse(applied.stdout) as Record<string, { readonly deleted: number }>

        const deleted = await viaStorage.runPromise(Effect.flatMap(CheckpointStorage, (storage) => storage.prune(policyOf(c))))

        expect([plan.AgentCheckpoints?.wouldDelete, plan.AppCheckpoints?.wouldDelete])
          .toEqual([deleted.agentCheckpoints, deleted.appCheckpoints])
        expect([deletedByCli.AgentCheckpoints?.deleted, deletedByCli.AppCheckpoints?.deleted])
          .toEqual([deleted.agentCheckpoints, deleted.appCheckpoints])
        const [afterCli, afterStorage] = await Promise.all([remaining(viaCli, cliIds), remaining(viaStorage, storageIds)])
        expect(afterCli).toEqual(afterStorage)
        // And what is left is what the rules keep.
        expect(afterStorage).toEqual({
          agents: keptByRules(c.agents, c, now, true),
          apps: keptByRules(c.apps, c, now, false)
        })
      }),
      { numRuns: RUNS }
    )
  }, 300_000)
})
