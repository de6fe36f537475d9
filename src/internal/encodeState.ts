/**
 * Checkpoint state to JSON text, with a precise error when it cannot be done.
 */
import * as Either from "effect/Either"
import { StateEncodeError } from "../services/CheckpointStorageError.js"

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

const childPath = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Walks the value the way JSON.stringify does and returns the first place it cannot encode. Only called after
 * JSON.stringify has failed, so the fast path pays nothing for it.
 */
const findUnencodable = (value: unknown, path: string, ancestors: Array<object>): StateEncodeError | undefined => {
  if (typeof value === "bigint") {
    return new StateEncodeError({ path, reason: "a BigInt has no JSON form (store it as a string or a number)" })
  }
  if (typeof value !== "object" || value === null) return undefined
  if (ancestors.includes(value)) {
    return new StateEncodeError({ path, reason: "the object refers back to itself (a circular reference)" })
  }
  let current: unknown = value
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === "function") {
    try {
      current = toJSON.call(value, "")
    } catch (error) {
      return new StateEncodeError({ path, reason: `its toJSON() threw: ${errorText(error)}` })
    }
    if (current !== value) return findUnencodable(current, path, ancestors)
  }
  ancestors.push(value)
  try {
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index++) {
        const found = findUnencodable(current[index], childPath(path, index), ancestors)
        if (found !== undefined) return found
      }
    } else {
      for (const key of Object.keys(current as object)) {
        const found = findUnencodable((current as Record<string, unknown>)[key], childPath(path, key), ancestors)
        if (found !== undefined) return found
      }
    }
    return undefined
  } finally {
    ancestors.pop()
  }
}

/**
 * Encodes a checkpoint's state as JSON text, as `JSON.stringify` does (undefined properties and functions are
 * left out, `NaN` and `±Infinity` become `null`, a `Date` becomes its ISO string). A value JSON cannot hold (a
 * BigInt, a cycle, a throwing `toJSON`) gives a `StateEncodeError` naming where it is.
 *
 * @internal
 */
export const encodeState = (state: object): Either.Either<string, StateEncodeError> => {
  try {
    const json: unknown = JSON.stringify(state)
    if (typeof json === "string") return Either.right(json)
    return Either.left(new StateEncodeError({ path: "state", reason: "it has no JSON form" }))
  } catch (error) {
    return Either.left(
      findUnencodable(state, "state", []) ?? new StateEncodeError({ path: "state", reason: errorText(error) })
    )
  }
}

/**
 * The size of a state as the storage records it (`sizeBytes`, statistics, `maxStateBytes`): UTF-8 bytes of its JSON
 * text. The one place this rule is written.
 *
 * @internal
 */
export const encodedStateBytes = (json: string): number => Buffer.byteLength(json, "utf8")
