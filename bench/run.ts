/**
 * The benchmark: our CheckpointStorage (Effect API and Promise facade) against a bare `SqlClient` of the same layer
 * running the storage's own statements, and against the raw drivers running equivalent SQL with prepared statements,
 * on the same database in the same run, in interleaved rounds. Ends with the issue's performance floors, each PASS or
 * FAIL with the figure measured.
 *
 *   npm run bench                        full run (about 22 minutes): tables on stdout, bench/results/<stamp>.json,
 *                                        docs/bench.svg
 *   npm run bench -- --quick             seconds: every section with tiny durations (CI); writes to the temp dir
 *   npm run bench -- --db pg,sqlite      only these databases (pg, mysql, sqlite)
 *   npm run bench -- --only throughput,concurrency,processes,startup,scaling,langgraph
 *                                        langgraph: our SqlCheckpointSaver against LangGraph's PostgresSaver and
 *                                        SqliteSaver (bench/langgraph.ts), ours alone on MariaDB
 *   npm run bench -- --rounds 7 --millis 1000 --max-rows 100000
 *   npm run bench -- --skip-list-all     without the full listing (slow once the stores have filled the table)
 *   bun run bench/run.ts [options]       the same under Bun: SQLite through bun:sqlite on both sides
 *
 * No timing is asserted: the run fails only if something does not work.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { makeSqlCheckpointStorage } from "../src/index.js"
import { renderChart } from "./chart.js"
import { ALL_DBS, type BenchDatabase, cleanupAll, createDatabase, type Db, isBun } from "./databases.js"
import {
  bareClientLayer,
  bareSide,
  checkSameStatements,
  effectSide,
  type OpName,
  promiseFacadeSide,
  rawSide,
  type RunResult,
  type Side,
  sqliteSynchronous,
  storageLayer,
  type Workload
} from "./subjects.js"
import { type LangGraphRow, langGraphFloors, langGraphReport, runLangGraph } from "./langgraph.js"
import { checkpoints, type SizeName } from "./workload.js"

// --- Options -----------------------------------------------------------------------------------------------------

const argv = process.argv.slice(2).filter((arg) => arg !== "--")
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string): string | undefined => {
  const index = argv.indexOf(`--${name}`)
  return index >= 0 ? argv[index + 1] : argv.find((arg) => arg.startsWith(`--${name}=`))?.split("=")[1]
}
const quick = flag("quick")
const dbs = (option("db")?.split(",") ?? ALL_DBS) as ReadonlyArray<Db>
const SECTIONS = ["throughput", "concurrency", "processes", "startup", "scaling", "langgraph"] as const
type Section = (typeof SECTIONS)[number]
const sections = new Set((option("only")?.split(",") ?? SECTIONS) as ReadonlyArray<Section>)
const rounds = Number(option("rounds") ?? (quick ? 1 : 5))
const millis = Number(option("millis") ?? (quick ? 40 : 700))
const sizes: ReadonlyArray<SizeName> = (option("sizes")?.split(",") as Array<SizeName> | undefined) ??
  ["1KiB", "64KiB", "1MiB"]
const concurrencies = quick ? [8] : [8, 64]
const processCount = quick ? 2 : 4
const scales = [1_000, 10_000, 100_000, 1_000_000].filter((n) => n <= Number(option("max-rows") ?? (quick ? 10_000 : 1_000_000)))
const memoryRows = quick ? 10_000 : 100_000
const outFile = option("out") ??
  (quick
    ? Path.join(Os.tmpdir(), `ecs-bench-quick-${process.pid}.json`)
    : Path.join(import.meta.dirname, "results", `${new Date().toISOString().replace(/[:.]/g, "-")}${isBun ? "-bun" : ""}.json`))
// docs/bench.svg is the chart of a full Node.js run (all three databases): a run under Bun (SQLite only) writes none
// unless asked to with --chart.
const chartFile = option("chart") ??
  (quick || isBun ? undefined : Path.join(import.meta.dirname, "..", "docs", "bench.svg"))

// --- Statistics and output ---------------------------------------------------------------------------------------

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–"
const DB_NAMES: Record<Db, string> = { pg: "PostgreSQL", mysql: "MariaDB", sqlite: isBun ? "SQLite (bun:sqlite)" : "SQLite (better-sqlite3)" }
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

export interface ThroughputRow {
  readonly db: Db
  readonly op: OpName | "store×processes"
  readonly size: SizeName | "-"
  readonly callers: number
  /** Median ops/s of each side over the rounds ("multiRow": rows/s of the raw driver's own multi-row INSERTs). */
  readonly opsPerSecond: Partial<Record<"raw" | "bare" | "effect" | "promise" | "multiRow", number>>
  /** Median over the rounds of (side ops/s ÷ raw ops/s in the same round). */
  readonly ratio: Partial<Record<"bare" | "effect" | "promise" | "multiRow", number>>
  /** Median over the rounds of (side ops/s ÷ bare SqlClient ops/s in the same round), where the bare side ran. */
  readonly ratioToBare: Partial<Record<"effect" | "promise", number>>
  /** Median over the rounds of (side ops/s ÷ the raw driver's multi-row INSERT rows/s), where that ran. */
  readonly ratioToMultiRow: Partial<Record<"effect" | "promise", number>>
}
export interface ScalingRow {
  readonly db: Db
  readonly op: OpName
  readonly side: "raw" | "effect"
  /** Median microseconds per call, by row count. */
  readonly micros: Record<number, number>
}
export interface MemoryRow {
  readonly db: Db
  readonly mode: string
  readonly rows: number
  /** Peak RSS while listing, minus the RSS of the process before (storage built, warm). */
  readonly peakAboveBaselineMiB: number
  /** The same for the JavaScript heap plus external buffers. */
  readonly peakHeapAboveBaselineMiB: number
}
export interface CeilingRow {
  readonly db: Db
  readonly size: SizeName
  /** Rows per multi-row INSERT: the concurrent callers whose stores one statement carries (callers ÷ in flight). */
  readonly rowsPerStatement: number
  /** Multi-row INSERTs in flight at once (the storage's batcher: 1 on SQLite, 2 on the servers). */
  readonly statementsInFlight: number
  /** Median rows/s of the raw driver, one INSERT per call from `rowsPerStatement` callers, and multi-row. */
  readonly rawOpsPerSecond: number
  readonly multiRowOpsPerSecond: number
  /** Median over the rounds of multi-row ÷ one per call: the most any coalescing of stores can give here. */
  readonly ratio: number
}
export interface StartupRow {
  readonly db: Db
  readonly layerBuildMs: number
  readonly makeOnConnectedClientMs: number
  readonly rawConnectMs: number
}
export interface FloorRow {
  readonly db: Db
  /** The floor as the issue states it. */
  readonly floor: string
  /** What was measured, as text (the figure judged first). */
  readonly measured: string
  readonly pass: boolean
}

const results = {
  machine: {
    cpu: Os.cpus()[0]?.model ?? "unknown",
    cores: Os.cpus().length,
    memoryGiB: Math.round(Os.totalmem() / 1024 ** 3),
    os: `${Os.type()} ${Os.release()}`,
    runtime: isBun ? `Bun ${(process.versions as Record<string, string>).bun}` : `Node.js ${process.version}`,
    databases: {} as Record<string, string>
  },
  options: { quick, rounds, millis, sizes, concurrencies, processCount, scales, sqliteSynchronous },
  startedAt: new Date().toISOString(),
  throughput: [] as Array<ThroughputRow>,
  scaling: [] as Array<ScalingRow>,
  memory: [] as Array<MemoryRow>,
  ceiling: [] as Array<CeilingRow>,
  startup: [] as Array<StartupRow>,
  langgraph: [] as Array<LangGraphRow>,
  floors: [] as Array<FloorRow>
}

// --- Interleaved rounds ------------------------------------------------------------------------------------------

type Measured = Pick<ThroughputRow, "opsPerSecond" | "ratio" | "ratioToBare" | "ratioToMultiRow">

/**
 * Rounds of A B C, C A B, …: every side runs once per round, in a rotating order; ratios are paired per round, against
 * each reference side present (raw, bare, multiRow).
 */
const compare = async <S extends { readonly name: string }>(
  sides: ReadonlyArray<S>,
  run: (side: S) => Promise<RunResult>,
  roundCount = rounds
): Promise<Measured> => {
  const perSide = new Map<string, Array<number>>()
  const references = ["raw", "bare", "multiRow"] as const
  const ratios = new Map<string, Map<string, Array<number>>>(references.map((reference) => [reference, new Map()]))
  for (let round = 0; round < roundCount; round++) {
    const inRound = new Map<string, number>()
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(round + k) % sides.length]!
      const { ops, seconds } = await run(side)
      inRound.set(side.name, ops / seconds)
    }
    for (const [name, value] of inRound) perSide.set(name, [...(perSide.get(name) ?? []), value])
    for (const reference of references) {
      const base = inRound.get(reference)
      if (base === undefined) continue
      const byName = ratios.get(reference)!
      for (const [name, value] of inRound) {
        // Ours against each reference; the references against raw only.
        if (name === reference || (reference !== "raw" && references.includes(name as never))) continue
        byName.set(name, [...(byName.get(name) ?? []), value / base])
      }
    }
  }
  const medians = (reference: string) =>
    Object.fromEntries([...ratios.get(reference)!].map(([name, values]) => [name, median(values)]))
  return {
    opsPerSecond: Object.fromEntries([...perSide].map(([name, values]) => [name, median(values)])),
    ratio: medians("raw"),
    ratioToBare: medians("bare"),
    ratioToMultiRow: medians("multiRow")
  }
}

// --- Sections ----------------------------------------------------------------------------------------------------

// One caller: every side, the bare SqlClient included (the floors of our own cost). Several callers: raw, Effect and
// facade (the bare side is one caller's floor; coalescing concurrent stores is the storage's own doing).
const throughput = async (database: BenchDatabase, sides: ReadonlyArray<Side>) => {
  const db = database.db
  const concurrentSides = sides.filter((side) => side.name !== "bare")
  for (const size of sizes) {
    const count = size === "1MiB" ? 8 : size === "64KiB" ? 32 : 256
    const work: Workload = { inputs: checkpoints(size, count), ids: [], sessionId: `bench-${size}`, pageSize: 50 }
    const minOps = size === "1MiB" ? 5 : 20
    // Warm-up: JIT, prepared statements, pool connections.
    for (const side of sides) await side.run("store", work, 1, quick ? 10 : 200, 2)
    if (sections.has("throughput")) {
      log(`${DB_NAMES[db]} ${size}: store ×1`)
      results.throughput.push({
        db, op: "store", size, callers: 1,
        ...(await compare(sides, (side) => side.run("store", work, 1, millis, minOps)))
      })
    }
    const ids = sides.flatMap((side) => side.storedIds.slice(-count * 4))
    const reads: Workload = { ...work, ids }
    if (sections.has("throughput")) {
      for (const op of ["retrieve", "latest", "listPage"] as const) {
        log(`${DB_NAMES[db]} ${size}: ${op} ×1`)
        results.throughput.push({
          db, op, size, callers: 1,
          ...(await compare(sides, (side) => side.run(op, reads, 1, millis, minOps)))
        })
      }
    }
    if (sections.has("concurrency") && size !== "1MiB") {
      for (const callers of concurrencies) {
        for (const op of ["store", "retrieve"] as const) {
          log(`${DB_NAMES[db]} ${size}: ${op} ×${callers}`)
          const ceiling = op === "store" && callers === Math.max(...concurrencies)
            ? multiRowSide(db, concurrentSides)
            : undefined
          const measured = await compare(
            ceiling === undefined ? concurrentSides : [...concurrentSides, ceiling.side],
            (side) => side.run(op, reads, callers, millis, callers * 2)
          )
          results.throughput.push({ db, op, size, callers, ...measured })
          if (ceiling !== undefined) {
            results.ceiling.push({
              db,
              size,
              rowsPerStatement: callers / ceiling.statementsInFlight,
              statementsInFlight: ceiling.statementsInFlight,
              rawOpsPerSecond: measured.opsPerSecond.raw ?? NaN,
              multiRowOpsPerSecond: measured.opsPerSecond.multiRow ?? NaN,
              ratio: measured.ratio.multiRow ?? NaN
            })
          }
        }
      }
    }
  }
  if (sections.has("throughput") && !flag("skip-list-all")) {
    log(`${DB_NAMES[db]}: listAll`)
    const work: Workload = { inputs: [], ids: [], sessionId: "", pageSize: 50 }
    results.throughput.push({
      db, op: "listAll", size: "-", callers: 1,
      ...(await compare(sides, (side) => side.run("listAll", work, 1, millis, 3)))
    })
  }
}

// The ceiling of coalescing, a fourth side of the stores from the most callers: the raw driver itself writing the same
// rows as multi-row INSERTs, with as many statements in flight as the storage's batcher allows and as many rows in
// flight as there are callers (64 callers: 2 INSERTs of 32 rows on the servers, 1 of 64 on SQLite), in the same
// interleaved rounds as the one-INSERT-per-call raw side and the storage. Its ops count rows.
const multiRowSide = (db: Db, sides: ReadonlyArray<Side>) => {
  const raw = sides.find((side) => side.name === "raw")
  if (raw?.runMultiRowInserts === undefined) return undefined
  const runMultiRow = raw.runMultiRowInserts
  const statementsInFlight = db === "sqlite" ? 1 : 2
  return {
    statementsInFlight,
    side: {
      name: "multiRow",
      run: (_op: OpName, work: Workload, callers: number, runMillis: number) =>
        runMultiRow(work, callers / statementsInFlight, statementsInFlight, runMillis)
    }
  }
}

const projectRoot = Path.resolve(import.meta.dirname, "..")
const workerCommand = (args: ReadonlyArray<string>): [string, Array<string>] =>
  isBun
    ? [process.execPath, [Path.join(projectRoot, "bench/worker.ts"), ...args]]
    : [Path.join(projectRoot, "node_modules/.bin/vite-node"), [Path.join(projectRoot, "bench/worker.ts"), "--", ...args]]

interface Worker {
  readonly request: (line: string) => Promise<Record<string, number>>
  readonly close: () => Promise<void>
}
const spawnWorker = (args: ReadonlyArray<string>): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const [command, commandArgs] = workerCommand(args)
    const child = ChildProcess.spawn(command, commandArgs, {
      cwd: projectRoot,
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim() }
    })
    const waiting: Array<(value: Record<string, number>) => void> = []
    let ready = false
    Readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return
      const message = JSON.parse(line) as Record<string, number>
      if (!ready && "ready" in message) {
        ready = true
        resolve({
          request: (request) =>
            new Promise((answer) => {
              waiting.push(answer)
              child.stdin!.write(`${request}\n`)
            }),
          close: () =>
            new Promise((done) => {
              child.once("exit", () => done())
              child.stdin!.write("exit\n")
            })
        })
      } else {
        waiting.shift()?.(message)
      }
    })
    child.once("exit", (code) => {
      if (!ready) reject(new Error(`worker ${args.join(" ")} exited with ${code}`))
    })
  })

/** Runs one worker to completion and returns its single JSON answer. */
const runWorkerOnce = (args: ReadonlyArray<string>): Promise<Record<string, number>> =>
  new Promise((resolve, reject) => {
    const [command, commandArgs] = workerCommand(args)
    const child = ChildProcess.spawn(command, commandArgs, {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim() }
    })
    let answer: Record<string, number> | undefined
    Readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("{")) answer = JSON.parse(line) as Record<string, number>
    })
    child.once("exit", (code) => (answer === undefined ? reject(new Error(`worker exited with ${code}`)) : resolve(answer)))
  })

const processes = async (database: BenchDatabase) => {
  log(`${DB_NAMES[database.db]}: store from ${processCount} processes`)
  const groups = new Map<string, ReadonlyArray<Worker>>()
  try {
    for (const side of ["raw", "effect"] as const) {
      groups.set(
        side,
        await Promise.all(Array.from({ length: processCount }, () =>
          spawnWorker(["store", side, database.db, database.connectionString])))
      )
    }
    const sides = [...groups].map(([name, workers]): Side => ({
      name: name as "raw" | "effect",
      storedIds: [],
      exec: async () => {},
      close: async () => {},
      run: async (_op, _work, _callers, runMillis) => {
        const answers = await Promise.all(workers.map((worker) => worker.request(JSON.stringify({ millis: runMillis }))))
        return {
          ops: answers.reduce((sum, answer) => sum + answer.ops!, 0),
          seconds: Math.max(...answers.map((answer) => answer.seconds!))
        }
      }
    }))
    for (const side of sides) await side.run("store", {} as Workload, 1, quick ? 20 : 300)
    results.throughput.push({
      db: database.db, op: "store×processes", size: "1KiB", callers: processCount,
      ...(await compare(sides, (side) => side.run("store", {} as Workload, 1, millis * 2)))
    })
  } finally {
    for (const workers of groups.values()) await Promise.all(workers.map((worker) => worker.close()))
  }
}

/**
 * Startup on an up-to-date database: the whole layer; `make` on a connected client (the client the layer builds,
 * `bareClientLayer`): what starting costs beyond connecting; and a raw connection plus one query.
 */
const startup = async (database: BenchDatabase) => {
  log(`${DB_NAMES[database.db]}: startup`)
  const times = { layer: [] as Array<number>, make: [] as Array<number>, raw: [] as Array<number> }
  const client = bareClientLayer(database.db, database.connectionString)
  for (let i = 0; i < (quick ? 2 : 9); i++) {
    let start = performance.now()
    let scope = Effect.runSync(Scope.make())
    await Effect.runPromise(Layer.buildWithScope(storageLayer(database.db, database.connectionString), scope))
    times.layer.push(performance.now() - start)
    await Effect.runPromise(Scope.close(scope, Exit.void))

    scope = Effect.runSync(Scope.make())
    const context = await Effect.runPromise(Layer.buildWithScope(client, scope))
    start = performance.now()
    await Effect.runPromise(Effect.provide(Scope.extend(makeSqlCheckpointStorage(), scope), context))
    times.make.push(performance.now() - start)
    await Effect.runPromise(Scope.close(scope, Exit.void))

    start = performance.now()
    const raw = await rawSide(database, 1)
    await raw.run("listPage", { inputs: [], ids: [], sessionId: "none", pageSize: 1 }, 1, 0)
    times.raw.push(performance.now() - start)
    await raw.close()
  }
  results.startup.push({
    db: database.db,
    layerBuildMs: median(times.layer),
    makeOnConnectedClientMs: median(times.make),
    rawConnectMs: median(times.raw)
  })
}

// Rows of the scaling tables: 10 sessions (so that a page is full, 50 rows, at every size from 1k rows on),
// 100 agents, small states; createdAt increasing with the row number.
const bulkLoad = async (raw: Side, db: Db, from: number, to: number) => {
  const chunk = 200_000
  for (let start = from; start <= to; start += chunk) {
    const end = Math.min(to, start + chunk - 1)
    if (db === "pg") {
      await raw.exec(`INSERT INTO "AgentCheckpoints" ("sessionId", "agentId", "name", "agentType", "createdAt", "state", "sizeBytes")
SELECT 'session-' || (g % 10), 'agent-' || (g % 100), 'step-' || g, 'coder', 1700000000000 + g, '{"step":' || g || '}', 12
FROM generate_series(${start}, ${end}) AS g`)
    } else if (db === "mysql") {
      // MariaDB's Sequence engine (seq_1_to_N) generates the numbers.
      await raw.exec(`INSERT INTO \`AgentCheckpoints\` (\`sessionId\`, \`agentId\`, \`name\`, \`agentType\`, \`createdAt\`, \`state\`, \`sizeBytes\`)
SELECT CONCAT('session-', seq % 10), CONCAT('agent-', seq % 100), CONCAT('step-', seq), 'coder', 1700000000000 + seq,
CONCAT('{"step":', seq, '}'), 12 FROM seq_${start}_to_${end}`)
    } else {
      await raw.exec(`WITH RECURSIVE g(x) AS (SELECT ${start} UNION ALL SELECT x + 1 FROM g WHERE x < ${end})
INSERT INTO "AgentCheckpoints" ("sessionId", "agentId", "name", "agentType", "createdAt", "state", "sizeBytes")
SELECT 'session-' || (x % 10), 'agent-' || (x % 100), 'step-' || x, 'coder', 1700000000000 + x, '{"step":' || x || '}', 12 FROM g`)
    }
  }
  await raw.exec(db === "pg" ? `ANALYZE "AgentCheckpoints"` : db === "mysql" ? "ANALYZE TABLE `AgentCheckpoints`" : "ANALYZE")
}

const scaling = async (db: Db) => {
  const database = await createDatabase(db)
  try {
    const effect = await effectSide(database) // builds the tables
    const raw = await rawSide(database)
    const sides = [raw, effect]
    const micros = new Map<string, Record<number, number>>()
    let loaded = 0
    for (const rows of scales) {
      log(`${DB_NAMES[db]}: scaling, loading ${fmt(rows)} rows`)
      const started = performance.now()
      await bulkLoad(raw, db, loaded + 1, rows)
      loaded = rows
      log(`${DB_NAMES[db]}: loaded in ${fmt((performance.now() - started) / 1000, 1)} s`)
      // Ids spread over the whole table; the session of 1/10 of the rows; a page half-way down its history.
      const ids = Array.from({ length: 997 }, (_, i) => String(1 + Math.floor((i * rows) / 997)))
      const work: Workload = {
        inputs: [], ids, sessionId: "session-7", pageSize: 50, before: 1_700_000_000_000 + Math.floor(rows / 2)
      }
      for (const op of ["retrieve", "latest", "listPage", "deepPage"] as const) {
        for (const side of sides) await side.run(op, work, 1, quick ? 5 : 100, 3)
        const perSide = await compare(sides, (side) => side.run(op, work, 1, quick ? 30 : 400, 5), quick ? 1 : 3)
        for (const side of sides) {
          const key = `${op}:${side.name}`
          micros.set(key, { ...(micros.get(key) ?? {}), [rows]: 1e6 / perSide.opsPerSecond[side.name]! })
        }
      }
      if (rows === memoryRows) {
        for (const mode of ["effect-stream", "facade-stream", "effect-list", "raw-all"]) {
          log(`${DB_NAMES[db]}: peak memory of ${mode} over ${fmt(rows)} rows`)
          const answer = await runWorkerOnce(["memory", mode, db, database.connectionString])
          results.memory.push({
            db, mode, rows: answer.rows!, peakAboveBaselineMiB: answer.peakMiB!, peakHeapAboveBaselineMiB: answer.peakHeapMiB!
          })
        }
      }
    }
    for (const [key, values] of micros) {
      const [op, side] = key.split(":") as [OpName, "raw" | "effect"]
      results.scaling.push({ db, op, side, micros: values })
    }
    await raw.close()
    await effect.close()
  } finally {
    await database.drop()
  }
}

// --- Report ------------------------------------------------------------------------------------------------------

const report = (): string => {
  const lines: Array<string> = []
  const m = results.machine
  lines.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; ${m.runtime}; ${
    Object.entries(m.databases).map(([k, v]) => `${k} ${v}`).join(", ")
  }${dbs.includes("sqlite") ? ` (synchronous=${sqliteSynchronous.toUpperCase()} on both sides)` : ""}`)
  lines.push(
    `Medians of ${rounds} interleaved round(s) of ${millis} ms; a ratio is the median of (ours ÷ raw driver, or ÷ bare SqlClient) in the same round.`,
    ""
  )
  if (results.throughput.length > 0) {
    lines.push(
      "| database | operation | state | callers | raw ops/s | bare SqlClient ops/s | Effect ops/s | Promise ops/s | Effect ÷ raw | Promise ÷ raw | Effect ÷ bare | Promise ÷ bare |"
    )
    lines.push("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for (const row of results.throughput) {
      const ops = row.opsPerSecond
      lines.push(`| ${DB_NAMES[row.db]} | ${row.op} | ${row.size} | ${row.callers} | ${fmt(ops.raw ?? NaN)} | ${fmt(ops.bare ?? NaN)} | ${
        fmt(ops.effect ?? NaN)
      } | ${fmt(ops.promise ?? NaN)} | ${fmt(row.ratio.effect ?? NaN, 2)} | ${fmt(row.ratio.promise ?? NaN, 2)} | ${
        fmt(row.ratioToBare.effect ?? NaN, 2)
      } | ${fmt(row.ratioToBare.promise ?? NaN, 2)} |`)
    }
    lines.push("")
  }
  if (results.ceiling.length > 0) {
    lines.push("The ceiling of coalescing: the raw driver's own multi-row INSERTs against its one INSERT per call.", "")
    lines.push("| database | state | rows per INSERT | INSERTs in flight | raw, one per call, rows/s | raw multi-row rows/s | multi-row ÷ one per call |")
    lines.push("|---|---|--:|--:|--:|--:|--:|")
    for (const row of results.ceiling) {
      lines.push(`| ${DB_NAMES[row.db]} | ${row.size} | ${row.rowsPerStatement} | ${row.statementsInFlight} | ${
        fmt(row.rawOpsPerSecond)
      } | ${fmt(row.multiRowOpsPerSecond)} | ${fmt(row.ratio, 2)} |`)
    }
    lines.push("")
  }
  if (results.scaling.length > 0) {
    lines.push(`| database | operation | side | ${scales.map((n) => `${fmt(n)} rows µs`).join(" | ")} | largest ÷ 1k |`)
    lines.push(`|---|---|---|${scales.map(() => "--:").join("|")}|--:|`)
    for (const row of results.scaling) {
      const first = row.micros[scales[0]!]!
      const last = row.micros[scales.at(-1)!]!
      lines.push(`| ${DB_NAMES[row.db]} | ${row.op} | ${row.side} | ${scales.map((n) => fmt(row.micros[n] ?? NaN)).join(" | ")} | ${
        fmt(last / first, 2)
      } |`)
    }
    lines.push("")
  }
  if (results.memory.length > 0) {
    lines.push("| database | full listing | rows | peak RSS above baseline MiB | peak heap + external above baseline MiB |")
    lines.push("|---|---|--:|--:|--:|")
    for (const row of results.memory) {
      lines.push(`| ${DB_NAMES[row.db]} | ${row.mode} | ${row.rows < 0 ? fmt(memoryRows) : fmt(row.rows)} | ${
        fmt(row.peakAboveBaselineMiB, 1)
      } | ${fmt(row.peakHeapAboveBaselineMiB, 1)} |`)
    }
    lines.push("")
  }
  if (results.startup.length > 0) {
    lines.push("| database | layer build ms (connect + migrations check) | make() on a connected client ms | raw driver connect + 1 query ms |")
    lines.push("|---|--:|--:|--:|")
    for (const row of results.startup) {
      lines.push(`| ${DB_NAMES[row.db]} | ${fmt(row.layerBuildMs, 1)} | ${fmt(row.makeOnConnectedClientMs, 1)} | ${fmt(row.rawConnectMs, 1)} |`)
    }
    lines.push("")
  }
  lines.push(...langGraphReport(results.langgraph, (db) => DB_NAMES[db]))
  if (results.floors.length > 0) {
    lines.push("The floors of issue 19 (\"One path\") and of the LangGraph saver (ours at least as fast as LangGraph's own), judged on this run:", "")
    lines.push("| database | floor | measured | verdict |")
    lines.push("|---|---|---|---|")
    for (const row of results.floors) {
      lines.push(`| ${DB_NAMES[row.db]} | ${row.floor} | ${row.measured} | ${row.pass ? "PASS" : "FAIL"} |`)
    }
  }
  return lines.join("\n")
}

// --- Floors --------------------------------------------------------------------------------------------------------

/**
 * The performance floors of issue 19, each judged on what this run measured (a floor whose section did not run is
 * left out). Ratios to the bare SqlClient and to the raw driver are judged on 1 KiB states, one caller: where our own
 * cost is the largest share of a call; the tables give the other sizes.
 */
const judgeFloors = (): Array<FloorRow> => {
  const floors: Array<FloorRow> = []
  const add = (db: Db, floor: string, value: number, pass: (value: number) => boolean, measured: string) => {
    if (Number.isFinite(value)) floors.push({ db, floor, measured, pass: pass(value) })
  }
  const row = (db: Db, op: string, size: string, callers: number) =>
    results.throughput.find((r) => r.db === db && r.op === op && r.size === size && r.callers === callers)
  const most = Math.max(...concurrencies)
  for (const db of dbs) {
    for (const op of ["store", "retrieve", "latest", "listPage"] as const) {
      const measured = row(db, op, "1KiB", 1)?.ratioToBare
      const name = op === "listPage" ? "a page of 50" : op
      add(db, `${name}, 1 KiB, 1 caller: Effect ≥ 0.90 × bare SqlClient`, measured?.effect ?? NaN, (v) => v >= 0.9,
        fmt(measured?.effect ?? NaN, 2))
      add(db, `${name}, 1 KiB, 1 caller: facade ≥ 0.85 × bare SqlClient`, measured?.promise ?? NaN, (v) => v >= 0.85,
        fmt(measured?.promise ?? NaN, 2))
    }
    const vsRaw = (op: "store" | "retrieve", floor: number) => {
      const measured = row(db, op, "1KiB", 1)?.ratio
      add(db, `${op}, 1 KiB, 1 caller: Effect > ${fmt(floor, 2)} × raw driver`, measured?.effect ?? NaN, (v) => v > floor,
        `${fmt(measured?.effect ?? NaN, 2)} (facade ${fmt(measured?.promise ?? NaN, 2)})`)
    }
    vsRaw("store", 0.5)
    vsRaw("retrieve", db === "sqlite" ? 0.65 : 0.8)
    const stores = row(db, "store", "1KiB", most)
    if (db === "sqlite") {
      add(db, `${most} concurrent stores, 1 KiB: Effect ≥ 0.80 × the driver's own ${most}-row INSERTs (same rounds)`,
        stores?.ratioToMultiRow.effect ?? NaN, (v) => v >= 0.8,
        `${fmt(stores?.ratioToMultiRow.effect ?? NaN, 2)} (${fmt(stores?.ratio.effect ?? NaN, 2)} × raw one per call; its ceiling ${
          fmt(stores?.ratio.multiRow ?? NaN, 2)
        } ×)`)
    } else {
      add(db, `${most} concurrent stores, 1 KiB: Effect ≥ 2.5 × raw one INSERT per call`, stores?.ratio.effect ?? NaN,
        (v) => v >= 2.5,
        `${fmt(stores?.ratio.effect ?? NaN, 2)} (facade ${fmt(stores?.ratio.promise ?? NaN, 2)}; multi-row ceiling ${
          fmt(stores?.ratio.multiRow ?? NaN, 2)
        } ×)`)
    }
    const scaling = results.scaling.filter((r) => r.db === db && r.side === "effect")
    const largest = scales.at(-1)!
    if (scaling.length > 0 && scales.length > 1) {
      const growth = scaling.map((r) => ({ op: r.op, growth: r.micros[largest]! / r.micros[scales[0]!]! }))
      const worst = growth.reduce((a, b) => (b.growth > a.growth ? b : a))
      add(db, `${fmt(largest)} rows within 1.5 × of ${fmt(scales[0]!)} (Effect, µs per call)`, worst.growth, (v) => v <= 1.5,
        `worst ${worst.op} ${fmt(worst.growth, 2)} × (${growth.map((g) => `${g.op} ${fmt(g.growth, 2)}`).join(", ")})`)
    }
    const streams = results.memory.filter((r) => r.db === db && r.mode.endsWith("-stream"))
    if (streams.length > 0) {
      const worst = Math.max(...streams.map((r) => r.peakAboveBaselineMiB))
      add(db, `streaming ${fmt(memoryRows)} rows within 50 MiB (peak RSS above baseline)`, worst, (v) => v <= 50,
        streams.map((r) => `${r.mode} ${fmt(r.peakAboveBaselineMiB, 1)} MiB`).join(", "))
    }
    const start = results.startup.find((r) => r.db === db)
    if (start !== undefined) {
      add(db, "start < 50 ms beyond connecting (make() on a connected client)", start.makeOnConnectedClientMs, (v) => v < 50,
        `${fmt(start.makeOnConnectedClientMs, 1)} ms (whole layer ${fmt(start.layerBuildMs, 1)} ms)`)
    }
  }
  return floors
}

const databaseVersion = async (db: Db): Promise<string> => {
  if (db === "sqlite") {
    if (isBun) return "bun:sqlite"
    const { default: Database } = await import("better-sqlite3")
    const memory = new Database(":memory:")
    const row = memory.prepare("SELECT sqlite_version() AS v").get() as { v: string }
    memory.close()
    return `SQLite ${row.v}`
  }
  const database = await createDatabase(db)
  try {
    const effect = await effectSide(database)
    await effect.close()
    if (db === "pg") {
      const { default: pg } = await import("pg")
      const client = new pg.Client({ connectionString: database.connectionString })
      await client.connect()
      const result = await client.query("SHOW server_version")
      await client.end()
      return `PostgreSQL ${result.rows[0].server_version}`
    }
    const mysql = await import("mysql2/promise")
    const connection = await mysql.createConnection({ uri: database.connectionString })
    const [rows] = await connection.query("SELECT VERSION() AS v")
    await connection.end()
    return `MariaDB/MySQL ${(rows as Array<{ v: string }>)[0]!.v}`
  } finally {
    await database.drop()
  }
}

const main = async () => {
  const started = performance.now()
  for (const db of dbs) results.machine.databases[db] = await databaseVersion(db)
  for (const db of dbs) {
    if (sections.has("throughput") || sections.has("concurrency") || sections.has("processes") || sections.has("startup")) {
      const database = await createDatabase(db)
      try {
        // Ours first: building it creates the tables the raw side prepares its statements on.
        const effect = await effectSide(database)
        const different = await checkSameStatements(database)
        if (different.length > 0) {
          throw new Error(`the bare SqlClient side would run statements the storage does not:\n${different.join("\n")}`)
        }
        const sides = [await rawSide(database), await bareSide(database), effect, await promiseFacadeSide(database)]
        if (sections.has("throughput") || sections.has("concurrency")) await throughput(database, sides)
        if (sections.has("processes")) await processes(database)
        if (sections.has("startup")) await startup(database)
        for (const side of sides) await side.close()
      } finally {
        await database.drop()
      }
    }
    if (sections.has("scaling")) await scaling(db)
    if (sections.has("langgraph")) results.langgraph.push(...(await runLangGraph(db, { rounds, millis, quick, log })))
  }
  results.floors.push(...judgeFloors(), ...langGraphFloors(results.langgraph))
  const table = report()
  console.log(table)
  Fs.mkdirSync(Path.dirname(outFile), { recursive: true })
  Fs.writeFileSync(outFile, `${JSON.stringify({ ...results, seconds: (performance.now() - started) / 1000 }, null, 2)}\n`)
  log(`results: ${outFile}`)
  // The chart draws the throughput and scaling sections: a run without them (--only langgraph) leaves it as it was.
  if (chartFile !== undefined && (option("chart") !== undefined || results.throughput.length > 0 || results.scaling.length > 0)) {
    Fs.writeFileSync(chartFile, renderChart(results))
    log(`chart: ${chartFile}`)
  }
  log(`done in ${fmt((performance.now() - started) / 1000, 1)} s`)
}

try {
  await main()
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
// Pools closed, databases dropped: nothing should keep the process alive, but a stray socket must not hang CI.
setTimeout(() => process.exit(), 1000).unref()
export type BenchResults = typeof results
