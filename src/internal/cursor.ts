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

// A cursor is base64url of `[version, sortValue, key, fingerprint]`: the version tells a checkpoint list's cursor (1,
// numeric id) from a text-keyed list's (2), and the fingerprint ties it to the query that handed it out.
const decodeEnvelope = (
  query: unknown,
  cursor: string,
  version: 1 | 2,
  isKey: (key: unknown) => boolean
): Either.Either<readonly [sortValue: number, key: unknown], string> => {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    return Either.left("is not a cursor this storage returned")
  }
  if (
    !Array.isArray(decoded) || decoded.length !== 4 || decoded[0] !== version ||
    !Number.isSafeInteger(decoded[1]) || !isKey(decoded[2]) || typeof decoded[3] !== "string"
  ) {
    return Either.left("is not a cursor this storage returned")
  }
  if (decoded[3] !== fingerprint(query)) {
    return Either.left("belongs to a list with another filter or order")
  }
  return Either.right([decoded[1] as number, decoded[2]])
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
export const decodeCursor = (query: unknown, cursor: string): Either.Either<CursorPosition, string> =>
  Either.map(
    decodeEnvelope(query, cursor, 1, Number.isSafeInteger),
    ([sortValue, id]) => ({ sortValue, id: id as number })
  )

/**
 * A position in a list ordered by a time, then a text key (a session or agent id), both descending.
 *
 * @internal
 */
export interface KeyCursorPosition {
  readonly sortValue: number
  readonly key: string
}

/**
 * An opaque cursor of a list keyed by text: base64url of the last entry's time and key and the query's fingerprint.
 * Its first element (2) tells it from a checkpoint list's cursor.
 *
 * @internal
 */
export const encodeKeyCursor = (query: unknown, position: KeyCursorPosition): string =>
  Buffer.from(JSON.stringify([2, position.sortValue, position.key, fingerprint(query)])).toString("base64url")

/**
 * The position a text-keyed cursor names, or a reason it cannot be used for this query.
 *
 * @internal
 */
export const decodeKeyCursor = (query: unknown, cursor: string): Either.Either<KeyCursorPosition, string> =>
  Either.map(
    decodeEnvelope(query, cursor, 2, (key) => typeof key === "string"),
    ([sortValue, key]) => ({ sortValue, key: key as string })
  )
