/**
 * The CLI's own failures, next to the storage's typed errors: bad usage (exit code 2) and failed checks (exit 1).
 */
import * as Schema from "effect/Schema"

/**
 * The command line cannot be run as given: an unknown database URL, a malformed option value. Exit code 2.
 */
export class UsageError extends Schema.TaggedError<UsageError>("effect-checkpoint-storage/cli/UsageError")(
  "UsageError",
  { reason: Schema.String }
) {
  override get message(): string {
    return this.reason
  }
}

/**
 * A command ran but its result is a failure: a copy that does not verify, a schema that differs, a file that is not
 * an export. Exit code 1.
 */
export class CommandFailedError extends Schema.TaggedError<CommandFailedError>(
  "effect-checkpoint-storage/cli/CommandFailedError"
)("CommandFailedError", { reason: Schema.String, cause: Schema.optional(Schema.Defect) }) {
  override get message(): string {
    return this.reason
  }
}
