/**
 * What a store id and a key of the persistence table may be, on every dialect alike: the one rule that the
 * backing checks before it touches the database.
 *
 * @since 0.2.0
 */
import { CheckpointValidationError } from "../services/CheckpointStorageError.js"

/**
 * The longest store id and key, in UTF-8 bytes. MySQL/MariaDB index them as VARBINARY columns of these sizes (see
 * PersistenceMigrations.ts); the same limits hold on PostgreSQL and SQLite so that data moves between them.
 *
 * @since 0.2.0
 */
export const PersistenceKeyLimits = {
  storeIdBytes: 255,
  keyBytes: 1024
} as const

const utf8 = new TextEncoder()

// A lone surrogate cannot be written as UTF-8: the drivers would store U+FFFD, and the key read back would differ.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const problemOf = (text: string, maxBytes: number): string | undefined => {
  // PostgreSQL text cannot hold NUL (SQLSTATE 22021); refused everywhere so that a key works on every database.
  if (text.includes("\u0000")) return "must not contain the NUL character (U+0000)"
  if (loneSurrogate.test(text)) return "must be well-formed Unicode (it holds a lone surrogate)"
  const bytes = utf8.encode(text).length
  return bytes > maxBytes ? `is ${bytes} bytes long in UTF-8, over the limit of ${maxBytes}` : undefined
}

/**
 * Checks a store id and the keys of one call; the error names each one refused (by its position for the keys).
 *
 * @since 0.2.0
 */
export const validatePersistenceKeys = (
  storeId: string,
  keys: ReadonlyArray<string>
): CheckpointValidationError | undefined => {
  const issues: Array<{ readonly path: string; readonly message: string }> = []
  const storeIdProblem = problemOf(storeId, PersistenceKeyLimits.storeIdBytes)
  if (storeIdProblem !== undefined) issues.push({ path: "storeId", message: `the store id ${storeIdProblem}` })
  keys.forEach((key, i) => {
    const problem = problemOf(key, PersistenceKeyLimits.keyBytes)
    if (problem !== undefined) issues.push({ path: keys.length === 1 ? "key" : `keys[${i}]`, message: `the key ${problem}` })
  })
  return issues.length === 0 ? undefined : new CheckpointValidationError({ subject: "PersistenceKey", issues })
}
