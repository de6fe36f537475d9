/**
 * The row reader compiled from a row Schema gives what the Schema gives, for every row it reads, and leaves to the
 * Schema every row the Schema refuses.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Schema } from "effect"
import { compileRowReader } from "../src/layers/CheckpointColumns.js"
import { agentCheckpoints, appCheckpoints } from "../src/layers/CheckpointTables.js"

// What the drivers return for a column, and some of what they never should.
const bigint = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.integer({ min: 0, max: 2 ** 40 }).map(String),
  fc.bigInt({ min: 0n, max: 2n ** 40n }),
  fc.constantFrom("", " ", "abc", null, undefined, true, {})
)
const text = fc.oneof(fc.string(), fc.constantFrom(null, undefined, 1))
const row = fc.record({
  id: bigint,
  createdAt: bigint,
  parentId: fc.oneof(bigint, fc.constant(null)),
  sessionId: text,
  agentId: text,
  agentType: text,
  name: text,
  hostname: text,
  workspaceDirectory: text,
  state: text,
  extra: fc.anything()
}, { requiredKeys: ["id", "createdAt", "sessionId", "agentId", "agentType", "name", "hostname", "workspaceDirectory", "state"] })

describe("the compiled row reader", () => {
  for (const table of [agentCheckpoints, appCheckpoints]) {
    for (const [name, schema] of [["row", table.row], ["list row", table.listRow]] as const) {
      it(`reads a ${table.name} ${name} as its Schema decodes it, and leaves what the Schema refuses to it`, () => {
        const read = compileRowReader(schema.fields)
        const decode = Schema.decodeUnknownEither(Schema.Array(schema))
        let readCount = 0
        fc.assert(fc.property(fc.array(row, { maxLength: 3 }), (rows) => {
          const viaReader = read(rows)
          const viaSchema = decode(rows)
          if (viaReader === undefined) {
            // Only a row set with one the rules refuse, which the Schema refuses too.
            expect(Either.isLeft(viaSchema)).toBe(true)
          } else {
            readCount++
            expect(Either.getOrThrow(viaSchema)).toEqual(viaReader)
          }
        }), { numRuns: 2000 })
        expect(readCount).toBeGreaterThan(100)
      })
    }
  }
})
