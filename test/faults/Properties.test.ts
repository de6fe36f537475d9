/**
 * Property-based tests (fast-check, through @effect/vitest's `it.effect.prop`) on every database: any JSON state
 * round-trips, hostile text in every field is stored and returned as data, and invalid input writes nothing.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, FastCheck as fc, Layer, Option } from "effect"
import { CheckpointStorage, MAX_IDENTIFIER_LENGTH, type NamedAgentCheckpoint } from "../../src/index.js"
import { runtimeTargets } from "../support/provision.js"
import { TestDatabase, type TestTarget } from "../support/TestDatabase.js"

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60)

const withStorage = (target: TestTarget) =>
  Layer.provideMerge(Layer.unwrapEffect(Effect.map(TestDatabase, (db) => db.storage())), target.freshDatabase)

const countAgentRows = Effect.flatMap(TestDatabase, (db) =>
  db.withSql((sql) =>
    Effect.map(sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM ${sql("AgentCheckpoints")}`, (rows) =>
      Number(rows[0]!.n))
  ))

// Text a person or an attacker might put anywhere: SQL fragments, quotes, backslashes, wildcards, control
// characters, any Unicode (lone surrogates included: they are valid inside a JSON state).
const hostileFragments = fc.constantFrom(
  "'; DROP TABLE \"AgentCheckpoints\"; --",
  "\" OR 1=1 --",
  "` OR `1`=`1",
  "\\",
  "\\'",
  "%",
  "_",
  "$1",
  "?",
  "\u0000",
  "\r\n",
  "\t",
  "🦊",
  "\ud800",
  "e\u0301"
)
const hostileText = fc.array(fc.oneof(hostileFragments, fc.string({ unit: "binary" })), { maxLength: 8 }).map((parts) => parts.join(""))

// What an identifier field accepts: non-empty, well-formed, without NUL (PostgreSQL cannot store it), within the limit.
const hostileIdentifier = hostileText
  .map((text) => text.replaceAll("\u0000", "").slice(0, MAX_IDENTIFIER_LENGTH))
  .filter((text) => text.length > 0 && text.isWellFormed())

const anyState = fc.dictionary(fc.oneof(hostileText, fc.string()), fc.jsonValue({ maxDepth: 6 }), { maxKeys: 12 })

const deepState = fc.integer({ min: 50, max: 300 }).map((depth) => {
  let state: Record<string, unknown> = { leaf: "bottom" }
  for (let level = 0; level < depth; level++) state = { level, child: state, list: [level, -level, level / 3] }
  return state
})

const extremeNumbers = fc.array(
  fc.oneof(
    fc.constantFrom(Number.MAX_VALUE, Number.MIN_VALUE, -Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, 1e-300, 0),
    fc.double({ noNaN: true, noDefaultInfinity: true })
  ),
  { minLength: 1, maxLength: 2_000 }
).map((numbers) => ({ numbers }))

const checkpointOf = (fields: Partial<NamedAgentCheckpoint>): NamedAgentCheckpoint => ({
  agentId: "agent",
  sessionId: "session",
  agentType: "coder",
  name: "property",
  state: {},
  createdAt: 1,
  ...fields
})

const storedAsJson = (state: unknown) => JSON.parse(JSON.stringify(state)) as unknown

for (const target of runtimeTargets) {
  describe(`${target.name}: properties`, () => {
    layer(withStorage(target), { timeout: 300_000 })("round trips", (it) => {
      it.effect.prop("any JSON object state comes back as JSON.stringify wrote it", { state: anyState }, ({ state }) =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const id = yield* storage.storeAgentCheckpoint(checkpointOf({ state }))
          const read = yield* storage.retrieveAgentCheckpoint(id)
          expect(Option.map(read, (checkpoint) => checkpoint.state)).toEqual(Option.some(storedAsJson(state)))
        }), { timeout: 300_000, fastCheck: { numRuns: RUNS } })

      it.effect.prop("deep nesting and extreme numbers survive", { deep: deepState, numbers: extremeNumbers }, ({ deep, numbers }) =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const state = { deep, ...numbers }
          const id = yield* storage.storeAppCheckpoint({
            sessionId: "s",
            hostname: "h",
            workspaceDirectory: "/",
            state,
            createdAt: 1
          })
          const read = yield* storage.retrieveAppCheckpoint(id)
          expect(Option.map(read, (checkpoint) => checkpoint.state)).toEqual(Option.some(storedAsJson(state)))
        }), { timeout: 300_000, fastCheck: { numRuns: Math.max(5, Math.round(RUNS / 4)) } })

      it.effect.prop(
        "hostile text in every field is stored and returned as data, and finds exactly its own rows",
        { agentId: hostileIdentifier, sessionId: hostileIdentifier, agentType: hostileIdentifier, name: hostileIdentifier },
        (fields) =>
          Effect.gen(function*() {
            const storage = yield* CheckpointStorage
            const checkpoint = checkpointOf({ ...fields, state: { text: fields.name } })
            const id = yield* storage.storeAgentCheckpoint(checkpoint)
            expect(yield* storage.retrieveAgentCheckpoint(id)).toEqual(Option.some({ id, ...checkpoint }))
            const page = yield* storage.listAgentCheckpoints({ sessionId: fields.sessionId, agentId: fields.agentId, limit: 1_000 })
            expect(page.items.every((item) => item.sessionId === fields.sessionId && item.agentId === fields.agentId)).toBe(true)
            expect(page.items.map((item) => item.id)).toContain(id)
            expect(yield* storage.deleteAgentCheckpoint(id)).toBe(1)
          }),
        { timeout: 300_000, fastCheck: { numRuns: RUNS } }
      )
    })

    layer(withStorage(target), { timeout: 300_000 })("invalid input", (it) => {
      const wrongValue = fc.oneof(
        fc.constant(undefined),
        fc.constant(null),
        fc.integer(),
        fc.boolean(),
        fc.array(fc.string(), { maxLength: 2 }),
        fc.constant(""),
        fc.constant("x".repeat(MAX_IDENTIFIER_LENGTH + 1)),
        fc.constant("nul\u0000inside"),
        fc.constant("lone\udc00")
      )
      const field = fc.constantFrom("agentId", "sessionId", "agentType")
      it.effect.prop("a wrong value in an identifier field gives CheckpointValidationError and writes nothing", {
        field,
        value: wrongValue
      }, ({ field, value }) =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          const before = yield* countAgentRows
          const error = yield* Effect.flip(storage.storeAgentCheckpoint({ ...checkpointOf({}), [field]: value } as NamedAgentCheckpoint))
          expect(error._tag).toBe("CheckpointValidationError")
          expect(yield* countAgentRows).toBe(before)
        }), { timeout: 300_000, fastCheck: { numRuns: RUNS } })

      it.effect.prop("a state JSON cannot hold gives StateEncodeError and writes nothing", {
        where: fc.array(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 })
      }, ({ where }) =>
        Effect.gen(function*() {
          const storage = yield* CheckpointStorage
          let state: Record<string, unknown> = { value: 10n }
          for (const key of [...where].reverse()) state = { [key]: state }
          const before = yield* countAgentRows
          const error = yield* Effect.flip(storage.storeAgentCheckpoint(checkpointOf({ state })))
          expect(error._tag).toBe("StateEncodeError")
          expect(yield* countAgentRows).toBe(before)
        }), { timeout: 300_000, fastCheck: { numRuns: Math.max(5, Math.round(RUNS / 4)) } })
    })
  })
}
