/**
 * Several processes on one database: starting at once on an empty one, sustained mixed load, and (SQLite) a writer
 * killed with SIGKILL mid-write. Each asserts what is on disk afterwards.
 */
import { Chunk, Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type StoredAgentCheckpoint, layerFromConfig, CheckpointStorage } from "../../src/index.js"
import { provision, runtimeTargets } from "../support/provision.js"
import type { TestDatabaseService } from "../support/TestDatabase.js"
import { doneSummary, startWorker, waitForLines } from "./support/processes.js"
import { workloadCheckpoint } from "./support/workload.js"

const LOAD_PROCESSES = 4
const LOAD_PER_PROCESS = Number(process.env.LOAD_PER_PROCESS ?? 12_500)

const runSql = <A>(db: TestDatabaseService, query: string) =>
  Effect.runPromise(db.withSql((sql) => sql.unsafe<A & object>(query)))

const count = async (db: TestDatabaseService, table: string): Promise<number> => {
  const quote = db.dialect === "mysql" ? "`" : "\""
  const rows = await runSql<{ n: number | string }>(db, `SELECT COUNT(*) AS n FROM ${quote}${table}${quote}`)
  return Number(rows[0]!.n)
}

/** Every stored agent checkpoint, state included, read through the storage's stream. */
const readEverything = (db: TestDatabaseService) =>
  Effect.runPromise(
    Effect.flatMap(CheckpointStorage, (storage) =>
      Stream.runCollect(storage.streamAgentCheckpoints({ includeState: true, pageSize: 2_000, orderBy: "id", orderDir: "ASC" })))
      .pipe(Effect.map(Chunk.toReadonlyArray), Effect.provide(layerFromConfig(db.config)))
  )

/** Whether a stored checkpoint is exactly the one its writer stored at its step, field by field. */
const isIntact = (checkpoint: StoredAgentCheckpoint): boolean => {
  const { step, writer } = checkpoint.state as { readonly writer: string; readonly step: number }
  const expected = workloadCheckpoint(writer, step)
  return checkpoint.agentId === expected.agentId && checkpoint.sessionId === expected.sessionId &&
    checkpoint.agentType === expected.agentType && checkpoint.name === expected.name &&
    checkpoint.createdAt === expected.createdAt && checkpoint.parentId === undefined &&
    JSON.stringify(checkpoint.state) === JSON.stringify(expected.state)
}

for (const target of runtimeTargets) {
  describe(`${target.name}: several processes`, () => {
    let database: Awaited<ReturnType<typeof provision>>
    beforeAll(async () => {
      database = await provision(target)
    }, 120_000)
    afterAll(() => database?.release())

    it("four processes starting at once on an empty database all succeed, and the schema is applied once", async () => {
      const workers = Array.from({ length: 4 }, (_, index) =>
        startWorker(database.db.config, "store-one", { WRITER: `starter-${index}` }))
      const results = await Promise.all(workers.map((worker) => worker.exited))
      for (const result of results) expect(doneSummary(result)).toMatchObject({ id: expect.any(String) })
      const migrations = await runSql<{ migration_id: number | string }>(
        database.db,
        "SELECT migration_id FROM effect_checkpoint_storage_migrations ORDER BY migration_id"
      )
      expect(migrations.map((row) => Number(row.migration_id))).toEqual([1, 2, 3, 4, 5, 6])
      expect(await count(database.db, "AgentCheckpoints")).toBe(4)
    }, 120_000)

    it(`sustains ${LOAD_PROCESSES} processes × ${LOAD_PER_PROCESS} stores with 16 fibers each, reading every one back: no error, exact count, every state equal`, async () => {
      const before = await count(database.db, "AgentCheckpoints")
      const started = Date.now()
      const workers = Array.from({ length: LOAD_PROCESSES }, (_, index) =>
        startWorker(database.db.config, "load", {
          WRITER: `loader-${index}`,
          COUNT: String(LOAD_PER_PROCESS),
          CONCURRENCY: "16"
        }))
      const results = await Promise.all(workers.map((worker) => worker.exited))
      const seconds = (Date.now() - started) / 1000
      for (const [index, result] of results.entries()) {
        expect(result.code, result.stderr.slice(-1000)).toBe(0)
        expect(doneSummary(result)).toEqual({ writer: `loader-${index}`, stored: LOAD_PER_PROCESS, mismatches: 0 })
      }
      const total = LOAD_PROCESSES * LOAD_PER_PROCESS
      expect(await count(database.db, "AgentCheckpoints")).toBe(before + total)
      const stored = (await readEverything(database.db)).filter((checkpoint) =>
        String((checkpoint.state as { writer: string }).writer).startsWith("loader-")
      )
      expect(stored.length).toBe(total)
      expect(new Set(stored.map((c) => `${(c.state as { writer: string }).writer}/${(c.state as { step: number }).step}`)).size)
        .toBe(total)
      expect(stored.filter((checkpoint) => !isIntact(checkpoint)).map((checkpoint) => checkpoint.id)).toEqual([])
      console.log(`RELIABILITY ${JSON.stringify({ fault: "sustained mixed load", database: target.name, operations: total * 2, lost: 0, seconds, storesPerSecond: Math.round(total / seconds) })}`)
    }, 600_000)

    if (target.dialect === "sqlite") {
      it("a writer killed with SIGKILL loses nothing it acknowledged, and the file passes integrity_check", async () => {
        const worker = startWorker(database.db.config, "write-loop", {
          WRITER: "killed",
          COUNT: "1000000",
          CONCURRENCY: "4"
        })
        await waitForLines(worker, "ACK ", 400, 120_000)
        worker.child.kill("SIGKILL")
        const result = await worker.exited
        expect(result.signal).toBe("SIGKILL")
        const acknowledged = result.lines.filter((line) => line.startsWith("ACK ")).map((line) => {
          const [, id, step] = line.split(" ")
          return { id: id!, step: Number(step) }
        })
        expect(acknowledged.length).toBeGreaterThanOrEqual(400)
        const integrity = await runSql<{ integrity_check: string }>(database.db, "PRAGMA integrity_check")
        expect(integrity).toEqual([{ integrity_check: "ok" }])
        const byId = new Map((await readEverything(database.db)).map((checkpoint) => [checkpoint.id, checkpoint]))
        const missing = acknowledged.filter(({ id, step }) => {
          const checkpoint = byId.get(id)
          return checkpoint === undefined || (checkpoint.state as { step: number }).step !== step || !isIntact(checkpoint)
        })
        expect(missing).toEqual([])
        console.log(`RELIABILITY ${JSON.stringify({ fault: "SQLite writer killed (SIGKILL)", database: target.name, operations: acknowledged.length, lost: missing.length })}`)
      }, 180_000)
    }
  })
}
