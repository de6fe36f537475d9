/**
 * Keyset cursors: where the next page of a list starts, tied to the query that produced it.
 */
import * as Either from "effect/Either"

/** @internal */
export interface CursorPosition {
  /** The sort value of the last row returned (its createdAt when ordering by createdAt). */
  readonly sortValue: number
  readonly id: number
}

// FNV-1a over the UTF-16 units of the query's JSON: a short, stable fingerprint of the query, so that a cursor is not
// used with another filter or order. An index loop: the first release iterated characters (`for…of`), which cost
// about 10 µs of a 50-row page and hashed only the first unit of a character outside the BMP ("🙂" and "🙃" alike).
// Both give the same fingerprint for text within the BMP, so only a cursor of a filter with such a character, handed
// out by the first release, is now refused (as belonging to another list).
const fingerprint = (query: unknown): string => {
  const text = JSON.stringify(query)
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(36)
}

/**
 * An opaque cursor: base64url of the last row's sort key and the query's fingerprint.
 *
 * @internal
 */
export const encodeCursor = (query: unknown, position: CursorPosition): string =>
  Buffer.from(JSON.stringify([1, position.sortValue, position.id, fingerprint(query)])).toString("base64url")

/**
 * The position a cursor names, or a reason it cannot be used for this query.
 *
 * @internal
 */
export const decodeCursor = (query: unknown, cursor: string): Either.Either<CursorPosition, string> => {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    return Either.left("is not a cursor this storage returned")
  }
  if (
    !Array.isArray(decoded) || decoded.length !== 4 || decoded[0] !== 1 ||
    !Number.isSafeInteger(decoded[1]) || !Number.isSafeInteger(decoded[2]) || typeof decoded[3] !== "string"
  ) {
    return Either.left("is not a cursor this storage returned")
  }
  if (decoded[3] !== fingerprint(query)) {
    return Either.left("belongs to a list with another filter or order")
  }
  return Either.right({ sortValue: decoded[1], id: decoded[2] })
}
