/**
 * The single Schema decode every caller-supplied value goes through, failing with CheckpointValidationError.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { CheckpointValidationError } from "../services/CheckpointStorageError.js"

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`))
    .join("")

/**
 * Turns a Schema parse failure into a CheckpointValidationError listing every issue with its field.
 *
 * @internal
 */
export const toValidationError = (subject: string, error: ParseResult.ParseError): CheckpointValidationError => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message
  }))
  // An optional field is a union with `undefined`, which reports "Expected undefined" next to the real reason
  // (for the field and for each optional object around it): keep only the real reasons, once each.
  const reasons = issues.filter((issue) => !issue.message.startsWith("Expected undefined, actual "))
  const unique = new Map((reasons.length > 0 ? reasons : issues).map((issue) => [`${issue.path}\u0000${issue.message}`, issue]))
  return new CheckpointValidationError({ subject, issues: [...unique.values()] })
}

/**
 * Builds a decoder for `schema` whose failures are CheckpointValidationErrors about `subject`.
 *
 * @internal
 */
export const decodeInput = <A, I>(schema: Schema.Schema<A, I, never>, subject: string) => {
  const decode = Schema.decodeUnknown(schema, { errors: "all" })
  return (input: unknown): Effect.Effect<A, CheckpointValidationError> =>
    Effect.mapError(decode(input), (error) => toValidationError(subject, error))
}

/**
 * The synchronous form of {@link decodeInput}, for code that must validate before any Effect runs.
 *
 * @internal
 */
export const decodeInputEither = <A, I>(schema: Schema.Schema<A, I, never>, subject: string) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all" })
  return (input: unknown): Either.Either<A, CheckpointValidationError> =>
    Either.mapLeft(decode(input), (error) => toValidationError(subject, error))
}
