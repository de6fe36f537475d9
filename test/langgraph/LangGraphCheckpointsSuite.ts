/**
 * The conformance suite of the LangGraphCheckpoints service, written once and run on each target: what LangGraph's
 * own validation suite does not check (storage of values once per version, write order by code point, metadata
 * filters by JSON type, retention, thread pages, typed errors that write nothing, large and hostile values).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { compareWritesSortKeys, writesSortKey } from "@langchain/langgraph-checkpoint"
import { Chunk, Effect, Layer, Option, Stream, TestClock, type Tracer } from "effect"
import {
  type CheckpointValidationError,
  LangGraphCheckpoints,
  makeSqlLangGraphCheckpoints,
  type LangGraphCheckpointsService,
  LangGraphTables
} from "../../src/index.js"
import { langGraphLayerOfUrl } from "../../src/langgraph/langGraphLayer.js"
import { collectingTracer } from "../support/collectingTracer.js"
import { TestDatabase, type TestTarget } from "../support/TestDatabase.js"
import { connectionStringOf } from "../support/tokenRingApp.js"

const TABLES = Object.values(LangGraphTables)

const isInside = (span: Tracer.AnySpan, ancestor: Tracer.Span): boolean =>
  span.spanId === ancestor.spanId ||
  (span._tag === "Span" && Option.isSome(span.parent) && isInside(span.parent.value, ancestor))
const utf8 = new TextEncoder()
const text = new TextDecoder()

export const serializedValue = (json: unknown) => ({ type: "json", value: utf8.encode(JSON.stringify(json)) })
const readValue = (stored: { readonly value: Uint8Array }): unknown => JSON.parse(text.decode(stored.value))

const documentOf = (id: string, versions: Record<string, string | number>) =>
  JSON.stringify({ v: 4, id, ts: "2026-12-06T00:00:00.000Z", channel_versions: versions, versions_seen: {} })

interface PutSpec {
  readonly thread: string
  readonly id: string
  readonly ns?: string
  readonly parent?: string | undefined
  readonly versions?: Record<string, string | number>
  /** The values of the channels whose version is new: channel → value (undefined: a version without value). */
  readonly values?: Record<string, unknown>
  readonly metadata?: Record<string, unknown>
}

export const putCheckpoint = (lg: LangGraphCheckpointsService, spec: PutSpec) =>
  lg.put({
    threadId: spec.thread,
    checkpointNs: spec.ns ?? "",
    checkpointId: spec.id,
    parentCheckpointId: spec.parent,
    checkpoint: documentOf(spec.id, spec.versions ?? {}),
    metadata: JSON.stringify(spec.metadata ?? { source: "loop", step: 0 }),
    channelValues: Object.entries(spec.values ?? {}).map(([channel, value]) => ({
      channel,
      version: String((spec.versions ?? {})[channel] ?? 1),
      value: value === undefined ? undefined : serializedValue(value)
    }))
  })

const countRows = (table: string) =>
  Effect.flatMap(TestDatabase, (db) =>
    db.withSql((sql) =>
      Effect.map(sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(table)}`, (rows) => Number(rows[0]!.n))
    ))

/** Sets the tables up and empties them behind the service's back: each test starts from nothing. */
const fresh = Effect.gen(function*() {
  const lg = yield* LangGraphCheckpoints
  yield* lg.setup
  const db = yield* TestDatabase
  yield* db.withSql((sql) => Effect.forEach(TABLES, (table) => sql`DELETE FROM ${sql(table)}`, { discard: true }))
  return lg
})

const listed = (lg: LangGraphCheckpointsService, query: Parameters<LangGraphCheckpointsService["list"]>[0]) =>
  Effect.map(Stream.runCollect(lg.list(query)), (chunk) => Chunk.toReadonlyArray(chunk).map((c) => c.checkpointId))

/** The service on a fresh database of the target, through the layer its connection string names. */
export const withLangGraph = (target: TestTarget) =>
  Layer.provideMerge(
    Layer.unwrapEffect(Effect.map(TestDatabase, (db) => langGraphLayerOfUrl(connectionStringOf(db.config)))),
    target.freshDatabase
  )

export const langGraphCheckpointsSuite = (target: TestTarget) => {
  operationsSuite(target)
  installedSuite(target)
}

const operationsSuite = (target: TestTarget) =>
  layer(withLangGraph(target), { timeout: 120_000 })(`LangGraphCheckpoints on ${target.name}`, (it) => {
    describe("put and getTuple", () => {
      it.effect("return the checkpoint, its metadata, the values its versions name, and the time it was stored", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* TestClock.setTime(1_700_000_000_000)
          yield* putCheckpoint(lg, {
            thread: "t",
            id: "c1",
            versions: { messages: 1, empty: 1 },
            values: { messages: ["hi", "é🦊"], empty: undefined },
            metadata: { source: "input", step: -1, parents: {} }
          })
          const stored = Option.getOrThrow(yield* lg.getTuple({ threadId: "t" }))
          expect(stored.checkpointId).toBe("c1")
          expect(stored.parentCheckpointId).toBeNull()
          expect(JSON.parse(stored.metadata)).toEqual({ source: "input", step: -1, parents: {} })
          expect(JSON.parse(stored.checkpoint).channel_versions).toEqual({ messages: 1, empty: 1 })
          // A channel with a version and no value ("empty") is remembered, never returned.
          expect(stored.channelValues.map((v) => [v.channel, v.version, readValue(v)])).toEqual([
            ["messages", "1", ["hi", "é🦊"]]
          ])
          expect(stored.createdAt).toBe(1_700_000_000_000)
        }))

      it.effect("store a channel value once per version: a later checkpoint naming it reads the first bytes", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* putCheckpoint(lg, { thread: "t", id: "c1", versions: { a: 1 }, values: { a: "first" } })
          yield* putCheckpoint(lg, { thread: "t", id: "c2", parent: "c1", versions: { a: 1 }, values: { a: "again" } })
          yield* putCheckpoint(lg, { thread: "t", id: "c3", parent: "c2", versions: { a: 2 }, values: { a: "second" } })
          expect(yield* countRows(LangGraphTables.channelValues)).toBe(2)
          const c2 = Option.getOrThrow(yield* lg.getTuple({ threadId: "t", checkpointId: "c2" }))
          expect(c2.channelValues.map(readValue)).toEqual(["first"])
          expect(c2.parentCheckpointId).toBe("c1")
          const latest = Option.getOrThrow(yield* lg.getTuple({ threadId: "t" }))
          expect(latest.channelValues.map(readValue)).toEqual(["second"])
        }))

      it.effect("keep namespaces apart, and find nothing for an unknown thread, namespace or id", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* putCheckpoint(lg, { thread: "t", id: "c1", versions: { a: 1 }, values: { a: "root" } })
          yield* putCheckpoint(lg, { thread: "t", ns: "child:1", id: "c2", versions: { a: 1 }, values: { a: "child" } })
          const child = Option.getOrThrow(yield* lg.getTuple({ threadId: "t", checkpointNs: "child:1" }))
          expect(child.channelValues.map(readValue)).toEqual(["child"])
          expect(Option.getOrThrow(yield* lg.getTuple({ threadId: "t" })).channelValues.map(readValue)).toEqual(["root"])
          expect(Option.isNone(yield* lg.getTuple({ threadId: "nobody" }))).toBe(true)
          expect(Option.isNone(yield* lg.getTuple({ threadId: "t", checkpointNs: "other" }))).toBe(true)
          expect(Option.isNone(yield* lg.getTuple({ threadId: "t", checkpointId: "c9" }))).toBe(true)
        }))

      it.effect("store again a checkpoint put twice: the second metadata wins, nothing is duplicated", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* putCheckpoint(lg, { thread: "t", id: "c1", metadata: { step: 1 } })
          yield* putCheckpoint(lg, { thread: "t", id: "c1", metadata: { step: 2 } })
          expect(yield* countRows(LangGraphTables.checkpoints)).toBe(1)
          expect(JSON.parse(Option.getOrThrow(yield* lg.getTuple({ threadId: "t" })).metadata)).toEqual({ step: 2 })
        }))

      it.effect("round-trip a value of 5 MiB (past MySQL's 64 KiB BLOB) and hostile text in keys and metadata", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          const big = "x".repeat(5 * 1024 * 1024)
          const thread = `'; DROP TABLE langgraph_checkpoints; -- "é🦊" <script>alert(1)</script>`
          yield* putCheckpoint(lg, {
            thread,
            ns: "ns'\"",
            id: "c1",
            versions: { big: 1 },
            values: { big },
            metadata: { note: "<b>\"quoted\"</b> \\ 🦊" }
          })
          const stored = Option.getOrThrow(yield* lg.getTuple({ threadId: thread, checkpointNs: "ns'\"" }))
          expect(readValue(stored.channelValues[0]!)).toBe(big)
          expect(JSON.parse(stored.metadata)).toEqual({ note: "<b>\"quoted\"</b> \\ 🦊" })
        }))
    })

    describe("putWrites", () => {
      it.effect("return pending writes in LangGraph's writesSortKey order: task path, task id, index, by code point", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* putCheckpoint(lg, { thread: "t", id: "c1" })
          // Code point order is not UTF-16 order ("\uFFFD" < "🦊") nor a locale's ("B" < "a").
          const paths = ["🦊", "\uFFFD", "é", "a", "B", ""]
          for (const [i, taskPath] of paths.entries()) {
            yield* lg.putWrites({
              threadId: "t",
              checkpointNs: "",
              checkpointId: "c1",
              taskId: `task-${i}`,
              taskPath,
              writes: [{ channel: "x", idx: 1, value: serializedValue(i) }, { channel: "x", idx: -3, value: serializedValue(i) }]
            })
          }
          const stored = Option.getOrThrow(yield* lg.getTuple({ threadId: "t" }))
          const keys = stored.pendingWrites.map((w) => writesSortKey(w.taskPath, w.taskId, w.idx))
          expect(keys).toEqual([...keys].sort(compareWritesSortKeys))
          expect(stored.pendingWrites.map((w) => w.taskPath)).toEqual(["", "", "B", "B", "a", "a", "é", "é", "\uFFFD", "\uFFFD", "🦊", "🦊"])
          expect(stored.pendingWrites.slice(0, 2).map((w) => w.idx)).toEqual([-3, 1])
        }))

      it.effect("keep the first write at a (task, index) unless asked to replace it", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* putCheckpoint(lg, { thread: "t", id: "c1" })
          const write = (value: string, replace: boolean) =>
            lg.putWrites({
              threadId: "t",
              checkpointNs: "",
              checkpointId: "c1",
              taskId: "task",
              writes: [{ channel: "__error__", idx: -1, value: serializedValue(value) }],
              replace
            })
          yield* write("first", false)
          yield* write("retried", false)
          expect(Option.getOrThrow(yield* lg.getTuple({ threadId: "t" })).pendingWrites.map(readValue)).toEqual(["first"])
          yield* write("replaced", true)
          expect(Option.getOrThrow(yield* lg.getTuple({ threadId: "t" })).pendingWrites.map(readValue)).toEqual(["replaced"])
        }))
    })

    describe("list", () => {
      it.effect("returns checkpoints newest first across pages, with before and limit", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          const ids = Array.from({ length: 230 }, (_, i) => `c${String(i).padStart(4, "0")}`)
          yield* Effect.forEach(ids, (id) => putCheckpoint(lg, { thread: "t", id }), { discard: true })
          yield* putCheckpoint(lg, { thread: "u", id: "c0100" })
          const newestFirst = [...ids].reverse()
          expect(yield* listed(lg, { threadId: "t" })).toEqual(newestFirst)
          expect(yield* listed(lg, { threadId: "t", before: "c0100", limit: 3 })).toEqual(["c0099", "c0098", "c0097"])
          expect(yield* listed(lg, { threadId: "t", limit: 150 })).toEqual(newestFirst.slice(0, 150))
          // Across threads the same id appears once per thread.
          expect((yield* listed(lg, {})).filter((id) => id === "c0100")).toHaveLength(2)
          expect(yield* listed(lg, { checkpointId: "c0100" })).toEqual(["c0100", "c0100"])
        }))

      it.effect("filters metadata by JSON type: a string never matches a number, a missing key never matches null", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* putCheckpoint(lg, { thread: "t", id: "c1", metadata: { source: "input", step: 1, ok: true, note: null } })
          yield* putCheckpoint(lg, { thread: "t", id: "c2", metadata: { source: "loop", step: "1", ok: false } })
          expect(yield* listed(lg, { filter: { source: "loop" } })).toEqual(["c2"])
          expect(yield* listed(lg, { filter: { step: 1 } })).toEqual(["c1"])
          expect(yield* listed(lg, { filter: { step: "1" } })).toEqual(["c2"])
          expect(yield* listed(lg, { filter: { ok: false } })).toEqual(["c2"])
          expect(yield* listed(lg, { filter: { note: null } })).toEqual(["c1"])
          expect(yield* listed(lg, { filter: { source: "input", ok: true } })).toEqual(["c1"])
          expect(yield* listed(lg, { filter: {} })).toEqual(["c2", "c1"])
        }))
    })

    describe("threads", () => {
      it.effect("deleteThread removes a thread with its writes and values, and nothing of another", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          for (const thread of ["a", "b"]) {
            yield* putCheckpoint(lg, { thread, id: "c1", versions: { x: 1 }, values: { x: thread } })
            yield* putCheckpoint(lg, { thread, ns: "sub", id: "c2", versions: { x: 1 }, values: { x: thread } })
            yield* lg.putWrites({
              threadId: thread,
              checkpointNs: "",
              checkpointId: "c1",
              taskId: "t",
              writes: [{ channel: "x", idx: 0, value: serializedValue(1) }]
            })
          }
          expect(yield* lg.deleteThread("a")).toBe(2)
          expect(yield* lg.deleteThread("a")).toBe(0)
          expect(yield* countRows(LangGraphTables.checkpoints)).toBe(2)
          expect(yield* countRows(LangGraphTables.writes)).toBe(1)
          expect(yield* countRows(LangGraphTables.channelValues)).toBe(2)
          expect(Option.getOrThrow(yield* lg.getTuple({ threadId: "b" })).pendingWrites).toHaveLength(1)
        }))

      it.effect("listThreads pages through the threads in id order with their counts", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* TestClock.setTime(1000)
          yield* putCheckpoint(lg, { thread: "t2", id: "c1" })
          yield* TestClock.setTime(2000)
          yield* putCheckpoint(lg, { thread: "t2", ns: "sub", id: "c2" })
          yield* putCheckpoint(lg, { thread: "t1", id: "c3" })
          yield* putCheckpoint(lg, { thread: "t3", id: "c4" })
          const first = yield* lg.listThreads({ limit: 2 })
          expect(first.threads.map((t) => t.threadId)).toEqual(["t1", "t2"])
          expect(first.threads[1]).toEqual({
            threadId: "t2",
            checkpoints: 2,
            namespaces: 2,
            latestCheckpointId: "c2",
            firstCreatedAt: 1000,
            lastCreatedAt: 2000
          })
          expect(first.nextAfter).toBe("t2")
          const second = yield* lg.listThreads({ after: first.nextAfter, limit: 2 })
          expect(second.threads.map((t) => t.threadId)).toEqual(["t3"])
          expect(second.nextAfter).toBeUndefined()
        }))
    })

    describe("prune", () => {
      const history = (lg: LangGraphCheckpointsService, thread: string, count: number, startAt = 0) =>
        Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
          Effect.gen(function*() {
            yield* TestClock.setTime(startAt + i * 1000)
            const id = `c${i}`
            // Channel "fixed" keeps version 1 throughout; "step" changes at every checkpoint.
            yield* putCheckpoint(lg, {
              thread,
              id,
              parent: i === 0 ? undefined : `c${i - 1}`,
              versions: { fixed: 1, step: i + 1 },
              values: i === 0 ? { fixed: "kept", step: i } : { step: i }
            })
            yield* lg.putWrites({
              threadId: thread,
              checkpointNs: "",
              checkpointId: id,
              taskId: "task",
              writes: [{ channel: "step", idx: 0, value: serializedValue(i) }]
            })
          }), { discard: true })

      it.effect("keepLastPerThread keeps each thread's newest N with their writes; values still named stay", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* history(lg, "a", 5)
          yield* history(lg, "b", 2)
          expect(yield* lg.prune({ keepLastPerThread: 2 })).toEqual({ checkpoints: 3, writes: 3, channelValues: 3 })
          expect(yield* listed(lg, { threadId: "a" })).toEqual(["c4", "c3"])
          expect(yield* listed(lg, { threadId: "b" })).toEqual(["c1", "c0"])
          // "fixed" was written by c0, which is gone, but c3 and c4 still name its version.
          const oldestKept = Option.getOrThrow(yield* lg.getTuple({ threadId: "a", checkpointId: "c3" }))
          expect(oldestKept.channelValues.map((v) => [v.channel, readValue(v)])).toEqual([["fixed", "kept"], ["step", 3]])
          expect(yield* countRows(LangGraphTables.writes)).toBe(4)
        }))

      it.effect("maxAge removes old checkpoints but spares a thread's newest unless includeNewest", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* history(lg, "idle", 3, 0)
          yield* history(lg, "busy", 3, 180_000)
          yield* TestClock.setTime(200_000)
          const spared = yield* lg.prune({ maxAge: "60 seconds" })
          expect(spared.checkpoints).toBe(2)
          expect(yield* listed(lg, { threadId: "idle" })).toEqual(["c2"])
          expect(yield* listed(lg, { threadId: "busy" })).toEqual(["c2", "c1", "c0"])
          const all = yield* lg.prune({ maxAge: "60 seconds", includeNewest: true })
          expect(all.checkpoints).toBe(1)
          expect(yield* listed(lg, { threadId: "idle" })).toEqual([])
          expect((yield* lg.listThreads()).threads.map((t) => t.threadId)).toEqual(["busy"])
        }))

      it.effect("planPrune says per thread what prune removes, and removes nothing", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* history(lg, "a", 5)
          yield* history(lg, "b", 3)
          yield* history(lg, "c", 1)
          const plan = yield* lg.planPrune({ keepLastPerThread: 2 })
          expect(plan).toEqual({
            checkpoints: 4,
            writes: 4,
            channelValues: 4,
            threads: [
              { threadId: "a", checkpoints: 3, writes: 3, channelValues: 3 },
              { threadId: "b", checkpoints: 1, writes: 1, channelValues: 1 }
            ]
          })
          expect(yield* listed(lg, { threadId: "a" })).toHaveLength(5)
          const { threads: _, ...totals } = plan
          expect(yield* lg.prune({ keepLastPerThread: 2 })).toEqual(totals)
          expect((yield* lg.planPrune({ keepLastPerThread: 2 })).threads).toEqual([])
        }))

      it.effect("threadId limits a prune to one thread", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          yield* history(lg, "a", 3)
          yield* history(lg, "b", 3)
          expect((yield* lg.prune({ keepLastPerThread: 1, threadId: "b" })).checkpoints).toBe(2)
          expect(yield* listed(lg, { threadId: "a" })).toHaveLength(3)
          expect(yield* listed(lg, { threadId: "b" })).toEqual(["c2"])
        }))
    })

    describe("tracing", () => {
      it.effect("an operation is one span LangGraphCheckpoints.<operation>; statements get theirs with statementSpans", () =>
        Effect.gen(function*() {
          const { spans, tracer } = yield* collectingTracer
          const lg = yield* fresh
          const from = spans.length
          yield* Effect.withTracer(putCheckpoint(lg, { thread: "t", id: "c1", versions: { a: 1 }, values: { a: "x" } }), tracer)
          yield* Effect.withTracer(lg.getTuple({ threadId: "t" }), tracer)
          expect(spans.slice(from).map((span) => span.name)).toEqual([
            "LangGraphCheckpoints.put",
            "LangGraphCheckpoints.getTuple"
          ])

          const db = yield* TestDatabase
          const traced = yield* db.withSql((sql) =>
            Effect.provideService(makeSqlLangGraphCheckpoints({ statementSpans: true }), SqlClient, sql)
          )
          yield* traced.setup
          const next = spans.length
          expect(Option.isSome(yield* Effect.withTracer(traced.getTuple({ threadId: "t" }), tracer))).toBe(true)
          const recorded = spans.slice(next)
          const own = recorded.filter((span) => span.name === "LangGraphCheckpoints.getTuple")
          expect(own).toHaveLength(1)
          const statements = recorded.filter((span) => span.name === "sql.execute")
          expect(statements).toHaveLength(2)
          for (const statement of statements) expect(isInside(statement, own[0]!)).toBe(true)
        }))
    })

    describe("bad input", () => {
      const refused = <A, R>(effect: Effect.Effect<A, unknown, R>) =>
        Effect.map(Effect.flip(effect), (error) => {
          expect((error as CheckpointValidationError)._tag).toBe("CheckpointValidationError")
          return (error as CheckpointValidationError).issues.map((issue) => issue.path)
        })

      it.effect("is refused with a CheckpointValidationError naming the field, and nothing is written", () =>
        Effect.gen(function*() {
          const lg = yield* fresh
          expect(yield* refused(putCheckpoint(lg, { thread: "t".repeat(256), id: "c1" }))).toEqual(["threadId"])
          expect(yield* refused(putCheckpoint(lg, { thread: "t\u0000", id: "c1" }))).toEqual(["threadId"])
          expect(yield* refused(putCheckpoint(lg, { thread: "t", id: "c1", metadata: ["not", "an", "object"] as never })))
            .toEqual(["metadata"])
          expect(yield* refused(putCheckpoint(lg, { thread: "t", id: "c1", metadata: { nul: "\u0000" } }))).toEqual(["metadata"])
          expect(
            yield* refused(lg.put({
              threadId: "t",
              checkpointNs: "",
              checkpointId: "c1",
              checkpoint: "{not json",
              metadata: "{}",
              channelValues: []
            }))
          ).toEqual(["checkpoint"])
          expect(
            yield* refused(lg.putWrites({
              threadId: "t",
              checkpointNs: "",
              checkpointId: "c1",
              taskId: "task",
              writes: [{ channel: "x", idx: 0.5, value: serializedValue(1) }]
            }))
          ).toEqual(["writes[0].idx"])
          expect(yield* refused(Stream.runDrain(lg.list({ filter: { "a\"b": 1 } })))).toEqual(["filter"])
          expect(yield* refused(Stream.runDrain(lg.list({ limit: 0 })))).toEqual(["limit"])
          expect(yield* refused(lg.prune({}))).toEqual([""])
          for (const table of TABLES) expect(yield* countRows(table)).toBe(0)
        }))
    })

    it.effect("concurrent puts that share a new channel version both succeed, and store it once", () =>
      Effect.gen(function*() {
        const lg = yield* fresh
        yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => i),
          (i) => putCheckpoint(lg, { thread: "t", id: `c${i}`, versions: { shared: 7 }, values: { shared: "same" } }),
          { concurrency: "unbounded", discard: true }
        )
        expect(yield* countRows(LangGraphTables.checkpoints)).toBe(8)
        expect(yield* countRows(LangGraphTables.channelValues)).toBe(1)
      }))
  })

// A reader that must write nothing (`ecs ui`) asks `installed` before any other operation, which would migrate.
const installedSuite = (target: TestTarget) =>
  layer(target.freshDatabase, { timeout: 120_000 })(`LangGraphCheckpoints.installed on ${target.name}`, (it) => {
    it.effect("is false on a database without the LangGraph tables and creates none; true once set up", () =>
      Effect.gen(function*() {
        const db = yield* TestDatabase
        const lg = yield* db.withSql((sql) => makeSqlLangGraphCheckpoints().pipe(Effect.provideService(SqlClient, sql)))
        expect(yield* lg.installed).toBe(false)
        expect(yield* lg.installed).toBe(false)
        for (const table of TABLES) expect((yield* Effect.flip(countRows(table)))._tag).toBe("SqlError")
        yield* lg.setup
        expect(yield* lg.installed).toBe(true)
        const other = yield* db.withSql((sql) => makeSqlLangGraphCheckpoints().pipe(Effect.provideService(SqlClient, sql)))
        expect(yield* other.installed).toBe(true)
      }))

    it.effect("countThreads counts each thread once, whatever its namespaces and checkpoints", () =>
      Effect.gen(function*() {
        const db = yield* TestDatabase
        const lg = yield* db.withSql((sql) => makeSqlLangGraphCheckpoints().pipe(Effect.provideService(SqlClient, sql)))
        yield* lg.setup
        expect(yield* lg.countThreads()).toBe(0)
        yield* putCheckpoint(lg, { thread: "t1", id: "a" })
        yield* putCheckpoint(lg, { thread: "t1", id: "b", ns: "inner" })
        yield* putCheckpoint(lg, { thread: "t2", id: "a" })
        expect(yield* lg.countThreads()).toBe(2)
      }))
  })
