/**
 * The columns of a stored row as the drivers return them, each read by one rule that serves both its Schema and the
 * row reader compiled from a row Schema's fields (`compileRowReader`).
 *
 * Why a compiled reader: the general Schema interpreter took about 5 µs to decode a row of eight columns, most of a
 * page of 50 rows' cost above the statement. The reader compiled once per row Schema reads each field with its
 * column's own rule and allocates nothing but the row; a row it cannot read goes through the Schema, which says what
 * is wrong. Both give the same row for every input the reader accepts, since both apply the same rules.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

// Drivers return a BIGINT as a number (mysql2, SQLite), as decimal text (node-postgres) or as a bigint (SQLite with
// safe integers): read each of them as a number; `undefined` for anything else.
const bigIntValue = (value: unknown): number | undefined => {
  if (typeof value === "number") return value
  if (typeof value === "bigint") return Number(value)
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value)
    return Number.isNaN(n) ? undefined : n
  }
  return undefined
}

const expectedBigInt = "Expected a BIGINT (a number, its decimal text or a bigint)"

/**
 * A BIGINT column, read as a number.
 *
 * @since 0.1.0
 */
export const BigIntColumn = Schema.transformOrFail(Schema.Unknown, Schema.Number, {
  strict: true,
  decode: (value, _, ast) => {
    const n = bigIntValue(value)
    return n === undefined ? ParseResult.fail(new ParseResult.Type(ast, value, expectedBigInt)) : ParseResult.succeed(n)
  },
  encode: ParseResult.succeed
})

/**
 * An id column: a BIGINT read as the decimal text of the number.
 *
 * @since 0.1.0
 */
export const IdColumn = Schema.transformOrFail(Schema.Unknown, Schema.String, {
  strict: true,
  decode: (value, _, ast) => {
    const n = bigIntValue(value)
    return n === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, value, expectedBigInt))
      : ParseResult.succeed(String(n))
  },
  encode: (id) => ParseResult.succeed(Number(id))
})

/**
 * A nullable id column (a parent): NULL leaves the field out.
 *
 * @since 0.1.0
 */
export const OptionalIdColumn = Schema.optionalWith(IdColumn, { nullable: true })

/** What a column's rule gives: the value, nothing (the field is left out), or a value it cannot read. */
const absent = Symbol("absent")
const unreadable = Symbol("unreadable")
type Read = unknown

// The rule of each column Schema, by the very object a row Schema's fields hold.
const rules = new Map<unknown, (value: unknown) => Read>([
  [Schema.String, (value) => (typeof value === "string" ? value : unreadable)],
  [BigIntColumn, (value) => bigIntValue(value) ?? unreadable],
  [IdColumn, (value) => {
    const n = bigIntValue(value)
    return n === undefined ? unreadable : String(n)
  }],
  [OptionalIdColumn, (value) => {
    if (value === null || value === undefined) return absent
    const n = bigIntValue(value)
    return n === undefined ? unreadable : String(n)
  }]
])

/**
 * A reader of rows compiled once from a row Schema's fields: the rows read (fresh objects), or `undefined` when one
 * of them is not of the expected shape (decode them with the Schema to learn why). `undefined` for every input if a
 * field has no rule here.
 *
 * @since 0.1.0
 */
export const compileRowReader = (
  fields: Schema.Struct.Fields
): (rows: ReadonlyArray<unknown>) => Array<Record<string, unknown>> | undefined => {
  const columns = Object.entries(fields).map(([name, field]) => [name, rules.get(field)] as const)
  if (columns.some(([, rule]) => rule === undefined)) return () => undefined
  const read = columns as ReadonlyArray<readonly [string, (value: unknown) => Read]>
  return (rows) => {
    const out: Array<Record<string, unknown>> = []
    for (const raw of rows) {
      if (typeof raw !== "object" || raw === null) return undefined
      const row: Record<string, unknown> = {}
      for (const [name, rule] of read) {
        const value = rule((raw as Record<string, unknown>)[name])
        if (value === unreadable) return undefined
        if (value !== absent) row[name] = value
      }
      out.push(row)
    }
    return out
  }
}
