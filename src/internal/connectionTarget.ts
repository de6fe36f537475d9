/**
 * Connection strings, shown without their secrets.
 */
import * as Redacted from "effect/Redacted"

/**
 * The connection string's text, whether it was given plain or `Redacted`.
 *
 * @internal
 */
export const connectionStringValue = (value: string | Redacted.Redacted<string>): string =>
  Redacted.isRedacted(value) ? Redacted.value(value) : value

/**
 * The connection string with its password replaced by `***` (and nothing else changed), for messages and display
 * names. A string that is not a URL is not shown at all, since it could hold a secret anywhere.
 *
 * @internal
 */
export const maskConnectionString = (value: string | Redacted.Redacted<string>): string => {
  let url: URL
  try {
    url = new URL(connectionStringValue(value))
  } catch {
    return "<connection string>"
  }
  if (url.password !== "") url.password = "***"
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, "***")
  }
  return url.toString()
}
