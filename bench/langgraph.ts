/**
 * The LangGraph section of the benchmark: our SqlCheckpointSaver against LangGraph's own savers (PostgresSaver on the
 * same PostgreSQL database, SqliteSaver on a SQLite file of its own), the same agent thread replayed on each
 * (bench/langgraphWorkload.ts), in interleaved rounds; our saver alone on MySQL/MariaDB, where LangGraph has none.
 *
 * Operations, one caller, as an agent's loop calls them:
 * - `put`: the next checkpoint of a thread (its parent the one before, `newVersions` only the changed channels);
 * - `putWrites`: the writes of one task (2-3 channels) onto the checkpoint before its step;
 * - `getTuple latest`: the latest checkpoint of a thread (what every `invoke` reads first);
 * - `getTuple by id`: one checkpoint of a thread by id (time travel, `getState` of a past step), its pending writes;
 * - `list 20`: the last 20 checkpoints of a thread (`getStateHistory`), each with its values and pending writes.
 * The reads are of threads replayed to their end beforehand (25 checkpoints, 24 messages at the end).
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint"
import { type BenchDatabase, createDatabase, type Db } from "./databases.js"
import { oursSide, type SaverSide, theirsNotApplicable, theirsSide } from "./langgraphSavers.js"
import { type AgentStep, agentThread } from "./langgraphWorkload.js"

export const LANGGRAPH_OPS = ["put", "putWrites", "getTuple latest", "getTuple by id", "list 20"] as const
export type LangGraphOp = (typeof LANGGRAPH_OPS)[number]

/** One operation on one database: each side's median ops/s and the median of ours ÷ theirs in the same round. */
export interface LangGraphRow {
  readonly db: Db
  readonly op: LangGraphOp
  readonly ours: string
  readonly oursOpsPerSecond: number
  /** LangGraph's saver on this database; null where there is none to compare with (`note` says why). */
  readonly theirs: string | null
  readonly theirsOpsPerSecond: number | null
  readonly ratio: number | null
  /** PASS when ours ≥ 1.0 × theirs (the issue's target: ours at least as fast on each operation). */
  readonly verdict: "PASS" | "FAIL" | "n/a"
  readonly note?: string
}

export interface LangGraphOptions {
  readonly rounds: number
  readonly millis: number
  readonly quick: boolean
  readonly log: (line: string) => void
}

/** The loop steps of every thread: 25 checkpoints with the input one. */
const THREAD_STEPS = 24
const LIST_LIMIT = 20

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const configOf = (threadId: string, checkpointId: string | undefined) => ({
  configurable: { thread_id: threadId, checkpoint_ns: "", ...(checkpointId === undefined ? {} : { checkpoint_id: checkpointId }) }
})

const putStep = (saver: BaseCheckpointSaver, threadId: string, step: AgentStep) =>
  saver.put(configOf(threadId, step.parentId), step.checkpoint, step.metadata, step.newVersions)

// The writes of step k go onto checkpoint k - 1, as the loop puts them before it checkpoints step k.
const putStepWrites = (saver: BaseCheckpointSaver, threadId: string, thread: ReadonlyArray<AgentStep>, k: number) =>
  saver.putWrites(configOf(threadId, thread[k - 1]!.checkpoint.id), [...thread[k]!.writes], thread[k]!.taskId)

/** Replays the whole thread as LangGraph's loop would: put a checkpoint, then the writes of the step after it. */
const replay = async (saver: BaseCheckpointSaver, threadId: string, thread: ReadonlyArray<AgentStep>) => {
  for (let k = 0; k < thread.length; k++) {
    if (k > 0) await putStepWrites(saver, threadId, thread, k)
    await putStep(saver, threadId, thread[k]!)
  }
}

/**
 * The operations of one side. Each keeps its own counters, so that every `put` and `putWrites` writes a new row
 * (`agent-N` threads, one after another) and the reads cycle over the replayed threads.
 */
const operationsOf = (saver: BaseCheckpointSaver, thread: ReadonlyArray<AgentStep>, readThreads: number) => {
  let puts = 0
  let writes = 0
  let reads = 0
  const readThread = () => `read-${reads++ % readThreads}`
  return {
    put: async () => {
      const i = puts++
      await putStep(saver, `agent-${Math.floor(i / thread.length)}`, thread[i % thread.length]!)
    },
    putWrites: async () => {
      const i = writes++
      const steps = thread.length - 1
      await putStepWrites(saver, `agent-${Math.floor(i / steps)}`, thread, (i % steps) + 1)
    },
    "getTuple latest": async () => {
      if ((await saver.getTuple(configOf(readThread(), undefined))) === undefined) throw new Error("no latest checkpoint")
    },
    "getTuple by id": async () => {
      const id = thread[(reads * 7) % thread.length]!.checkpoint.id
      if ((await saver.getTuple(configOf(readThread(), id))) === undefined) throw new Error(`no checkpoint ${id}`)
    },
    "list 20": async () => {
      let count = 0
      for await (const _ of saver.list(configOf(readThread(), undefined), { limit: LIST_LIMIT })) count++
      if (count !== LIST_LIMIT) throw new Error(`listed ${count} checkpoints, not ${LIST_LIMIT}`)
    }
  } satisfies Record<LangGraphOp, () => Promise<void>>
}

type Operations = ReturnType<typeof operationsOf>

/** Runs one operation, one call at a time, until `millis` have passed (and at least `minOps` calls). */
const timed = async (operation: () => Promise<void>, millis: number, minOps: number): Promise<number> => {
  const started = performance.now()
  const deadline = started + millis
  let ops = 0
  while (performance.now() < deadline || ops < minOps) {
    await operation()
    ops++
  }
  return ops / ((performance.now() - started) / 1000)
}

interface Measuring {
  readonly side: SaverSide
  readonly operations: Operations
}

const measure = async (
  db: Db,
  sides: ReadonlyArray<Measuring>,
  options: LangGraphOptions,
  note: string | undefined
): Promise<Array<LangGraphRow>> => {
  const rows: Array<LangGraphRow> = []
  for (const op of LANGGRAPH_OPS) {
    options.log(`LangGraph ${db}: ${op} (${sides.map(({ side }) => side.label).join(" vs ")})`)
    for (const { operations } of sides) await timed(operations[op], options.quick ? 5 : 150, 3)
    const perSide = new Map<string, Array<number>>()
    const ratios: Array<number> = []
    for (let round = 0; round < options.rounds; round++) {
      const inRound = new Map<string, number>()
      // Rotating order: ours first in even rounds, theirs first in odd ones.
      for (let k = 0; k < sides.length; k++) {
        const { operations, side } = sides[(round + k) % sides.length]!
        inRound.set(side.name, await timed(operations[op], options.millis, 5))
      }
      for (const [name, value] of inRound) perSide.set(name, [...(perSide.get(name) ?? []), value])
      const ours = inRound.get("ours")
      const theirs = inRound.get("theirs")
      if (ours !== undefined && theirs !== undefined) ratios.push(ours / theirs)
    }
    const theirs = sides.find(({ side }) => side.name === "theirs")?.side
    const ratio = ratios.length > 0 ? median(ratios) : null
    rows.push({
      db,
      op,
      ours: "SqlCheckpointSaver",
      oursOpsPerSecond: median(perSide.get("ours") ?? []),
      theirs: theirs?.label ?? null,
      theirsOpsPerSecond: theirs === undefined ? null : median(perSide.get("theirs") ?? []),
      ratio,
      verdict: ratio === null ? "n/a" : ratio >= 1 ? "PASS" : "FAIL",
      ...(note === undefined ? {} : { note })
    })
  }
  return rows
}

/**
 * The section on one database: our saver and, where LangGraph has one, LangGraph's, each on its own fresh database
 * (PostgreSQL: the same database, the savers' tables have different names; SQLite: a file each).
 */
export const runLangGraph = async (db: Db, options: LangGraphOptions): Promise<Array<LangGraphRow>> => {
  const databases: Array<BenchDatabase> = []
  const sides: Array<SaverSide> = []
  try {
    const oursDatabase = await createDatabase(db)
    databases.push(oursDatabase)
    sides.push(await oursSide(oursDatabase))
    const note = theirsNotApplicable(db)
    if (note === undefined) {
      const theirsDatabase = db === "sqlite" ? await createDatabase(db) : oursDatabase
      if (theirsDatabase !== oursDatabase) databases.push(theirsDatabase)
      const theirs = await theirsSide(theirsDatabase)
      if (theirs !== undefined) sides.push(theirs)
    }
    const thread = agentThread(THREAD_STEPS)
    const readThreads = options.quick ? 2 : 8
    options.log(`LangGraph ${db}: replaying ${readThreads} threads of ${thread.length} checkpoints on each side`)
    for (const side of sides) {
      for (let t = 0; t < readThreads; t++) await replay(side.saver, `read-${t}`, thread)
    }
    return await measure(db, sides.map((side) => ({ side, operations: operationsOf(side.saver, thread, readThreads) })), options, note)
  } finally {
    for (const side of sides) await side.close()
    for (const database of databases) await database.drop()
  }
}

const fmt = (n: number | null, digits = 0) =>
  n !== null && Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "–"

/** The section's table, as Markdown lines. */
export const langGraphReport = (rows: ReadonlyArray<LangGraphRow>, dbName: (db: Db) => string): Array<string> => {
  if (rows.length === 0) return []
  const lines = [
    "LangGraph checkpointers, one caller: our SqlCheckpointSaver against LangGraph's own saver on the same database",
    "engine (PASS when ours ≥ 1.00 × theirs).",
    "",
    "| database | operation | SqlCheckpointSaver ops/s | LangGraph's saver | its ops/s | ours ÷ theirs | verdict |",
    "|---|---|--:|---|--:|--:|---|"
  ]
  for (const row of rows) {
    lines.push(`| ${dbName(row.db)} | ${row.op} | ${fmt(row.oursOpsPerSecond)} | ${row.theirs ?? `none (${row.note ?? "n/a"})`} | ${
      fmt(row.theirsOpsPerSecond)
    } | ${fmt(row.ratio, 2)} | ${row.verdict} |`)
  }
  lines.push("")
  return lines
}

/** The section's floors: ours at least as fast as LangGraph's saver on each operation it was compared on. */
export const langGraphFloors = (
  rows: ReadonlyArray<LangGraphRow>
): Array<{ readonly db: Db; readonly floor: string; readonly measured: string; readonly pass: boolean }> =>
  rows.flatMap((row) =>
    row.ratio === null || row.theirs === null ? [] : [{
      db: row.db,
      floor: `LangGraph ${row.op}, 1 caller: SqlCheckpointSaver ≥ 1.00 × ${row.theirs}`,
      measured: `${fmt(row.ratio, 2)} (${fmt(row.oursOpsPerSecond)} vs ${fmt(row.theirsOpsPerSecond)} ops/s)`,
      pass: row.ratio >= 1
    }]
  )
