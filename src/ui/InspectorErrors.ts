/**
 * How the inspector's server answers a failure: `{ error: { tag, message } }` with the status its kind calls for,
 * the message scrubbed of the database's secrets.
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import type { ApiError } from "./InspectorTypes.js"

/**
 * A request the server refuses: a query parameter it cannot read (400), nothing at that address (404), no or the
 * wrong token (401), or an asset that was not built (500).
 */
export class InspectorRequestError extends Data.TaggedError("InspectorRequestError")<{
  readonly status: 400 | 401 | 404 | 500
  readonly tag: "BadRequest" | "NotFound" | "Unauthorized" | "AssetNotBuilt"
  readonly message: string
}> {}

// The storage's typed errors, by what the caller did wrong: nothing (500), the input (400), or asked for what is not
// there (404). Any other tag is a failure of the server's.
const statusOfTag: Readonly<Record<string, 400 | 404>> = {
  CheckpointValidationError: 400,
  CheckpointNotFoundError: 404
}

/**
 * Replaces each secret in `text` (as it is, and URL-encoded as a connection string holds it) with `***`.
 */
export const scrubSecrets = (secrets: ReadonlyArray<string>) => (text: string): string => {
  let scrubbed = text
  for (const secret of secrets) {
    if (secret === "") continue
    for (const form of new Set([secret, encodeURIComponent(secret)])) scrubbed = scrubbed.split(form).join("***")
  }
  return scrubbed
}

/**
 * The JSON error response of a failure.
 */
export const errorResponse = (
  scrub: (text: string) => string,
  error: { readonly _tag: string; readonly message: string }
): HttpServerResponse.HttpServerResponse => {
  const status = error instanceof InspectorRequestError ? error.status : statusOfTag[error._tag] ?? 500
  const tag = error instanceof InspectorRequestError ? error.tag : error._tag
  const body: ApiError = { error: { tag, message: scrub(error.message) } }
  return HttpServerResponse.unsafeJson(body, { status })
}
