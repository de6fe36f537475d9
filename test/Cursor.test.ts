import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Either from "effect/Either"
import { decodeCursor, encodeCursor } from "../src/internal/cursor.js"

// A cursor as the first release wrote it: the fingerprint hashed each character of the query's JSON (`for…of`, so a
// character outside the BMP counted once, by its first UTF-16 unit). A cursor a client still holds from then must keep
// working, unless its filter has such a character (which that fingerprint could not tell from its neighbours).
const firstReleaseCursor = (query: unknown, sortValue: number, id: number): string => {
  let hash = 0x811c9dc5
  for (const char of JSON.stringify(query)) {
    hash ^= char.charCodeAt(0)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return Buffer.from(JSON.stringify([1, sortValue, id, hash.toString(36)])).toString("base64url")
}

// Filter values of every kind of text: ASCII, accents, emoji (surrogate pairs), lone surrogates, either order.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("session-1", "résumé", "🙂🙂", "\ud83d", "\ude42", "a\ude42\ud83d", "\ud83d\ud83d\ude42", "")
)
const query = fc.record({
  filter: fc.record({
    sessionId: fc.option(text, { nil: null }),
    agentId: fc.option(text, { nil: null }),
    agentType: fc.option(text, { nil: null }),
    before: fc.option(fc.nat(), { nil: null }),
    after: fc.option(fc.nat(), { nil: null })
  }),
  orderBy: fc.constantFrom("createdAt", "id"),
  orderDir: fc.constantFrom("ASC", "DESC")
})
const position = fc.record({ sortValue: fc.nat(), id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) })

describe("keyset cursors", () => {
  it("are the same text as the first release's for filters within the BMP, so a cursor a client holds still reads its next page", () => {
    fc.assert(
      fc.property(query, position, (q, at) => {
        const cursor = encodeCursor(q, at)
        expect(decodeCursor(q, cursor)).toStrictEqual(Either.right(at))
        if (!/[\ud800-\udbff][\udc00-\udfff]/.test(JSON.stringify(q))) {
          expect(cursor).toBe(firstReleaseCursor(q, at.sortValue, at.id))
          expect(decodeCursor(q, firstReleaseCursor(q, at.sortValue, at.id))).toStrictEqual(Either.right(at))
        }
      }),
      { numRuns: 3000 }
    )
  })

  it("are refused for a query that differs in one character of a filter, even outside the BMP", () => {
    const base = { filter: { sessionId: "chat 🙂", agentId: null }, orderBy: "createdAt", orderDir: "DESC" }
    const cursor = encodeCursor(base, { sortValue: 5, id: 7 })
    // "🙃" differs from "🙂" in its second UTF-16 unit only.
    for (const sessionId of ["chat 🙃", "chat \ud83d", "chat 🙂 ", "chat"]) {
      expect(decodeCursor({ ...base, filter: { ...base.filter, sessionId } }, cursor)).toStrictEqual(
        Either.left("belongs to a list with another filter or order")
      )
    }
    expect(decodeCursor({ ...base, orderDir: "ASC" }, cursor)).toStrictEqual(
      Either.left("belongs to a list with another filter or order")
    )
  })
})
