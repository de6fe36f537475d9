/**
 * The one place where a `SqlError` from @effect/sql becomes one of our typed errors.
 */
import type { SqlError } from "@effect/sql/SqlError"
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
