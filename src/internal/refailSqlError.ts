/**
 * The one place where a `SqlError` from @effect/sql becomes one of our typed errors.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type Dialect, StorageConnectionError, StorageQueryError } from "../services/CheckpointStorageError.js"
import { classifyDriverError } from "./driverError.js"

/**
 * Maps a failed statement of `operation` to `StorageConnectionError` or `StorageQueryError`, by the driver's code.
 *
 * @internal
 */
export const refailSqlError =
  (dialect: Dialect, operation: string) => (error: SqlError): StorageConnectionError | StorageQueryError => {
    // SqlError wraps the driver's error; a few failures (timeouts raised by @effect/sql itself) have no inner cause.
    const cause = error.cause ?? error
    const { code, isConnectionFailure } = classifyDriverError(dialect, cause)
    const fields = { dialect, operation, cause, ...(code === undefined ? {} : { code }) }
    return isConnectionFailure ? new StorageConnectionError(fields) : new StorageQueryError(fields)
  }

const isSqlError = (defect: unknown): defect is SqlError =>
  typeof defect === "object" && defect !== null && "_tag" in defect && defect._tag === "SqlError"

/**
 * Maps a `SqlError` that reached the operation as a defect to our typed error. @effect/sql's `withTransaction` dies
 * when its COMMIT or ROLLBACK fails (`Effect.orDie`), which is what a connection lost inside a transaction does. The
 * typed failure that started the rollback, if any, is kept: it came first.
 *
 * @internal
 */
export const refailSqlDefect = (dialect: Dialect, operation: string) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StorageConnectionError | StorageQueryError, R> =>
  Effect.catchAllCause(effect, (cause) => {
    const defect = Cause.find(cause, (reason) =>
      reason._tag === "Die" && isSqlError(reason.defect) ? Option.some(reason.defect) : Option.none())
    if (Option.isNone(defect)) return Effect.failCause(cause)
    const failure = Cause.failureOption(cause)
    return Effect.fail(Option.isSome(failure) ? failure.value : refailSqlError(dialect, operation)(defect.value))
  })
