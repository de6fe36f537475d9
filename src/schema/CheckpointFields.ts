/**
 * The field schemas shared by agent and app checkpoints, with the limits every database can hold.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CANONICAL_ID } from "../internal/checkpointId.js"

/**
 * Longest identifier (agentId, sessionId, agentType, name, hostname), in UTF-16 code units.
 * 255 because MySQL/MariaDB keep these columns as `VARCHAR(255)` so that they can be indexed.
 *
 * @since 0.1.0
 */
export const MAX_IDENTIFIER_LENGTH = 255

/**
 * Longest `workspaceDirectory`, in UTF-16 code units (PATH_MAX on Linux).
 *
 * @since 0.1.0
 */
export const MAX_WORKSPACE_DIRECTORY_LENGTH = 4096

// Text that every database returns exactly as it was given. PostgreSQL TEXT cannot hold U+0000, and a lone
// UTF-16 surrogate has no UTF-8 form: the drivers would silently store U+FFFD instead. Both are refused up front
// so that no database changes a value behind the caller's back. (Inside `state` both are fine: JSON escapes them.)
//
// One filter per field, naming the first rule the text breaks: every store decodes four of these, and each
// refinement of a Schema is a layer of its own in the decoder. As four filters (length, NUL, surrogates, empty)
// the input of a store took 1.9 µs and 6.8 KB of garbage to decode, as one 0.9 µs and 2.9 KB (node, 200,000
// decodes): the garbage showed as more frequent young-generation collections under a store loop.
/** @internal */
export const StoredText = (maxLength: number, options: { readonly nonEmpty: boolean }) =>
  Schema.String.pipe(
    Schema.filter(
      (s) =>
        s.length > maxLength
          ? `must be at most ${maxLength} characters long`
          : s.includes("\u0000")
          ? "must not contain the NUL character (U+0000)"
          : !s.isWellFormed()
          ? "must be well-formed Unicode (it contains a lone surrogate)"
          : options.nonEmpty && s.length === 0
          ? "must not be empty"
          : true,
      { jsonSchema: { maxLength, ...(options.nonEmpty ? { minLength: 1 } : {}) } }
    )
  )

/**
 * A non-empty identifier such as an agentId or a sessionId.
 *
 * @since 0.1.0
 */
export const Identifier = StoredText(MAX_IDENTIFIER_LENGTH, { nonEmpty: true }).pipe(
  Schema.annotations({ identifier: "Identifier" })
)

/**
 * A checkpoint's name, text of up to {@link MAX_IDENTIFIER_LENGTH}, empty allowed.
 *
 * @since 0.1.0
 */
export const CheckpointName = StoredText(MAX_IDENTIFIER_LENGTH, { nonEmpty: false }).pipe(
  Schema.annotations({ identifier: "CheckpointName" })
)

/**
 * A workspace directory path.
 *
 * @since 0.1.0
 */
export const WorkspaceDirectory = StoredText(MAX_WORKSPACE_DIRECTORY_LENGTH, { nonEmpty: false }).pipe(
  Schema.annotations({ identifier: "WorkspaceDirectory" })
)

/**
 * Milliseconds since the Unix epoch, as `Date.now()` returns. A safe non-negative integer, so that it survives a
 * BIGINT column and comes back as the same JavaScript number.
 *
 * @since 0.1.0
 */
export const CreatedAt = Schema.Number.pipe(
  Schema.filter(
    (n) =>
      !Number.isSafeInteger(n)
        ? "must be a whole number of milliseconds (a safe integer)"
        : n < 0
        ? "must not be negative"
        : true,
    { jsonSchema: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } }
  ),
  Schema.annotations({ identifier: "CreatedAt" })
)

/**
 * The state a checkpoint carries: a JSON-serializable object, stored as JSON text. It is checked to be an object
 * (not an array, not null) and passed through as it is: no copy, so a large state costs nothing to validate.
 *
 * @since 0.1.0
 */
export const CheckpointState = Schema.declare(
  (input: unknown): input is { readonly [key: string]: unknown } =>
    typeof input === "object" && input !== null && !Array.isArray(input),
  {
    identifier: "CheckpointState",
    description: "a JSON object",
    jsonSchema: { type: "object" },
    message: () => "must be an object (a JSON object: not an array, not null)"
  }
)

/**
 * @since 0.1.0
 */
export type CheckpointState = typeof CheckpointState.Type

/**
 * A stored checkpoint's id: the decimal text of its autoincrement integer, as `String(id)` renders it.
 *
 * @since 0.1.0
 */
export const CheckpointId = Schema.String.pipe(Schema.annotations({ identifier: "CheckpointId" }))

/**
 * The id of the checkpoint a new one continues (its parent), in the canonical form ids have.
 *
 * @since 0.1.0
 */
export const ParentId = Schema.String.pipe(
  Schema.filter((s) => CANONICAL_ID.test(s) || "must be the id of a stored checkpoint", {
    jsonSchema: { pattern: CANONICAL_ID.source }
  }),
  Schema.annotations({ identifier: "ParentId" })
)
