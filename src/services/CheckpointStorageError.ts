/**
 * The typed errors of CheckpointStorage. Every failure that leaves the service is one of these: never a raw driver
 * error, never a thrown exception. None of their messages contains a password.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The SQL dialects the storage runs on, as `@effect/sql` names them.
 *
 * @since 0.1.0
 */
export const Dialect = Schema.Literal("pg", "mysql", "sqlite")

/**
 * @since 0.1.0
 */
export type Dialect = typeof Dialect.Type

const dialectName: Record<Dialect, string> = { pg: "PostgreSQL", mysql: "MySQL/MariaDB", sqlite: "SQLite" }

const causeMessage = (cause: unknown): string =>
  cause instanceof Error ? cause.message : cause === undefined ? "" : String(cause)

const withCause = (text: string, cause: unknown): string => {
  const detail = causeMessage(cause)
  return detail === "" ? text : `${text}: ${detail}`
}

/**
 * The database cannot be reached, refused the credentials, or dropped the connection, or an operation got no answer
 * within the storage's `operationTimeout` (`code: "TIMEOUT"`; a store that timed out may still have been written).
 * Retrying later may succeed.
 *
 * @since 0.1.0
 */
export class StorageConnectionError extends Schema.TaggedError<StorageConnectionError>(
  "effect-checkpoint-storage/StorageConnectionError"
)("StorageConnectionError", {
  dialect: Dialect,
  /** Where it happened: "connect" while building the layer, else the operation's name. */
  operation: Schema.String,
  /** Where the database is, with any password masked. */
  target: Schema.optional(Schema.String),
  /** The driver's error code (SQLSTATE, MySQL errno name, SQLite result code, Node system error), if any. */
  code: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const where = this.target === undefined ? dialectName[this.dialect] : `${dialectName[this.dialect]} at ${this.target}`
    const code = this.code === undefined ? "" : ` [${this.code}]`
    return withCause(`Cannot use ${where} (${this.operation})${code}`, this.cause)
  }
}

/**
 * Any other database failure: the statement was refused or failed. The driver's error is kept as `cause`.
 *
 * @since 0.1.0
 */
export class StorageQueryError extends Schema.TaggedError<StorageQueryError>(
  "effect-checkpoint-storage/StorageQueryError"
)("StorageQueryError", {
  dialect: Dialect,
  operation: Schema.String,
  code: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const code = this.code === undefined ? "" : ` [${this.code}]`
    return withCause(`${this.operation} failed on ${dialectName[this.dialect]}${code}`, this.cause)
  }
}

/**
 * The state given to a store call cannot be written as JSON (a BigInt, a cycle, a `toJSON` that throws…).
 * Nothing was written.
 *
 * @since 0.1.0
 */
export class StateEncodeError extends Schema.TaggedError<StateEncodeError>(
  "effect-checkpoint-storage/StateEncodeError"
)("StateEncodeError", {
  /** Where the offending value sits, as a JavaScript path from the state: `state.messages[3].tokens`. */
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Checkpoint state is not JSON-serializable at ${this.path}: ${this.reason}`
  }
}

/**
 * The encoded state is larger than the storage's `maxStateBytes`. Nothing was written.
 *
 * @since 0.1.0
 */
export class StateTooLargeError extends Schema.TaggedError<StateTooLargeError>(
  "effect-checkpoint-storage/StateTooLargeError"
)("StateTooLargeError", {
  /** The state's size as stored: UTF-8 bytes of its JSON text. */
  sizeBytes: Schema.Number,
  maxBytes: Schema.Number
}) {
  override get message(): string {
    return `Checkpoint state is ${this.sizeBytes} bytes as JSON, over the limit of ${this.maxBytes} bytes`
  }
}

/**
 * A checkpoint that an operation needs (the one to fork, the parent of a new one) does not exist.
 *
 * @since 0.1.0
 */
export class CheckpointNotFoundError extends Schema.TaggedError<CheckpointNotFoundError>(
  "effect-checkpoint-storage/CheckpointNotFoundError"
)("CheckpointNotFoundError", {
  table: Schema.String,
  id: Schema.String,
  /** What the missing checkpoint was wanted as: "parent" of a new checkpoint, or the "source" of a fork. */
  role: Schema.Literal("parent", "source")
}) {
  override get message(): string {
    return `There is no checkpoint ${this.id} in ${this.table} (wanted as the ${this.role})`
  }
}

/**
 * A stored row's state is not valid JSON (or not a JSON object): the row was written or changed outside this
 * library. Other rows are unaffected.
 *
 * @since 0.1.0
 */
export class StateDecodeError extends Schema.TaggedError<StateDecodeError>(
  "effect-checkpoint-storage/StateDecodeError"
)("StateDecodeError", {
  table: Schema.String,
  id: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return withCause(`The state stored in ${this.table} row ${this.id} cannot be read as a JSON object`, this.cause)
  }
}

/**
 * One reason an input was refused.
 *
 * @since 0.1.0
 */
export const ValidationIssue = Schema.Struct({
  /** The field, as a path from the input: `createdAt`, `state`, `connectionString`. Empty for the input itself. */
  path: Schema.String,
  message: Schema.String
})

/**
 * @since 0.1.0
 */
export type ValidationIssue = typeof ValidationIssue.Type

/**
 * The input does not match its schema (a missing field, a wrong type, a string over its limit, a bad config).
 * Nothing was written.
 *
 * @since 0.1.0
 */
export class CheckpointValidationError extends Schema.TaggedError<CheckpointValidationError>(
  "effect-checkpoint-storage/CheckpointValidationError"
)("CheckpointValidationError", {
  /** What was being validated: "NamedAgentCheckpoint", "AppSessionCheckpoint", "StorageConfig", … */
  subject: Schema.String,
  issues: Schema.Array(ValidationIssue)
}) {
  override get message(): string {
    const issues = this.issues.map(({ message, path }) => (path === "" ? message : `${path}: ${message}`))
    return `Invalid ${this.subject}: ${issues.join("; ")}`
  }
}

/**
 * The schema migrations could not be applied. The database is left at the last migration that completed.
 *
 * @since 0.1.0
 */
export class MigrationError extends Schema.TaggedError<MigrationError>(
  "effect-checkpoint-storage/MigrationError"
)("MigrationError", {
  dialect: Schema.optional(Dialect),
  reason: Schema.Literal("unsupported-dialect", "locked", "failed"),
  /** The migration that failed, as `id_name`, when one did. */
  migration: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const where = this.dialect === undefined ? "" : ` on ${dialectName[this.dialect]}`
    switch (this.reason) {
      case "unsupported-dialect":
        return "CheckpointStorage supports PostgreSQL, MySQL/MariaDB and SQLite only"
      case "locked":
        return withCause(`Timed out waiting for another process to finish the migrations${where}`, this.cause)
      case "failed":
        return withCause(
          `Migration${this.migration === undefined ? "" : ` ${this.migration}`} failed${where}`,
          this.cause
        )
    }
  }
}

/**
 * Every error the storage's operations can fail with.
 *
 * @since 0.1.0
 */
export type CheckpointStorageError =
  | StorageConnectionError
  | StorageQueryError
  | StateEncodeError
  | StateTooLargeError
  | CheckpointNotFoundError
  | StateDecodeError
  | CheckpointValidationError
  | MigrationError
