/**
 * What the cheap paths of the hot operations must keep: a span per operation for whoever collects spans (and none
 * built for Effect's default tracer, which shows them to nobody), and the same answers from the hot statements
 * (prepared once per pooled connection on PostgreSQL) whichever connection runs them.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option, Tracer } from "effect"
import { CheckpointStorage, CheckpointStoragePromise, type NamedAgentCheckpoint, type StorageLayerError } from "../src/index.js"
import { runtimeTargets } from "./support/provision.js"
import { TestDatabase } from "./support/TestDatabase.js"

const checkpoint = (name: string): NamedAgentCheckpoint => ({
  agentId: "agent-1",
  sessionId: "session-1",
  agentType: "coder",
  name,
  state: { step: name, messages: [{ role: "user", content: "hello" }] },
  createdAt: 1_763_900_000_000
})

// A tracer that records the names of the spans it is asked for, on top of the default one.
const recordingTracer = (names: Array<string>) =>
  Effect.map(Effect.tracer, (base) =>
    Tracer.make({
      span: (...args: Parameters<Tracer.Tracer["span"]>) => {
        names.push(args[0])
        return base.span(...args)
      },
      context: base.context
    }))

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
    layer(target.freshDatabase, { timeout: 60_000 })("operation spans", (it) => {
      it.effect("with a collecting tracer, every operation is a span named after it, around the SQL statements", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          const names: Array<string> = []
          const tracer = yield* recordingTracer(names)
          const id = yield* Effect.withTracer(storage.storeAgentCheckpoint(checkpoint("traced")), tracer)
          const stored = yield* Effect.withTracer(storage.retrieveAgentCheckpoint(id), tracer)
          expect(Option.map(stored, (c) => c.name)).toEqual(Option.some("traced"))
          yield* Effect.withTracer(storage.retrieveLatestAgentCheckpoint({ sessionId: "session-1" }), tracer)
          expect(names).toContain("CheckpointStorage.storeAgentCheckpoint")
          expect(names).toContain("CheckpointStorage.retrieveAgentCheckpoint")
          expect(names).toContain("CheckpointStorage.retrieveLatestAgentCheckpoint")
        }).pipe(Effect.scoped))

      it.effect("through a Promise facade whose layer collects spans, store, retrieve and latest are spans too", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const names: Array<string> = []
          const tracer = yield* recordingTracer(names)
          const facade = new FacadeOf(Layer.provide(db.storage(), Layer.setTracer(tracer)))
          yield* Effect.promise(async () => {
            await facade.start()
            // The facade's runtime is known once start() has settled; every call below runs on it.
            const id = await facade.storeAgentCheckpoint(checkpoint("facade"))
            expect((await facade.retrieveAgentCheckpoint(id))?.name).toBe("facade")
            expect((await facade.retrieveLatestAgentCheckpoint({ sessionId: "session-1" }))?.id).toBeDefined()
            await facade.stop()
          })
          expect(names).toContain("CheckpointStorage.storeAgentCheckpoint")
          expect(names).toContain("CheckpointStorage.retrieveAgentCheckpoint")
          expect(names).toContain("CheckpointStorage.retrieveLatestAgentCheckpoint")
        }))

      it.effect("a page, with and without its total, is a span with a collecting tracer and reads the same as without one", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          for (let n = 0; n < 7; n++) {
            yield* storage.storeAgentCheckpoint({ ...checkpoint(`page-${n}`), sessionId: "paged", createdAt: 1_763_900_000_000 + n })
          }
          const names: Array<string> = []
          const tracer = yield* recordingTracer(names)
          for (const options of [{ sessionId: "paged", limit: 3 }, { sessionId: "paged", limit: 3, includeTotal: true }]) {
            // Untraced: the direct call (the page and its count sent together); traced: the operation's Effect.
            const first = yield* storage.listAgentCheckpoints(options)
            expect(first.items.map((item) => item.name)).toEqual(["page-6", "page-5", "page-4"])
            expect(first.total).toEqual(options.includeTotal === true ? Option.some(7) : Option.none())
            expect(yield* Effect.withTracer(storage.listAgentCheckpoints(options), tracer)).toEqual(first)
            const next = { ...options, cursor: Option.getOrThrow(first.nextCursor) }
            const second = yield* storage.listAgentCheckpoints(next)
            expect(second.items.map((item) => item.name)).toEqual(["page-3", "page-2", "page-1"])
            expect(yield* Effect.withTracer(storage.listAgentCheckpoints(next), tracer)).toEqual(second)
          }
          expect(names.filter((name) => name === "CheckpointStorage.listAgentCheckpoints")).toHaveLength(4)
        }).pipe(Effect.scoped))

      it.effect("the hot statements answer the same on every pooled connection, many times over", () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const storage = Context.get(yield* Layer.build(db.storage()), CheckpointStorage)
          // More concurrent callers than pooled connections: every connection prepares the statements once and
          // reuses them afterwards.
          const ids = yield* Effect.forEach(
            Array.from({ length: 40 }, (_, n) => n),
            (n) => storage.storeAgentCheckpoint({ ...checkpoint(`n-${n}`), createdAt: 1_763_900_000_000 + n }),
            { concurrency: 20 }
          )
          for (let round = 0; round < 3; round++) {
            const read = yield* Effect.forEach(ids, (id) => storage.retrieveAgentCheckpoint(id), { concurrency: 20 })
            expect(read.map((c) => Option.getOrThrow(c).name)).toEqual(ids.map((_, n) => `n-${n}`))
          }
          const latest = yield* Effect.forEach(
            Array.from({ length: 20 }, () => ({ sessionId: "session-1", agentId: "agent-1" })),
            (filter) => storage.retrieveLatestAgentCheckpoint(filter),
            { concurrency: 20 }
          )
          for (const found of latest) expect(Option.getOrThrow(found).name).toBe("n-39")
        }).pipe(Effect.scoped))
    })
  })
}
