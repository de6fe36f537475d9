/**
 * The workload of the network and server fault tests: writers storing checkpoints in a loop (and reading back what
 * they stored) while a test breaks the network or the server, a record of every operation, and the checks and
 * figures made from it afterwards.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Fiber, Option } from "effect"
import { type CheckpointStorage, type NamedAgentCheckpoint } from "../../../src/index.js"

export interface OperationRecord {
  readonly writer: number
  readonly kind: "store" | "retrieve"
  readonly start: number
  readonly end: number
  /** "ok", or the failure's `_tag`. */
  readonly outcome: string
  readonly code?: string | undefined
}

export interface Writers {
  readonly records: Array<OperationRecord>
  /** Every store that returned an id: the id and the exact JSON text of the state it stored. */
  readonly acknowledged: Map<string, string>
  /** Checkpoints read back whose state was not the one stored. */
  readonly corruptReads: Array<string>
  /** Stops the writers (each finishes the operation it is in, which is bounded by the operation timeout). */
  readonly stop: Effect.Effect<void>
}

// A deterministic pseudo-random generator (mulberry32), so that a failing run can be replayed.
const random = (seed: number) => () => {
  seed = (seed + 0x6D2B79F5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 é✓€😀\"\\\n\t"

/** A state of 1 to 8 KiB, one in ten of about 256 KiB (a write long enough to be cut in the middle). */
export const makeState = (writer: number, seq: number, next: () => number): Record<string, unknown> => {
  const chars = Array.from(alphabet)
  const length = seq % 10 === 9 ? 128 * 1024 : 256 + Math.floor(next() * 4096)
  let text = ""
  for (let i = 0; i < length; i++) text += chars[Math.floor(next() * chars.length)]
  return { writer, seq, text, nested: { list: [seq, -seq, seq / 7, true, null], unicode: "ü😀\u0000" } }
}

const now = () => performance.now()

/**
 * Starts `count` writers on the storage, until stopped or until `maxMillis` have passed (a hard bound). Writer `i`
 * stores with `parentId` when `i` is odd (a transaction), without otherwise; every third operation reads back a
 * checkpoint it stored and compares its state with what was stored.
 */
export const startWriters = (storage: typeof CheckpointStorage.Service, options: {
  readonly count: number
  readonly parentId: string
  readonly maxMillis: number
  readonly pauseAfterFailure?: Duration.DurationInput
}) =>
  Effect.gen(function*() {
    const records: Array<OperationRecord> = []
    const acknowledged = new Map<string, string>()
    const corruptReads: Array<string> = []
    const deadline = now() + options.maxMillis
    let stopped = false

    const writer = (index: number) =>
      Effect.gen(function*() {
        const next = random(1000 + index)
        const mine: Array<string> = []
        let seq = 0
        while (!stopped && now() < deadline) {
          seq++
          const start = now()
          const readBack = seq % 3 === 0 && mine.length > 0
          if (readBack) {
            const id = mine[Math.floor(next() * mine.length)]!
            const result = yield* Effect.either(storage.retrieveAgentCheckpoint(id))
            records.push({
              writer: index,
              kind: "retrieve",
              start,
              end: now(),
              outcome: result._tag === "Right" ? "ok" : result.left._tag,
              code: result._tag === "Left" && "code" in result.left ? result.left.code : undefined
            })
            if (result._tag === "Right") {
              const stored = Option.getOrUndefined(result.right)
              if (stored === undefined || JSON.stringify(stored.state) !== acknowledged.get(id)) corruptReads.push(id)
            }
          } else {
            const state = makeState(index, seq, next)
            const checkpoint: NamedAgentCheckpoint = {
              agentId: `writer-${index}`,
              sessionId: "fault-session",
              agentType: "fault-test",
              name: `w${index}-${seq}`,
              state,
              createdAt: Date.now(),
              ...(index % 2 === 1 ? { parentId: options.parentId } : {})
            }
            const result = yield* Effect.either(storage.storeAgentCheckpoint(checkpoint))
            records.push({
              writer: index,
              kind: "store",
              start,
              end: now(),
              outcome: result._tag === "Right" ? "ok" : result.left._tag,
              code: result._tag === "Left" && "code" in result.left ? result.left.code : undefined
            })
            if (result._tag === "Right") {
              acknowledged.set(result.right, JSON.stringify(state))
              mine.push(result.right)
            }
          }
          const last = records.at(-1)
          if (last !== undefined && last.outcome !== "ok") {
            yield* Effect.sleep(options.pauseAfterFailure ?? Duration.millis(50))
          }
        }
      })

    const fibers = yield* Effect.forEach(
      Array.from({ length: options.count }, (_, i) => i),
      (i) => Effect.fork(writer(i))
    )
    const stop = Effect.suspend(() => {
      stopped = true
      return Fiber.joinAll(fibers)
    })
    return { records, acknowledged, corruptReads, stop } satisfies Writers
  })

/** Waits (bounded) until a writer operation that started after `since` succeeded; its end time, or undefined. */
export const waitForSuccessAfter = (writers: Writers, since: number, maxMillis: number) =>
  Effect.gen(function*() {
    const deadline = now() + maxMillis
    while (now() < deadline) {
      const success = writers.records.find((record) => record.start >= since && record.outcome === "ok")
      if (success !== undefined) return success.end
      yield* Effect.sleep(Duration.millis(25))
    }
    return undefined
  })

/** Waits (bounded) until some operation failed after `since`; its end time, or undefined. */
export const waitForFailureAfter = (writers: Writers, since: number, maxMillis: number) =>
  Effect.gen(function*() {
    const deadline = now() + maxMillis
    for (;;) {
      const failure = writers.records.find((record) => record.end >= since && record.outcome !== "ok")
      if (failure !== undefined) return failure.end
      if (now() >= deadline) return undefined
      yield* Effect.sleep(Duration.millis(25))
    }
  })

export interface StoredRow {
  readonly id: string
  readonly state: string
  readonly sizeBytes: number
}

/** Every agent checkpoint row as the database holds it, read behind the storage's back. */
export const readAgentRows = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql.withoutTransforms()<{ readonly id: unknown; readonly state: unknown; readonly sizeBytes: unknown }>`SELECT ${
      sql("id")
    }, ${sql("state")}, ${sql("sizeBytes")} FROM ${sql("AgentCheckpoints")}`,
    (rows): Array<StoredRow> =>
      rows.map((row) => ({ id: String(row.id), state: String(row.state), sizeBytes: Number(row.sizeBytes) }))
  )

export interface Audit {
  readonly rows: number
  /** Acknowledged checkpoints missing from the table. */
  readonly lost: Array<string>
  /** Acknowledged checkpoints whose stored state is not byte for byte the one stored. */
  readonly changed: Array<string>
  /** Rows (acknowledged or not) that are not whole: a state that is not a JSON object, or not of its recorded size. */
  readonly halfWritten: Array<string>
}

/** Compares the rows on disk with what the writers were told was stored. */
export const audit = (rows: ReadonlyArray<StoredRow>, acknowledged: ReadonlyMap<string, string>): Audit => {
  const byId = new Map(rows.map((row) => [row.id, row]))
  const lost: Array<string> = []
  const changed: Array<string> = []
  for (const [id, state] of acknowledged) {
    const row = byId.get(id)
    if (row === undefined) lost.push(id)
    else if (row.state !== state) changed.push(id)
  }
  const halfWritten = rows.filter((row) => {
    if (Buffer.byteLength(row.state, "utf8") !== row.sizeBytes) return true
    try {
      const value: unknown = JSON.parse(row.state)
      return typeof value !== "object" || value === null || Array.isArray(value)
    } catch {
      return true
    }
  }).map((row) => row.id)
  return { rows: rows.length, lost, changed, halfWritten }
}

/** The figures of one fault, for the README's reliability table. */
export interface FaultFigures {
  readonly target: string
  readonly fault: string
  /** Operations that overlapped the fault window (from the fault until the first success after healing). */
  readonly operations: number
  readonly failed: number
  /** Failures that were not StorageConnectionError (must be 0). */
  readonly otherFailures: number
  readonly lost: number
  /** Stores acknowledged over the whole test (all of them checked on disk). */
  readonly acknowledged: number
  /** Fault to the first operation that failed, ms. */
  readonly detectMs: number | null
  /** The longest operation that overlapped the fault, ms (the bound). */
  readonly longestOperationMs: number
  /** Healing (or the server accepting connections again) to the first success, ms. */
  readonly recoverMs: number | null
}

export const figures = (options: {
  readonly target: string
  readonly fault: string
  readonly writers: Writers
  readonly faultAt: number
  readonly healedAt: number
  readonly recoveredAt: number | undefined
  readonly detectedAt: number | undefined
  readonly lost: number
}): FaultFigures => {
  const windowEnd = options.recoveredAt ?? now()
  const overlapping = options.writers.records.filter((record) =>
    record.end >= options.faultAt && record.start <= windowEnd
  )
  const failures = overlapping.filter((record) => record.outcome !== "ok")
  return {
    target: options.target,
    fault: options.fault,
    operations: overlapping.length,
    failed: failures.length,
    otherFailures: failures.filter((record) => record.outcome !== "StorageConnectionError").length,
    lost: options.lost,
    acknowledged: options.writers.acknowledged.size,
    detectMs: options.detectedAt === undefined ? null : Math.round(options.detectedAt - options.faultAt),
    longestOperationMs: Math.round(Math.max(0, ...overlapping.map((record) => record.end - record.start))),
    recoverMs: options.recoveredAt === undefined ? null : Math.round(options.recoveredAt - options.healedAt)
  }
}

export const logFigures = (figures: FaultFigures) =>
  Effect.sync(() => console.log(`RELIABILITY ${JSON.stringify(figures)}`))

/** Counts the unhandled rejections and uncaught exceptions of the process while the scope is open. */
export const watchUnhandled = Effect.acquireRelease(
  Effect.sync(() => {
    const seen: Array<unknown> = []
    const onError = (error: unknown) => void seen.push(error)
    process.on("unhandledRejection", onError)
    process.on("uncaughtException", onError)
    return { seen, onError }
  }),
  ({ onError }) =>
    Effect.sync(() => {
      process.off("unhandledRejection", onError)
      process.off("uncaughtException", onError)
    })
)
