/**
 * The differences between two JSON values, as the paths a person would look up: `$.messages[2].content`.
 * Pure (no DOM), so that it is unit-tested under Node and shared by the page's diff view.
 */

/** One difference: a path that only `b` has (added), only `a` has (removed), or whose value differs (changed). */
export interface JsonDifference {
  readonly path: string
  readonly kind: "added" | "removed" | "changed"
  readonly before?: unknown
  readonly after?: unknown
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Appends an object key to a path: `.key` when it reads as an identifier, `["odd key"]` otherwise. */
export const childPath = (parent: string, key: string): string =>
  IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`

/** Appends an array index to a path. */
export const indexPath = (parent: string, index: number): string => `${parent}[${index}]`

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

// Object.hasOwn, not `in`: a state may hold a key named "constructor" or "__proto__".
const hasKey = (record: Readonly<Record<string, unknown>>, key: string): boolean => Object.hasOwn(record, key)

const walk = (a: unknown, b: unknown, path: string, out: Array<JsonDifference>): void => {
  if (Array.isArray(a) && Array.isArray(b)) {
    // Index by index, not a sequence alignment: agent states grow by appending (messages, tool calls), which this
    // reports exactly, and a path stays the one the reader can find in both trees.
    const shared = Math.min(a.length, b.length)
    for (let i = 0; i < shared; i++) walk(a[i], b[i], indexPath(path, i), out)
    for (let i = shared; i < a.length; i++) out.push({ path: indexPath(path, i), kind: "removed", before: a[i] })
    for (let i = shared; i < b.length; i++) out.push({ path: indexPath(path, i), kind: "added", after: b[i] })
    return
  }
  if (isRecord(a) && isRecord(b)) {
    for (const key of Object.keys(a)) {
      const next = childPath(path, key)
      if (hasKey(b, key)) walk(a[key], b[key], next, out)
      else out.push({ path: next, kind: "removed", before: a[key] })
    }
    for (const key of Object.keys(b)) {
      if (!hasKey(a, key)) out.push({ path: childPath(path, key), kind: "added", after: b[key] })
    }
    return
  }
  // Two primitives, or two values of different shapes (an object that became a string): one change at this path.
  if (a !== b) out.push({ path, kind: "changed", before: a, after: b })
}

/**
 * The differences from `a` to `b`, in document order (the keys of `a`, then the keys only `b` has).
 *
 * @example
 * diffJson({ n: 1, tags: ["x"] }, { n: 2, tags: ["x", "y"] })
 * // [{ path: "$.n", kind: "changed", before: 1, after: 2 }, { path: "$.tags[1]", kind: "added", after: "y" }]
 */
export const diffJson = (a: unknown, b: unknown): Array<JsonDifference> => {
  const out: Array<JsonDifference> = []
  walk(a, b, "$", out)
  return out
}
