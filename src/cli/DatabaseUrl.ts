/**
 * A database named by URL on the command line: `sqlite:./agent_state.db` (or a plain file path), `postgres://…`,
 * `mysql://…`. The password travels as `Redacted` and is shown masked.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { maskConnectionString } from "../internal/connectionTarget.js"
import type { Dialect } from "../services/CheckpointStorageError.js"
import { CommandFailedError, UsageError } from "./CliError.js"

/**
 * The database when neither `--db` nor `CHECKPOINT_DB` names one.
 */
export const DEFAULT_DATABASE_URL = "sqlite:./checkpoints.db"

/**
 * Where a database is, parsed from its URL.
 */
export interface DatabaseUrl {
  readonly dialect: Dialect
  /** For people: the URL with its password masked, or the SQLite file path. */
  readonly display: string
  /** The same database whatever way its URL was written (absolute file path; no password, no query): the key under
   * which `copy` records what it has copied from it. */
  readonly identity: string
  /** SQLite: the file. */
  readonly databasePath: string
  /** PostgreSQL and MySQL: the full connection string. */
  readonly connectionString: Redacted.Redacted<string>
}

const withoutSecrets = (url: URL): string => `${url.protocol}//${url.username}@${url.host}${url.pathname}`

/**
 * Reads a database URL. A scheme other than sqlite, postgres(ql), mysql or mariadb is a usage error.
 */
export const parseDatabaseUrl = (text: string): Effect.Effect<DatabaseUrl, UsageError> =>
  Effect.suspend((): Effect.Effect<DatabaseUrl, UsageError> => {
    const trimmed = text.trim()
    if (trimmed === "") return Effect.fail(new UsageError({ reason: "The database URL is empty" }))
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase()
    // A Windows drive letter ("C:\…") is a path, not a scheme.
    if (scheme === undefined || scheme.length === 1 || scheme === "sqlite" || scheme === "file") {
      const databasePath = scheme === undefined || scheme.length === 1
        ? trimmed
        : trimmed.replace(/^(sqlite|file):(\/\/)?/i, "")
      if (databasePath === "") return Effect.fail(new UsageError({ reason: `No SQLite file in ${trimmed}` }))
      return Effect.succeed({
        dialect: "sqlite" as const,
        display: databasePath,
        identity: `sqlite:${databasePath === ":memory:" ? databasePath : Path.resolve(databasePath)}`,
        databasePath,
        connectionString: Redacted.make("")
      })
    }
    const dialect = scheme === "postgres" || scheme === "postgresql"
      ? "pg" as const
      : scheme === "mysql" || scheme === "mariadb"
      ? "mysql" as const
      : undefined
    if (dialect === undefined) {
      return Effect.fail(
        new UsageError({
          reason: `Unknown database URL scheme "${scheme}:" (use sqlite:FILE, postgres://… or mysql://…)`
        })
      )
    }
    let url: URL
    try {
      url = new URL(trimmed)
    } catch {
      return Effect.fail(new UsageError({ reason: `Not a valid database URL: ${maskConnectionString(trimmed)}` }))
    }
    return Effect.succeed({
      dialect,
      display: maskConnectionString(trimmed),
      identity: withoutSecrets(url),
      databasePath: "",
      connectionString: Redacted.make(trimmed)
    })
  })

/**
 * Fails unless the database already exists, for the commands that only read: a mistyped SQLite path would otherwise
 * become a new, empty file. (A server database that does not exist fails to connect anyway.)
 */
export const requireExisting = (url: DatabaseUrl): Effect.Effect<DatabaseUrl, CommandFailedError> =>
  url.dialect === "sqlite" && url.databasePath !== ":memory:" && !Fs.existsSync(url.databasePath)
    ? Effect.fail(new CommandFailedError({ reason: `There is no SQLite database at ${url.databasePath}` }))
    : Effect.succeed(url)
