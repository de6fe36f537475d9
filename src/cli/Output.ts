/**
 * What the commands print: aligned tables for people, JSON for scripts.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * A table with a header row, columns padded to their widest cell.
 */
export const renderTable = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): string => {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length))
  )
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n")
}

/**
 * A createdAt (milliseconds) as an ISO date, as people read it.
 */
export const formatTime = (millis: number): string => {
  const date = new Date(millis)
  return Number.isNaN(date.getTime()) ? String(millis) : date.toISOString()
}

/**
 * A size in bytes, in the largest unit that keeps it above 1.
 */
export const formatBytes = (bytes: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/**
 * A value as JSON for scripts: an Option is its value or null.
 */
export const toJson = (value: unknown): string =>
  // The replacer reads the holder's own value: an Option's toJSON has already run on the one it is given.
  JSON.stringify(value, function(this: unknown, key: string, inner: unknown) {
    const raw = (this as Record<string, unknown>)[key]
    return Option.isOption(raw) ? Option.getOrNull(raw) : inner
  })

/**
 * Prints one value as JSON on stdout.
 */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(toJson(value))

/**
 * A text that may be long, cut to `width` characters.
 */
export const truncate = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
