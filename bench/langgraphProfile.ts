/**
 * Where a LangGraph saver spends an operation: the statements it sends per call, the time spent inside the driver
 * (for PostgreSQL the whole round trip, for SQLite the synchronous execution) and the rest (serialisation, the Effect
 * runtime, the saver's own code). Both savers are counted the same way, by wrapping the driver's own methods
 * (node-postgres `Client.prototype.query`; better-sqlite3 `Database.prototype.prepare`/`exec` and the statements'
 * `run`/`get`/`all`/`iterate`) before either saver is opened.
 *
 *   node_modules/.bin/vite-node bench/langgraphProfile.ts -- <db> [n] [ours|theirs] [--op put] [--statements]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof node_modules/vite-node/vite-node.mjs bench/langgraphProfile.ts -- sqlite 2000
 *
 * db: pg, mysql (ours only, statements not counted) or sqlite; n: calls per operation (default 500); ours or theirs:
 * that side only (both by default); --op: that operation only (put, putWrites, getTuple-latest, getTuple-by-id,
 * list-20; all by default); --statements: each statement text with its calls per operation and its mean time.
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint"
import { cleanupAll, createDatabase, type Db } from "./databases.js"
import { LANGGRAPH_OPS, type LangGraphOp } from "./langgraph.js"
import { oursSide, type SaverSide, theirsSide } from "./langgraphSavers.js"
import { agentThread } from "./langgraphWorkload.js"

const args = process.argv.slice(2).filter((arg) => arg !== "--")
const db = (args[0] ?? "sqlite") as Db
const n = Number(args.find((arg, i) => i > 0 && /^\d+$/.test(arg)) ?? 500)
const showStatements = args.includes("--statements")
const only = args.find((arg) => arg === "ours" || arg === "theirs")
const opArgument = args[args.indexOf("--op") + 1]?.replace(/-/g, " ")
const ops = LANGGRAPH_OPS.filter((op) => !args.includes("--op") || op === opArgument)

interface Tally {
  statements: number
  prepares: number
  driverMs: number
  /** By statement text (its first 150 characters): calls and milliseconds in the driver. */
  texts: Map<string, { calls: number; ms: number }>
}
const tally: Tally = { statements: 0, prepares: 0, driverMs: 0, texts: new Map() }
const record = (text: unknown, ms: number) => {
  tally.statements++
  tally.driverMs += ms
  if (showStatements) {
    const key = String(text).replace(/\s+/g, " ").trim().slice(0, 150)
    const entry = tally.texts.get(key) ?? { calls: 0, ms: 0 }
    entry.calls++
    entry.ms += ms
    tally.texts.set(key, entry)
  }
}

type Method = (this: unknown, ...args: Array<unknown>) => unknown
const wrap = (target: Record<string, unknown>, name: string, around: (original: Method) => Method) => {
  const original = target[name] as Method
  target[name] = around(original)
}

if (db === "pg") {
  const { default: pg } = await import("pg")
  wrap(pg.Client.prototype as unknown as Record<string, unknown>, "query", (original) =>
    function(this: unknown, ...callArgs) {
      const started = performance.now()
      const config = callArgs[0]
      const text = typeof config === "string" ? config : (config as { readonly text?: unknown } | null)?.text
      // The callback form (pool.query, @effect/sql-pg) or the promise form (a client checked out of the pool).
      const callback = callArgs.at(-1)
      if (typeof callback === "function") {
        callArgs[callArgs.length - 1] = (...results: Array<unknown>) => {
          record(text, performance.now() - started)
          return (callback as Method).apply(this, results)
        }
        return original.apply(this, callArgs)
      }
      const result = original.apply(this, callArgs)
      return result instanceof Promise ? result.finally(() => record(text, performance.now() - started)) : result
    })
} else if (db === "sqlite") {
  const { default: Database } = await import("better-sqlite3")
  const probe = new Database(":memory:")
  const statementPrototype = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, unknown>
  probe.close()
  for (const name of ["run", "get", "all", "iterate"]) {
    wrap(statementPrototype, name, (original) =>
      function(this: unknown, ...callArgs) {
        const started = performance.now()
        try {
          return original.apply(this, callArgs)
        } finally {
          record((this as { readonly source: string }).source, performance.now() - started)
        }
      })
  }
  const databasePrototype = Database.prototype as unknown as Record<string, unknown>
  wrap(databasePrototype, "prepare", (original) =>
    function(this: unknown, ...callArgs) {
      tally.prepares++
      const started = performance.now()
      try {
        return original.apply(this, callArgs)
      } finally {
        tally.driverMs += performance.now() - started
      }
    })
  wrap(databasePrototype, "exec", (original) =>
    function(this: unknown, ...callArgs) {
      const started = performance.now()
      try {
        return original.apply(this, callArgs)
      } finally {
        record(callArgs[0], performance.now() - started)
      }
    })
}

const thread = agentThread(24)
const configOf = (threadId: string, checkpointId?: string) => ({
  configurable: { thread_id: threadId, checkpoint_ns: "", ...(checkpointId === undefined ? {} : { checkpoint_id: checkpointId }) }
})

const operation = (saver: BaseCheckpointSaver, op: LangGraphOp, i: number): Promise<unknown> => {
  const step = thread[i % thread.length]!
  switch (op) {
    case "put":
      return saver.put(configOf(`agent-${Math.floor(i / thread.length)}`, step.parentId), step.checkpoint, step.metadata, step.newVersions)
    case "putWrites": {
      const k = (i % (thread.length - 1)) + 1
      return saver.putWrites(
        configOf(`agent-${Math.floor(i / (thread.length - 1))}`, thread[k - 1]!.checkpoint.id),
        [...thread[k]!.writes],
        thread[k]!.taskId
      )
    }
    case "getTuple latest":
      return saver.getTuple(configOf(`read-${i % 4}`))
    case "getTuple by id":
      return saver.getTuple(configOf(`read-${i % 4}`, thread[(i * 7) % thread.length]!.checkpoint.id))
    case "list 20":
      return (async () => {
        for await (const _ of saver.list(configOf(`read-${i % 4}`), { limit: 20 })) {
          // consumed
        }
      })()
  }
}

const profile = async (side: SaverSide) => {
  for (let t = 0; t < 4; t++) {
    for (let k = 0; k < thread.length; k++) {
      if (k > 0) {
        await side.saver.putWrites(configOf(`read-${t}`, thread[k - 1]!.checkpoint.id), [...thread[k]!.writes], thread[k]!.taskId)
      }
      await side.saver.put(configOf(`read-${t}`, thread[k]!.parentId), thread[k]!.checkpoint, thread[k]!.metadata, thread[k]!.newVersions)
    }
  }
  for (const op of ops) {
    // Warm-up on rows of their own (the put and putWrites counters start past them).
    for (let i = 0; i < Math.min(200, n); i++) await operation(side.saver, op, n + i)
    Object.assign(tally, { statements: 0, prepares: 0, driverMs: 0, texts: new Map() })
    const started = performance.now()
    for (let i = 0; i < n; i++) await operation(side.saver, op, i)
    const micros = (1000 * (performance.now() - started)) / n
    const driver = (1000 * tally.driverMs) / n
    console.log(
      `${db} ${side.label.padEnd(18)} ${op.padEnd(16)} ${micros.toFixed(0).padStart(6)} µs/call  ${
        (tally.statements / n).toFixed(1)
      } statements/call  ${(tally.prepares / n).toFixed(1)} prepares/call  driver ${driver.toFixed(0)} µs  rest ${
        (micros - driver).toFixed(0)
      } µs`
    )
    for (const [text, { calls, ms }] of tally.texts) {
      console.log(`    ${(calls / n).toFixed(1)}× ${((1000 * ms) / calls).toFixed(0).padStart(5)} µs  ${text}`)
    }
  }
}

try {
  const database = await createDatabase(db)
  if (only !== "theirs") {
    const ours = await oursSide(database)
    await profile(ours)
    await ours.close()
  }
  const theirsDatabase = db === "sqlite" ? await createDatabase(db) : database
  const theirs = only === "ours" ? undefined : await theirsSide(theirsDatabase)
  if (theirs !== undefined) {
    await profile(theirs)
    await theirs.close()
  }
} finally {
  await cleanupAll()
}
