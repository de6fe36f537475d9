/**
 * What users build on the SQL backing, on each target: a PersistedCache and an @effect/ai Chat persisted through it,
 * the program restarted (a new layer over the same database) and the data read back; and the upkeep of the table
 * (installed, statistics, prune) that the CLI shows.
 */
import { Chat, LanguageModel } from "@effect/ai"
import * as PersistedCache from "@effect/experimental/PersistedCache"
import { BackingPersistence, layerResult } from "@effect/experimental/Persistence"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, PrimaryKey, Ref, Schema, Stream, TestClock } from "effect"
import { layerBackingSql, layerFromConfig, PersistenceStorage } from "../../src/index.js"
import { TestDatabase, type TestTarget } from "../support/TestDatabase.js"
import { countEntries, freshStore } from "./BackingPersistenceSuite.js"

/** A request whose result the cache keeps. */
class GetGreeting extends Schema.TaggedRequest<GetGreeting>()("GetGreeting", {
  failure: Schema.String,
  success: Schema.Struct({ greeting: Schema.String, computedAt: Schema.Number }),
  payload: { name: Schema.String }
}) {
  [PrimaryKey.symbol]() {
    return `greeting:${this.name}`
  }
}

/**
 * A language model with no provider and no network: it answers with the number of messages it was sent, so that
 * an answer shows whether the chat's earlier history reached it.
 */
export const cannedLanguageModel: Layer.Layer<LanguageModel.LanguageModel> = Layer.effect(
  LanguageModel.LanguageModel,
  LanguageModel.make({
    generateText: (options) =>
      Effect.succeed([
        { type: "text" as const, text: `I was sent ${options.prompt.content.length} messages` },
        { type: "finish" as const, reason: "stop" as const, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }
      ]),
    streamText: () => Stream.die("not used")
  })
)

/** The storage layer of the group's database, built anew: a program starting again on the same data. */
const restartedServices = Effect.flatMap(TestDatabase, (db) =>
  Layer.build(Layer.provideMerge(layerBackingSql, layerFromConfig(db.config))))

/** Empties the table (creating it if needed). */
const emptyTable = Effect.asVoid(freshStore("upkeep"))

export const persistenceIntegrationSuite = (target: TestTarget) =>
  layer(target.freshDatabase, { timeout: 180_000 })(`Persistence users on ${target.name}`, (it) => {
    it.scoped("the table is created by the first use only, and installed says so without creating it", () =>
      Effect.gen(function*() {
        const first = yield* restartedServices
        const persistence = Context.get(first, PersistenceStorage)
        expect(yield* persistence.installed).toBe(false)
        expect(yield* Context.get(yield* restartedServices, PersistenceStorage).installed).toBe(false)
        const store = yield* Context.get(first, BackingPersistence).make("first")
        yield* store.set("k", 1, Option.none())
        expect(yield* Context.get(yield* restartedServices, PersistenceStorage).installed).toBe(true)
      }))

    it.scoped("a PersistedCache computes once; after a restart it reads the result back without computing", () =>
      Effect.gen(function*() {
        const computed = yield* Ref.make(0)
        const cacheOn = (services: Context.Context<BackingPersistence>) =>
          PersistedCache.make({
            storeId: "greetings",
            lookup: (request: GetGreeting) =>
              Effect.map(Ref.updateAndGet(computed, (n) => n + 1), (n) => ({ greeting: `hello ${request.name}`, computedAt: n })),
            timeToLive: () => "1 hour"
          }).pipe(Effect.provide(layerResult.pipe(Layer.provide(Layer.succeedContext(services)))))
        const cache = yield* cacheOn(yield* restartedServices)
        expect(yield* cache.get(new GetGreeting({ name: "Ada 🦊" }))).toEqual({ greeting: "hello Ada 🦊", computedAt: 1 })
        expect(yield* cache.get(new GetGreeting({ name: "Ada 🦊" }))).toEqual({ greeting: "hello Ada 🦊", computedAt: 1 })

        const restarted = yield* cacheOn(yield* restartedServices)
        expect(yield* restarted.get(new GetGreeting({ name: "Ada 🦊" }))).toEqual({ greeting: "hello Ada 🦊", computedAt: 1 })
        expect(yield* Ref.get(computed)).toBe(1)
        yield* restarted.invalidate(new GetGreeting({ name: "Ada 🦊" }))
        expect(yield* restarted.get(new GetGreeting({ name: "Ada 🦊" }))).toEqual({ greeting: "hello Ada 🦊", computedAt: 2 })
      }))

    it.scoped("an @effect/ai Chat keeps its history through a restart", () =>
      Effect.gen(function*() {
        const chatsOn = (services: Context.Context<BackingPersistence>) =>
          Effect.map(
            Layer.build(Chat.layerPersisted({ storeId: "chats" }).pipe(Layer.provide(Layer.succeedContext(services)))),
            (context) => Context.get(context, Chat.Persistence)
          )
        const model = cannedLanguageModel
        const chats = yield* chatsOn(yield* restartedServices)
        const chat = yield* chats.getOrCreate("chat-1")
        yield* chat.generateText({ prompt: "My name is Ada." }).pipe(Effect.provide(model))
        yield* chat.generateText({ prompt: "What's my name? 'quote' \"double\" 🦊" }).pipe(Effect.provide(model))

        const restarted = yield* chatsOn(yield* restartedServices)
        const again = yield* restarted.get("chat-1")
        const history = yield* Ref.get(again.history)
        const texts = history.content.map((message) => [
          message.role,
          typeof message.content === "string"
            ? message.content
            : message.content.map((part) => ("text" in part ? part.text : part.type)).join("")
        ])
        expect(texts).toEqual([
          ["user", "My name is Ada."],
          ["assistant", "I was sent 1 messages"],
          ["user", "What's my name? 'quote' \"double\" 🦊"],
          ["assistant", "I was sent 3 messages"]
        ])
        expect((yield* Effect.flip(restarted.get("no-such-chat")))._tag).toBe("ChatNotFoundError")
      }))

    describe("upkeep", () => {
      it.scoped("statistics count entries, expired ones and value bytes per store id; prune deletes only the expired", () =>
        Effect.gen(function*() {
          const services = yield* restartedServices
          const persistence = Context.get(services, PersistenceStorage)
          yield* Effect.provide(emptyTable, services)
          yield* TestClock.setTime(1_700_000_000_000)
          const backing = Context.get(services, BackingPersistence)
          const cache = yield* backing.make("cache")
          const chats = yield* backing.make("chats ' 🦊")
          yield* cache.setMany([
            ["a", "é", Option.some(Duration.seconds(1))],
            ["b", "x", Option.none()]
          ])
          yield* chats.set("c1", { m: 1 }, Option.some(Duration.seconds(5)))
          yield* TestClock.adjust("2 seconds")
          expect(yield* persistence.statistics()).toEqual([
            { storeId: "cache", entries: 2, expired: 1, valueBytes: 4 + 3 },
            { storeId: "chats ' 🦊", entries: 1, expired: 0, valueBytes: 7 }
          ])
          const plan = yield* persistence.planPrune()
          expect(plan).toEqual({ count: 1, sample: [{ storeId: "cache", key: "a", expiresAt: 1_700_000_001_000 }] })
          expect(yield* countEntries).toBe(3)
          expect(yield* persistence.prune()).toBe(1)
          expect(yield* countEntries).toBe(2)
          expect(yield* persistence.prune()).toBe(0)
          expect(yield* cache.get("b")).toEqual(Option.some("x"))
          expect((yield* persistence.planPrune({ sampleSize: 0 })).count).toBe(0)
        }))
    })
  })
