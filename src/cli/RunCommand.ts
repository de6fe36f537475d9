/**
 * How every command runs: on the database its options name, with a failure reported as one readable line on
 * stderr (the typed error's message; its cause too with `--verbose`) and turned into the process's exit code.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { StorageLayerError } from "../internal/clientLayer.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { PersistenceStorage } from "../services/PersistenceStorage.js"
import { type CliDatabase, layerDatabase, layerStorage } from "./CliDatabase.js"
import { type DatabaseUrl, parseDatabaseUrl, requireExisting } from "./DatabaseUrl.js"
import { isTerminal } from "./Progress.js"

/**
 * A failure already reported to the user: the process exits with this code (1 failure, 2 bad usage).
 */
export class ExitCode extends Schema.TaggedError<ExitCode>("effect-checkpoint-storage/cli/ExitCode")("ExitCode", {
  code: Schema.Number
}) {}

const causeLines = (cause: unknown, depth = 0): ReadonlyArray<string> => {
  if (cause === undefined || depth > 5) return []
  const stack = cause instanceof Error && cause.stack !== undefined
    ? `\n${cause.stack.split("\n").slice(1, 6).join("\n")}`
    : ""
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}${stack}` : String(cause)
  const inner = typeof cause === "object" && cause !== null && "cause" in cause ? cause.cause : undefined
  return [text, ...causeLines(inner, depth + 1).map((line) => `caused by ${line}`)]
}

/**
 * Prints a failure as one line (`ecs: <message>`), and with `verbose` its causes, then fails with its exit code:
 * 2 for bad usage (a UsageError, or input the query API refuses), 1 for every other failure.
 * An interruption (Ctrl-C) is left as it is: the runtime exits with 130 once every finalizer has run.
 */
export const reportFailure = (
  verbose: boolean,
  interrupted: string = "interrupted; work in progress was rolled back"
) =>
<A, E extends { readonly message: string; readonly _tag: string }, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, ExitCode, R> =>
  effect.pipe(
    // After a progress bar, on a line of its own.
    Effect.onInterrupt(() => Console.error(`${isTerminal() ? "\n" : ""}ecs: ${interrupted}`)),
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const failure = Cause.failureOption(cause)
      const message = Option.match(failure, {
        onSome: (error) => error.message,
        onNone: () => {
          const defect = Cause.squash(cause)
          return defect instanceof Error ? defect.message : String(defect)
        }
      })
      // A value the query API refuses (a page size of 0, a cursor of another query) is bad usage too.
      const code = Option.isSome(failure) &&
          (failure.value._tag === "UsageError" || failure.value._tag === "CheckpointValidationError")
        ? 2
        : 1
      const details = verbose
        ? Option.match(failure, {
          onSome: (error) => causeLines("cause" in error ? error.cause : undefined),
          onNone: () => [Cause.pretty(cause)]
        })
        : []
      return Console.error([`ecs: ${message}`, ...details].join("\n")).pipe(
        Effect.zipRight(Effect.fail(new ExitCode({ code })))
      )
    })
  )

/**
 * Runs a command on the services `layerOf` builds for the database named by `db`. A command that only reads
 * (`access: "read"`) refuses a SQLite file that does not exist rather than create it.
 */
export const withServicesOf = <S, LE extends { readonly message: string; readonly _tag: string }>(
  layerOf: (url: DatabaseUrl) => Layer.Layer<S | CliDatabase, LE>
) =>
(
  options: { readonly db: string; readonly verbose: boolean },
  access: "read" | "write" = "read",
  interrupted?: string
) =>
<A, E extends { readonly message: string; readonly _tag: string }, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, ExitCode, Exclude<R, S | CliDatabase>> =>
  parseDatabaseUrl(options.db).pipe(
    Effect.flatMap((url) => (access === "read" ? requireExisting(url) : Effect.succeed(url))),
    Effect.flatMap((url) => Effect.provide(effect, layerOf(url))),
    reportFailure(options.verbose, interrupted)
  )

/**
 * Runs a command on the storage of the database named by `db` (migrating it first, as building a storage does).
 */
export const withStorage = withServicesOf<CheckpointStorage | PersistenceStorage, StorageLayerError>(layerStorage)

/**
 * Runs a command on the client of the database named by `db`, without building the storage (no migration is
 * applied): for `doctor` and `migrate`, which call the schema functions of src/layers over that client.
 */
export const withDatabase = (
  options: { readonly db: string; readonly verbose: boolean },
  access: "read" | "write" = "read"
) =>
<A, E extends { readonly message: string; readonly _tag: string }, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, ExitCode, Exclude<R, CliDatabase | SqlClient.SqlClient>> =>
  parseDatabaseUrl(options.db).pipe(
    Effect.flatMap((url) => (access === "read" ? requireExisting(url) : Effect.succeed(url))),
    Effect.flatMap((url) => Effect.provide(effect, layerDatabase(url))),
    reportFailure(options.verbose)
  )

