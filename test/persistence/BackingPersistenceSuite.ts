/**
 * The conformance suite of the SQL BackingPersistence, written once and run on each target: the behaviour of
 * @effect/experimental's own memory backing (TTL on the Clock, getMany in order with None for what is missing or
 * expired, clear per store id), then what only a database can get wrong (hostile text, key limits, values that are
 * not JSON, thousands of keys in one statement, concurrent writers of one key).
 */
import { BackingPersistence, type PersistenceError } from "@effect/experimental/Persistence"
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Option, TestClock } from "effect"
import {
  layerBackingSql,
  layerFromConfig,
  makeSqlPersistenceStorage,
  PERSISTENCE_TABLE,
  PersistenceKeyLimits,
  PersistenceStorage
} from "../../src/index.js"
import { collectingTracer } from "../support/collectingTracer.js"
import { TestDatabase, type TestTarget } from "../support/TestDatabase.js"

/** Every service of the target's layer on a fresh database, with the BackingPersistence over it. */
export const withPersistence = (target: TestTarget) =>
  Layer.provideMerge(
    Layer.provideMerge(layerBackingSql, Layer.unwrapEffect(Effect.map(TestDatabase, (db) => layerFromConfig(db.config)))),
    target.freshDatabase
  )

/** The number of rows in the table, read behind the backing's back. */
export const countEntries = Effect.flatMap(TestDatabase, (db) =>
  db.withSql((sql) =>
    Effect.map(sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(PERSISTENCE_TABLE)}`, (rows) => Number(rows[0]!.n))
  ))

/** A store on an empty table. */
export const freshStore = (storeId: string) =>
  Effect.gen(function*() {
    yield* Effect.flatMap(PersistenceStorage, (persistence) => persistence.setup)
    yield* Effect.flatMap(TestDatabase, (db) => db.withSql((sql) => sql`DELETE FROM ${sql(PERSISTENCE_TABLE)}`))
    return yield* Effect.flatMap(BackingPersistence, (backing) => backing.make(storeId))
  })

const refusal = <A>(effect: Effect.Effect<A, PersistenceError>) =>
  Effect.map(Effect.flip(effect), (error) => {
    expect(error._tag).toBe("PersistenceError")
    expect(error.reason).toBe("BackingError")
    return (error.reason === "BackingError" ? error.cause : undefined) as { readonly _tag: string; readonly message: string }
  })

const never = Option.none<Duration.Duration>()
const ttl = (input: Duration.DurationInput) => Option.some(Duration.decode(input))

// Text that breaks naive SQL, LIKE patterns, collations that fold case or pad spaces, and Unicode normalisation.
const hostileKeys = [
  "'", "''", "\"", "\\", "%", "_", "k", "K", "k ", " k", "k\t", "é", "e\u0301", "🦊", "a'); DROP TABLE persistence_entries; --",
  "') UNION SELECT id, value FROM persistence_entries WHERE ('1'='1", "$1", "?", ":name", "null", ""
]

export const backingPersistenceSuite = (target: TestTarget) =>
  layer(withPersistence(target), { timeout: 180_000 })(`BackingPersistence on ${target.name}`, (it) => {
    describe("as @effect/experimental's memory backing", () => {
      it.scoped("get finds what set wrote, as JSON gives it back, and None for a key never set", () =>
        Effect.gen(function*() {
          const store = yield* freshStore("users")
          const value = { name: "Ada", tags: ["a", "b"], nested: { n: 1.5, ok: true, none: null }, emoji: "é🦊" }
          yield* store.set("user:1", value, never)
          expect(yield* store.get("user:1")).toEqual(Option.some(value))
          expect(yield* store.get("user:2")).toEqual(Option.none())
          yield* store.set("user:1", "replaced", never)
          expect(yield* store.get("user:1")).toEqual(Option.some("replaced"))
        }))

      it.scoped("an entry lives until its time to live has passed on the Clock, and one without lives on", () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(1_700_000_000_000)
          const store = yield* freshStore("ttl")
          yield* store.set("short", 1, ttl("1 second"))
          yield* store.set("forever", 2, never)
          const readShort = store.get("short") // made now, run after the expiry: the time is read when it runs
          yield* TestClock.adjust("999 millis")
          expect(yield* store.getMany(["short", "forever"])).toEqual([Option.some(1), Option.some(2)])
          yield* TestClock.adjust("1 millis")
          expect(yield* readShort).toEqual(Option.none())
          expect(yield* store.getMany(["short", "forever"])).toEqual([Option.none(), Option.some(2)])
          yield* TestClock.adjust("3650 days")
          expect(yield* store.get("forever")).toEqual(Option.some(2))
          // Setting again starts a new time to live; a zero one is already expired, as in the memory backing.
          yield* store.set("short", 3, ttl("1 minute"))
          expect(yield* store.get("short")).toEqual(Option.some(3))
          yield* store.set("zero", 4, ttl(0))
          expect(yield* store.get("zero")).toEqual(Option.none())
        }))

      it.scoped("getMany answers in the order asked, None for a missing or expired key, a repeated key twice", () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(1_700_000_000_000)
          const store = yield* freshStore("many")
          yield* store.setMany([["a", "A", never], ["c", { c: true }, never], ["old", "gone", ttl("1 second")]])
          yield* TestClock.adjust("2 seconds")
          expect(yield* store.getMany(["c", "missing", "a", "old", "c"])).toEqual([
            Option.some({ c: true }),
            Option.none(),
            Option.some("A"),
            Option.none(),
            Option.some({ c: true })
          ])
          expect(yield* store.getMany([])).toEqual([])
        }))

      it.scoped("setMany writes every entry with its own time to live; of a key given twice the last wins", () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(1_700_000_000_000)
          const store = yield* freshStore("setMany")
          yield* store.set("b", "before", never)
          yield* store.setMany([["a", 1, ttl("1 minute")], ["b", 2, never], ["a", 3, ttl("1 hour")]])
          expect(yield* store.getMany(["a", "b"])).toEqual([Option.some(3), Option.some(2)])
          yield* TestClock.adjust("2 minutes")
          expect(yield* store.get("a")).toEqual(Option.some(3))
          yield* store.setMany([])
          expect(yield* countEntries).toBe(2)
        }))

      it.scoped("remove deletes one key; clear empties its own store id only", () =>
        Effect.gen(function*() {
          const mine = yield* freshStore("mine")
          const theirs = yield* Effect.flatMap(BackingPersistence, (backing) => backing.make("theirs"))
          yield* mine.setMany([["k1", 1, never], ["k2", 2, never]])
          yield* theirs.setMany([["k1", "t1", never], ["k2", "t2", never]])
          yield* mine.remove("k1")
          yield* mine.remove("never-set")
          expect(yield* mine.getMany(["k1", "k2"])).toEqual([Option.none(), Option.some(2)])
          yield* mine.clear
          expect(yield* mine.get("k2")).toEqual(Option.none())
          expect(yield* theirs.getMany(["k1", "k2"])).toEqual([Option.some("t1"), Option.some("t2")])
        }))
    })

    describe("hostile text", () => {
      it.scoped("keys and values that break SQL, LIKE, collations or normalisation are kept apart and read back", () =>
        Effect.gen(function*() {
          const store = yield* freshStore("hostile ' \" \\ %_ 🦊")
          yield* store.setMany(hostileKeys.map((key, i) => [key, { key, i, text: `${key}\u0000'"\\\n` }, never] as const))
          expect(yield* countEntries).toBe(hostileKeys.length)
          const read = yield* store.getMany(hostileKeys)
          read.forEach((value, i) =>
            expect(value).toEqual(Option.some({ key: hostileKeys[i], i, text: `${hostileKeys[i]}\u0000'"\\\n` })))
          for (const [i, key] of hostileKeys.entries()) expect(yield* store.get(key)).toEqual(read[i])
        }))

      it.scoped("a key crafted to escape the IN list reads nothing of another store", () =>
        Effect.gen(function*() {
          const victim = yield* freshStore("victim")
          yield* victim.set("secret", "the secret", never)
          const attacker = yield* Effect.flatMap(BackingPersistence, (backing) => backing.make("attacker"))
          const probe = "') OR ('1'='1"
          expect(yield* attacker.getMany(["secret", probe])).toEqual([Option.none(), Option.none()])
          expect(yield* attacker.get(probe)).toEqual(Option.none())
          yield* attacker.remove(probe)
          yield* attacker.clear
          expect(yield* victim.get("secret")).toEqual(Option.some("the secret"))
        }))
    })

    describe("what is refused, with nothing written", () => {
      it.scoped("a key or store id over its limit, with NUL or a lone surrogate: a BackingError naming it", () =>
        Effect.gen(function*() {
          const store = yield* freshStore("limits")
          const longest = "é".repeat(PersistenceKeyLimits.keyBytes / 2)
          yield* store.set(longest, "fits", never)
          expect(yield* store.get(longest)).toEqual(Option.some("fits"))
          const tooLong = `${longest}x`
          const cause = yield* refusal(store.set(tooLong, "no", never))
          expect(cause._tag).toBe("CheckpointValidationError")
          expect(cause.message).toContain("1025 bytes long in UTF-8, over the limit of 1024")
          expect((yield* refusal(store.setMany([["ok", 1, never], ["nul\u0000", 2, never]]))).message).toContain("keys[1]")
          expect((yield* refusal(store.get("\uD800"))).message).toContain("lone surrogate")
          expect((yield* refusal(store.getMany(["ok", tooLong]))).message).toContain("keys[1]")
          const wide = yield* Effect.flatMap(BackingPersistence, (backing) => backing.make("s".repeat(256)))
          expect((yield* refusal(wide.set("k", 1, never))).message).toContain("store id is 256 bytes")
          expect(yield* countEntries).toBe(1)
        }))

      it.scoped("a value that JSON cannot write: a BackingError with StateEncodeError, and no entry of the call", () =>
        Effect.gen(function*() {
          const store = yield* freshStore("encode")
          const cyclic: Record<string, unknown> = {}
          cyclic.self = cyclic
          expect((yield* refusal(store.set("big", 10n, never)))._tag).toBe("StateEncodeError")
          expect((yield* refusal(store.setMany([["fine", 1, never], ["cycle", cyclic, never]])))._tag).toBe("StateEncodeError")
          expect((yield* refusal(store.set("nothing", undefined, never)))._tag).toBe("StateEncodeError")
          expect(yield* countEntries).toBe(0)
        }))
    })

    describe("scale and concurrency", () => {
      it.scoped("5000 keys: setMany is one statement, getMany is one statement, every key bound", () =>
        Effect.gen(function*() {
          yield* freshStore("scale")
          const { spans, tracer } = yield* collectingTracer
          const db = yield* TestDatabase
          const traced = yield* db.withSql((sql) =>
            Effect.provideService(makeSqlPersistenceStorage({ statementSpans: true }), SqlClient, sql)
          )
          yield* traced.setup
          const store = yield* traced.backing.make("scale")
          const keys = Array.from({ length: 5000 }, (_, i) => `key '${i}' 🦊`)
          const statementsOf = <A, E>(effect: Effect.Effect<A, E>) =>
            Effect.gen(function*() {
              const from = spans.length
              const result = yield* Effect.withTracer(effect, tracer)
              return [result, spans.slice(from).filter((span) => span.name === "sql.execute").length] as const
            })
          const [, writes] = yield* statementsOf(store.setMany(keys.map((key, i) => [key, { i }, never] as const)))
          expect(writes).toBe(1)
          const [read, reads] = yield* statementsOf(store.getMany([...keys].reverse()))
          expect(reads).toBe(1)
          expect(read.map(Option.getOrThrow)).toEqual(keys.map((_, i) => ({ i })).reverse())
          expect(yield* countEntries).toBe(5000)
        }))

      it.scoped("concurrent writers of one key: every write succeeds and one value remains", () =>
        Effect.gen(function*() {
          const store = yield* freshStore("race")
          const writers = Array.from({ length: 24 }, (_, i) => i)
          yield* Effect.forEach(writers, (i) =>
            i % 2 === 0
              ? store.set("shared", { writer: i }, never)
              // Overlapping setMany calls in opposite orders must not deadlock each other.
              : store.setMany(i % 4 === 1
                ? [["shared", { writer: i }, never], ["other", i, never]]
                : [["other", i, never], ["shared", { writer: i }, never]]), { concurrency: "unbounded", discard: true })
          const value = Option.getOrThrow(yield* store.get("shared")) as { readonly writer: number }
          expect(writers).toContain(value.writer)
          expect(yield* countEntries).toBe(2)
        }))
    })
  })
