/**
 * Checkpoint ids: the decimal text of a positive autoincrement integer.
 */
import * as Option from "effect/Option"

/**
 * The canonical text of an id, as `String(id)` writes it: a positive integer of up to 16 digits.
 *
 * @internal
 */
export const CANONICAL_ID = /^[1-9][0-9]{0,15}$/

/**
 * The row number an id names, or None for anything that cannot be an id ("abc", "0", "1 OR 1=1", "01", " 1").
 * Such an id names no checkpoint, so a look-up of it finds nothing without asking the database.
 *
 * @internal
 */
export const parseCheckpointId = (id: string): Option.Option<number> => {
  if (typeof id !== "string" || !CANONICAL_ID.test(id)) return Option.none()
  const value = Number(id)
  return Number.isSafeInteger(value) ? Option.some(value) : Option.none()
}
