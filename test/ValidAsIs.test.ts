import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { compileValidAsIs } from "../src/internal/validAsIs.js"
import { NamedAgentCheckpoint } from "../src/schema/AgentCheckpoint.js"
import { AppSessionCheckpoint } from "../src/schema/AppCheckpoint.js"
import { AgentCheckpointFilter, AgentCheckpointListOptions, RetentionPolicy } from "../src/schema/CheckpointQuery.js"

// Values each field may take: right ones, and each way of being wrong.
const fieldValue = fc.oneof(
  fc.constantFrom("agent-1", "", "x".repeat(255), "x".repeat(256), "a\u0000b", "lone \ud800", "12", "01", "ASC", "createdAt"),
  fc.constantFrom(0, 1, 1.5, -1, Number.NaN, Number.MAX_SAFE_INTEGER, 2 ** 60, 50, 10_001),
  fc.constantFrom(null, undefined, true, {}, { nested: [1] }, [], () => 1),
  fc.string()
)
const inputOf = (keys: ReadonlyArray<string>) =>
  fc.oneof(
    fc.dictionary(fc.constantFrom(...keys, "extra"), fieldValue),
    fc.constantFrom(null, undefined, "text", 42, [], [1, 2])
  )

const cases = [
  ["NamedAgentCheckpoint", NamedAgentCheckpoint],
  ["AppSessionCheckpoint", AppSessionCheckpoint],
  ["AgentCheckpointFilter", AgentCheckpointFilter],
  ["AgentCheckpointListOptions", AgentCheckpointListOptions],
  ["RetentionPolicy", RetentionPolicy]
] as const

describe("validAsIs: the allocation-free check of an input against its Schema", () => {
  for (const [name, schema] of cases) {
    it(`agrees with the decoder of ${name} on any input, and the decoded value holds the input's values`, () => {
      const validAsIs = compileValidAsIs(schema.ast)
      expect(validAsIs).toBeDefined()
      const decode = Schema.decodeUnknownEither(schema as Schema.Schema<Record<string, unknown>, unknown>)
      const keys = Object.keys(schema.fields)
      fc.assert(
        fc.property(inputOf(keys), (input) => {
          const decoded = decode(input)
          expect(validAsIs!(input)).toBe(Either.isRight(decoded))
          if (Either.isRight(decoded)) {
            for (const key of keys) expect(decoded.right[key]).toBe((input as Record<string, unknown>)[key])
          }
        }),
        { numRuns: 2_000 }
      )
    })
  }

  it("accepts a typical checkpoint, and a required field inherited from the prototype as the decoder does", () => {
    const validAsIs = compileValidAsIs(NamedAgentCheckpoint.ast)!
    const checkpoint = { agentId: "a", sessionId: "s", agentType: "t", name: "", state: {}, createdAt: 1 }
    expect(validAsIs(checkpoint)).toBe(true)
    const inherited = Object.assign(Object.create({ agentId: "a" }), { ...checkpoint, agentId: undefined })
    delete inherited.agentId
    expect(validAsIs(inherited)).toBe(Either.isRight(Schema.decodeUnknownEither(NamedAgentCheckpoint)(inherited)))
  })

  it("has no check for a schema that transforms its input (the decoder must run)", () => {
    expect(compileValidAsIs(Schema.NumberFromString.ast)).toBeUndefined()
    expect(compileValidAsIs(Schema.Struct({ at: Schema.Date }).ast)).toBeUndefined()
    expect(compileValidAsIs(Schema.Struct({ n: Schema.Number }, Schema.Record({ key: Schema.String, value: Schema.String })).ast))
      .toBeUndefined()
    expect(compileValidAsIs(Schema.Struct({ n: Schema.Number }).annotations({ parseOptions: { exact: true } }).ast))
      .toBeUndefined()
  })
})
