/**
 * A benchmark process of its own, driven by the runner over stdin/stdout (one JSON line each way).
 *
 *   store <side> <db> <connectionString>   then lines `{"millis":N}` → `{"ops":…,"seconds":…}`; `exit` ends it
 *   memory <mode> <db> <connectionString> [pageSize]
 *                                          streams or lists every row once → `{"rows":…,"baselineMiB":…,"peakMiB":…}`
 *                                          (pageSize: the streams' page size, default the storage's)
 *
 * Memory is measured in a fresh process so that the baseline is the process with the storage built and nothing
 * else: peak RSS while listing, minus RSS before.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import * as Readline from "node:readline"
import { CheckpointStorage } from "../src/index.js"
import type { BenchDatabase, Db } from "./databases.js"
import { effectSide, promiseFacadeSide, rawSide, type Side, storageLayer } from "./subjects.js"
import { checkpoints } from "./workload.js"

const args = process.argv.slice(2).filter((arg) => arg !== "--")
const [command, mode, db, connectionString, pageSizeArg] = args as [string, string, Db, string, string | undefined]
const database: BenchDatabase = { db, connectionString, drop: async () => {} }
const mib = (bytes: number) => bytes / 1024 / 1024
const gc = (globalThis as { gc?: () => void }).gc

const storeWorker = async () => {
  const side: Side = mode === "raw"
    ? await rawSide(database, 2)
    : mode === "effect"
    ? await effectSide(database)
    : await promiseFacadeSide(database)
  const inputs = checkpoints("1KiB", 64, process.pid)
  const lines = Readline.createInterface({ input: process.stdin })
  console.log(JSON.stringify({ ready: true }))
  for await (const line of lines) {
    if (line.trim() === "exit") break
    const { millis } = JSON.parse(line) as { millis: number }
    const result = await side.run("store", { inputs, ids: [], sessionId: "processes", pageSize: 50 }, 1, millis)
    console.log(JSON.stringify(result))
  }
  await side.close()
}

const memoryWorker = async () => {
  const streamOptions = pageSizeArg === undefined ? undefined : { pageSize: Number(pageSizeArg) }
  let rows = 0
  let peak = 0
  let baseline = 0
  let peakHeap = 0
  let baselineHeap = 0
  // RSS, and the JavaScript heap plus the buffers outside it (what the listing itself allocates).
  const heap = () => {
    const usage = process.memoryUsage()
    return usage.heapUsed + usage.external
  }
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss())
    peakHeap = Math.max(peakHeap, heap())
  }
  // The kernel's own peak RSS (VmHWM), reset at the baseline (writing 5 to clear_refs, Linux 4.0+): exact, where
  // sampling misses a peak that a GC ends between two samples, or that a synchronous stretch (a SQLite page, a
  // stream's pages run without yielding to the timer) hides. Elsewhere the sampling alone.
  const kernelPeak = {
    reset: (): boolean => {
      try {
        Fs.writeFileSync("/proc/self/clear_refs", "5")
        return true
      } catch {
        return false
      }
    },
    read: (): number | undefined => {
      const kib = /^VmHWM:\s+(\d+) kB$/m.exec(Fs.readFileSync("/proc/self/status", "utf8"))?.[1]
      return kib === undefined ? undefined : Number(kib) * 1024
    }
  }
  let kernelPeakReset = false
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    baseline = process.memoryUsage.rss()
    peak = baseline
    baselineHeap = heap()
    peakHeap = baselineHeap
    kernelPeakReset = kernelPeak.reset()
  }
  let timer: ReturnType<typeof setInterval> | undefined
  const start = () => {
    timer = setInterval(sample, 2)
  }
  if (mode === "raw-all") {
    const raw = await rawSide(database, 1)
    await raw.run("listPage", { inputs: [], ids: [], sessionId: "none", pageSize: 1 }, 1, 0)
    await settle()
    start()
    await raw.run("listAll", { inputs: [], ids: [], sessionId: "", pageSize: 1 }, 1, 0)
    rows = -1 // every row, read at once (not counted here)
    await raw.close()
  } else if (mode === "facade-stream") {
    const { PostgresStorage, MySQLStorage, SQLiteStorage } = await import("../src/index.js")
    const storage = db === "pg"
      ? new PostgresStorage({ connectionString })
      : db === "mysql"
      ? new MySQLStorage({ connectionString })
      : new SQLiteStorage({ databasePath: connectionString })
    await storage.start()
    await storage.listAgentCheckpointPage({ limit: 1 })
    await settle()
    start()
    for await (const _ of storage.streamAgentCheckpoints(streamOptions)) rows++
    await storage.stop()
  } else {
    const scope = Effect.runSync(Scope.make())
    const context = await Effect.runPromise(Layer.buildWithScope(storageLayer(db, connectionString), scope))
    const storage = Context.get(context, CheckpointStorage)
    await Effect.runPromise(storage.listAgentCheckpoints({ limit: 1 }))
    await settle()
    start()
    rows = await Effect.runPromise(
      mode === "effect-stream"
        ? Stream.runFold(storage.streamAgentCheckpoints(streamOptions), 0, (n) => n + 1)
        : Effect.map(storage.listAgentCheckpoints(), (items) => items.length)
    )
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  sample()
  clearInterval(timer)
  if (kernelPeakReset) peak = Math.max(peak, kernelPeak.read() ?? 0)
  console.log(JSON.stringify({
    rows,
    baselineMiB: mib(baseline),
    peakMiB: mib(peak - baseline),
    peakHeapMiB: mib(peakHeap - baselineHeap)
  }))
}

if (command === "store") await storeWorker()
else if (command === "memory") await memoryWorker()
else throw new Error(`unknown worker command ${command}`)
process.exit(0)
