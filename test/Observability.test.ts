/**
 * Tracing changes what is recorded, never what runs: with a collecting tracer installed, every operation of the
 * service gives the same results as without one, and is one span `CheckpointStorage.<operation>`, with @effect/sql's
 * statement spans left out unless `statementSpans: true` asks for them (then inside the operation's span).
 */
import { describe, expect, layer } from "@effect/vitest"
import { Chunk, Context, Effect, Exit, Layer, Option, Stream, Tracer } from "effect"
import {
  CheckpointStorage,
  CheckpointStoragePromise,
  type CheckpointStorageService,
  type NamedAgentCheckpoint,
  type PruneProgress,
  type SqlCheckpointStorageOptions,
  type StorageLayerError
} from "../src/index.js"
import { runtimeTargets } from "./support/provision.js"
import { TestDatabase, type TestTarget } from "./support/TestDatabase.js"
import { collectingTracer } from "./support/collectingTracer.js"

const checkpoint = (name: string, overrides: Partial<NamedAgentCheckpoint> = {}): NamedAgentCheckpoint => ({
  agentId: "agent-1",
  sessionId: "session-1",
  agentType: "coder",
  name,
  state: { step: name, messages: [{ role: "user", content: "hello" }] },
  createdAt: 1_763_900_000_000,
  ...overrides
})

const appCheckpoint = (sessionId: string, createdAt: number) => ({
  sessionId,
  hostname: "host",
  workspaceDirectory: "/project",
  state: { files: [sessionId] },
  createdAt
})


const isInside = (span: Tracer.AnySpan, ancestor: Tracer.Span): boolean =>
  span.spanId === ancestor.spanId ||
  (span._tag === "Span" && Option.isSome(span.parent) && isInside(span.parent.value, ancestor))

const endedWith = (span: Tracer.Span | undefined) =>
  span?.status._tag === "Ended" ? (Exit.isSuccess(span.status.exit) ? "success" : "failure") : "not ended"

/** Runs one operation of the script, which names it; returns its value (or fails as it did). */
type Call = <A, E>(operation: string, effect: Effect.Effect<A, E>) => Effect.Effect<A, E>

const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/**
 * Every operation of the service, with and without options, on data the script writes itself (so two runs on two
 * fresh databases see the same ids), then the failures of invalid input.
 */
const everyOperation = (storage: CheckpointStorageService, call: Call) =>
  Effect.gen(function*() {
    const store = (input: NamedAgentCheckpoint) => call("storeAgentCheckpoint", storage.storeAgentCheckpoint(input))
    const first = yield* store(checkpoint("first"))
    yield* store(checkpoint("second", { agentId: "agent-2", createdAt: 1_763_900_000_001 }))
    yield* store(checkpoint("third", { sessionId: "session-2", createdAt: 1_763_900_000_002 }))
    yield* store(checkpoint("child", { parentId: first, createdAt: 1_763_900_000_003 }))
    const app = yield* call("storeAppCheckpoint", storage.storeAppCheckpoint(appCheckpoint("session-1", 1_763_900_000_000)))
    yield* call("storeAppCheckpoint", storage.storeAppCheckpoint(appCheckpoint("session-2", 1_763_900_000_001)))

    yield* call("retrieveAgentCheckpoint", storage.retrieveAgentCheckpoint(first))
    yield* call("retrieveAgentCheckpoint", storage.retrieveAgentCheckpoint("999999"))
    yield* call("retrieveAppCheckpoint", storage.retrieveAppCheckpoint(app))

    yield* call("listAgentCheckpoints", storage.listAgentCheckpoints())
    yield* call("listAgentCheckpoints", storage.listAgentCheckpoints({ sessionId: "session-1", limit: 2 }))
    const page = yield* call("listAgentCheckpoints", storage.listAgentCheckpoints({ limit: 2, includeTotal: true }))
    yield* call(
      "listAgentCheckpoints",
      storage.listAgentCheckpoints({ limit: 2, includeTotal: true, cursor: Option.getOrThrow(page.nextCursor) })
    )
    yield* call("listAppCheckpoints", storage.listAppCheckpoints())
    yield* call("listAppCheckpoints", storage.listAppCheckpoints({ limit: 1, includeTotal: true }))

    yield* call("retrieveLatestAgentCheckpoint", storage.retrieveLatestAgentCheckpoint())
    yield* call(
      "retrieveLatestAgentCheckpoint",
      storage.retrieveLatestAgentCheckpoint({ sessionId: "session-1", agentId: "agent-2" })
    )
    yield* call("retrieveLatestAppCheckpoint", storage.retrieveLatestAppCheckpoint())
    yield* call("retrieveLatestAppCheckpoint", storage.retrieveLatestAppCheckpoint({ sessionId: "session-1" }))

    yield* call("streamAgentCheckpoints", collect(storage.streamAgentCheckpoints({ pageSize: 2 })))
    yield* call(
      "streamAgentCheckpoints",
      collect(storage.streamAgentCheckpoints({ sessionId: "session-1", includeState: true }))
    )
    yield* call("streamAppCheckpoints", collect(storage.streamAppCheckpoints()))
    yield* call("streamAppCheckpoints", collect(storage.streamAppCheckpoints({ pageSize: 1, includeState: true })))

    yield* call("statistics", storage.statistics())
    yield* call("sessionStatistics", storage.sessionStatistics())
    yield* call("sessionStatistics", storage.sessionStatistics({ limit: 1 }))
    yield* call("listSessions", storage.listSessions({ kind: "agent", limit: 1 }))
    yield* call("listAgents", storage.listAgents())

    const fork = yield* call("forkAgentCheckpoint", storage.forkAgentCheckpoint(first, { name: "fork" }))
    const appFork = yield* call("forkAppCheckpoint", storage.forkAppCheckpoint(app, { state: { forked: true } }))
    yield* call("listAgentLineage", storage.listAgentLineage(fork))
    yield* call("listAppLineage", storage.listAppLineage(appFork))

    yield* call(
      "importAgentCheckpoints",
      storage.importAgentCheckpoints("export.jsonl", [
        { sourceId: "1", checkpoint: checkpoint("imported", { sessionId: "session-3" }) },
        { sourceId: "2", sourceParentId: "1", checkpoint: checkpoint("imported child", { sessionId: "session-3" }) }
      ])
    )
    yield* call(
      "importAppCheckpoints",
      storage.importAppCheckpoints("export.jsonl", [{ sourceId: "7", checkpoint: appCheckpoint("session-3", 1_000) }])
    )
    yield* call("importPosition", storage.importPosition("export.jsonl"))
    yield* call("importPosition", storage.importPosition("never imported"))

    yield* call("planPrune", storage.planPrune({ keepLastPerSession: 2 }))
    yield* call("planPrune", storage.planPrune({ keepLastPerSession: 1, keepLastPerAgent: 1 }, { sampleSize: 1 }))
    const progress: Array<PruneProgress> = []
    yield* call(
      "prune",
      Effect.map(
        storage.prune({ keepLastPerSession: 2 }, { batchSize: 1, onProgress: (p) => Effect.sync(() => progress.push(p)) }),
        (result) => ({ result, progress })
      )
    )

    yield* call("storeAgentMetrics", storage.storeAgentMetrics({ agentId: "agent-1", metrics: {}, updatedAt: 1_000 }))
    yield* call("retrieveAgentMetrics", storage.retrieveAgentMetrics("agent-1"))
    yield* call("listAgentMetrics", storage.listAgentMetrics())
    yield* call("planPrune", storage.planPrune({ agentMetrics: { maxAge: 1 } }))
    yield* call("deleteAgentMetrics", storage.deleteAgentMetrics("agent-1"))

    yield* call("deleteAgentCheckpoint", storage.deleteAgentCheckpoint(fork))
    yield* call("deleteAppCheckpoint", storage.deleteAppCheckpoint(appFork))
    yield* call("deleteAgentCheckpoints", storage.deleteAgentCheckpoints({ sessionId: "session-3" }))
    yield* call("deleteAppCheckpoints", storage.deleteAppCheckpoints({ sessionId: "session-3" }))

    // Failures: the same typed error with and without a tracer.
    const invalid = checkpoint("invalid", { agentId: 42 as unknown as string })
    yield* Effect.flip(call("storeAgentCheckpoint", storage.storeAgentCheckpoint(invalid)))
    yield* Effect.flip(call("listAgentCheckpoints", storage.listAgentCheckpoints({ limit: 0 })))
    yield* Effect.flip(call("streamAgentCheckpoints", collect(storage.streamAgentCheckpoints({ pageSize: 0 }))))
    yield* Effect.flip(call("prune", storage.prune({ keepLastPerSession: 0 })))
    yield* Effect.flip(
      call("importAgentCheckpoints", storage.importAgentCheckpoints("bad", [{ sourceId: "x", checkpoint: invalid }]))
    )
    yield* Effect.flip(call("forkAgentCheckpoint", storage.forkAgentCheckpoint("999999")))
  })

/** The operations of the service, each of which the script must call (a Record: the compiler says when one is new). */
const operations = Object.keys({
  storeAgentCheckpoint: true,
  retrieveAgentCheckpoint: true,
  listAgentCheckpoints: true,
  storeAppCheckpoint: true,
  retrieveAppCheckpoint: true,
  listAppCheckpoints: true,
  retrieveLatestAppCheckpoint: true,
  storeAgentMetrics: true,
  retrieveAgentMetrics: true,
  listAgentMetrics: true,
  deleteAgentMetrics: true,
  retrieveLatestAgentCheckpoint: true,
  streamAgentCheckpoints: true,
  streamAppCheckpoints: true,
  deleteAgentCheckpoint: true,
  deleteAppCheckpoint: true,
  deleteAgentCheckpoints: true,
  deleteAppCheckpoints: true,
  prune: true,
  planPrune: true,
  statistics: true,
  sessionStatistics: true,
  listSessions: true,
  listAgents: true,
  importAgentCheckpoints: true,
  importAppCheckpoints: true,
  importPosition: true,
  listAgentLineage: true,
  listAppLineage: true,
  forkAgentCheckpoint: true,
  forkAppCheckpoint: true
} satisfies Record<keyof CheckpointStorageService, true>) as ReadonlyArray<keyof CheckpointStorageService>

/** A storage on a fresh database of the target, built (its batchers included) with `tracer` installed if given. */
const freshStorage = (target: TestTarget, tracer?: Tracer.Tracer, options?: SqlCheckpointStorageOptions) =>
  Effect.gen(function*() {
    const db = Context.get(yield* Layer.build(target.freshDatabase), TestDatabase)
    const build = Layer.build(db.storage(options))
    return Context.get(yield* (tracer === undefined ? build : Effect.withTracer(build, tracer)), CheckpointStorage)
  })

/**
 * Runs an operation under the tracer and asserts that it was one span, with at least one statement span inside it
 * and none outside it.
 */
const statementsInside = (spans: ReadonlyArray<Tracer.Span>, tracer: Tracer.Tracer) =>
<A, E>(operation: string, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const from = spans.length
    const value = yield* Effect.withTracer(effect, tracer)
    const recorded = spans.slice(from)
    const own = recorded.filter((span) => span.name === `CheckpointStorage.${operation}`)
    expect(own, operation).toHaveLength(1)
    const statements = recorded.filter((span) => span.name === "sql.execute")
    expect(statements.length, operation).toBeGreaterThanOrEqual(1)
    for (const statement of statements) expect(isInside(statement, own[0]!), operation).toBe(true)
    return value
  })

// A Promise facade over any storage layer: what a user writes to trace the facade's calls.
class FacadeOf extends CheckpointStoragePromise {
  readonly name = "FacadeOf"
  readonly description = "a Promise facade over a given layer"
  readonly displayName = "FacadeOf"
  constructor(storage: Layer.Layer<CheckpointStorage, StorageLayerError>) {
    super(storage)
  }
}

for (const target of runtimeTargets) {
  describe(`Observability on ${target.name}`, () => {
    layer(Layer.empty, { timeout: 120_000 })("one span per operation", (it) => {
      it.effect("with a collecting tracer, every operation gives the same results as without and is its one span", () =>
        Effect.gen(function*() {
          const { spans, tracer } = yield* collectingTracer
          const traced = yield* freshStorage(target, tracer)
          const untraced = yield* freshStorage(target)

          const tracedResults: Array<readonly [string, Exit.Exit<unknown, unknown>]> = []
          const called = new Set<string>()
          const failures: Array<Tracer.Span> = []
          yield* everyOperation(traced, (operation, effect) =>
            Effect.gen(function*() {
              const from = spans.length
              const exit = yield* Effect.exit(Effect.withTracer(effect, tracer))
              const recorded = spans.slice(from)
              // One span, the operation's, ended with the operation's outcome; no statement spans.
              expect(recorded.map((span) => span.name), operation).toEqual([`CheckpointStorage.${operation}`])
              expect(endedWith(recorded[0]), operation).toBe(Exit.isSuccess(exit) ? "success" : "failure")
              if (Exit.isFailure(exit)) failures.push(recorded[0]!)
              called.add(operation)
              tracedResults.push([operation, exit])
              return yield* exit
            }))

          const untracedResults: Array<readonly [string, Exit.Exit<unknown, unknown>]> = []
          yield* everyOperation(untraced, (operation, effect) =>
            Effect.gen(function*() {
              const exit = yield* Effect.exit(effect)
              untracedResults.push([operation, exit])
              return yield* exit
            }))

          expect([...called].sort()).toEqual([...operations].sort())
          expect(tracedResults).toHaveLength(untracedResults.length)
          for (const [index, [operation, exit]] of tracedResults.entries()) {
            expect(exit, `${index}: ${operation}`).toEqual(untracedResults[index]![1])
          }
          // The failures the script provokes: invalid input (five) and a missing fork source.
          const errors = tracedResults.flatMap(([, exit]) =>
            Exit.isFailure(exit) && exit.cause._tag === "Fail" ? [(exit.cause.error as { _tag: string })._tag] : []
          )
          expect(errors).toEqual([
            "CheckpointValidationError",
            "CheckpointValidationError",
            "CheckpointValidationError",
            "CheckpointValidationError",
            "CheckpointValidationError",
            "CheckpointNotFoundError"
          ])
          expect(failures.map(endedWith)).toEqual(Array(6).fill("failure"))
        }).pipe(Effect.scoped))

      it.effect("with statementSpans: true, the statements are spans of their own inside the operation's span", () =>
        Effect.gen(function*() {
          const { spans, tracer } = yield* collectingTracer
          const storage = yield* freshStorage(target, tracer, { statementSpans: true })
          const traced = statementsInside(spans, tracer)
          const parent = yield* storage.storeAgentCheckpoint(checkpoint("parent"))
          // A store with a parent is a transaction of its own (the parent's check): its statements are the operation's.
          const child = yield* traced(
            "storeAgentCheckpoint",
            storage.storeAgentCheckpoint(checkpoint("child", { parentId: parent }))
          )
          yield* traced("retrieveAgentCheckpoint", storage.retrieveAgentCheckpoint(child))
          yield* traced("listAgentCheckpoints", storage.listAgentCheckpoints({ limit: 1, includeTotal: true }))
          yield* traced("retrieveLatestAgentCheckpoint", storage.retrieveLatestAgentCheckpoint({ sessionId: "session-1" }))
          yield* traced("streamAgentCheckpoints", collect(storage.streamAgentCheckpoints({ pageSize: 1 })))
          yield* traced("statistics", storage.statistics())
          yield* traced("listAgentLineage", storage.listAgentLineage(child))
          yield* traced("planPrune", storage.planPrune({ keepLastPerSession: 1 }))
          yield* traced("prune", storage.prune({ keepLastPerSession: 1 }))
        }).pipe(Effect.scoped))

      // A plain store's INSERT runs in a fiber of the insert batcher (one statement for many callers): it is a span
      // inside the span of the first store it carries, on that store's tracer.
      it.effect("with statementSpans: true, a plain store's INSERT is a span inside the store's span", () =>
        Effect.gen(function*() {
          const { spans, tracer } = yield* collectingTracer
          const storage = yield* freshStorage(target, tracer, { statementSpans: true })
          yield* statementsInside(spans, tracer)("storeAgentCheckpoint", storage.storeAgentCheckpoint(checkpoint("plain")))
        }).pipe(Effect.scoped))
    })

    layer(target.freshDatabase, { timeout: 60_000 })("spans through the facade, and the pool", (it) => {
      it.effect("through a Promise facade whose layer collects spans, store, retrieve and latest are spans too", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const { spans, tracer } = yield* collectingTracer
          const facade = new FacadeOf(Layer.provide(db.storage(), Layer.setTracer(tracer)))
          let started = 0
          yield* Effect.promise(async () => {
            await facade.start()
            // Building the layer ran the migrations (their statements are spans); from here on, operations only.
            started = spans.length
            const id = await facade.storeAgentCheckpoint(checkpoint("facade"))
            expect((await facade.retrieveAgentCheckpoint(id))?.name).toBe("facade")
            expect((await facade.retrieveLatestAgentCheckpoint({ sessionId: "session-1" }))?.id).toBeDefined()
            await facade.stop()
          })
          const names = spans.slice(started).map((span) => span.name)
          expect(names).toContain("CheckpointStorage.storeAgentCheckpoint")
          expect(names).toContain("CheckpointStorage.retrieveAgentCheckpoint")
          expect(names).toContain("CheckpointStorage.retrieveLatestAgentCheckpoint")
          expect(names).not.toContain("sql.execute")
        }))

      it.effect("the hot statements answer the same on every pooled connection, many times over", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          // More concurrent callers than pooled connections: every connection prepares the statements once and
          // reuses them afterwards.
          const ids = yield* Effect.forEach(
            Array.from({ length: 40 }, (_, n) => n),
            (n) =>
              storage.storeAgentCheckpoint(checkpoint(`n-${n}`, { sessionId: "pooled", createdAt: 1_763_900_000_000 + n })),
            { concurrency: 20 }
          )
          for (let round = 0; round < 3; round++) {
            const read = yield* Effect.forEach(ids, (id) => storage.retrieveAgentCheckpoint(id), { concurrency: 20 })
            expect(read.map((c) => Option.getOrThrow(c).name)).toEqual(ids.map((_, n) => `n-${n}`))
          }
          const latest = yield* Effect.forEach(
            Array.from({ length: 20 }, () => ({ sessionId: "pooled", agentId: "agent-1" })),
            (filter) => storage.retrieveLatestAgentCheckpoint(filter),
            { concurrency: 20 }
          )
          for (const found of latest) expect(Option.getOrThrow(found).name).toBe("n-39")
        }).pipe(Effect.scoped))
    })
  })
}
