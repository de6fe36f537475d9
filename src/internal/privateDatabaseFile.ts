/**
 * A new SQLite database file readable by its owner only: agent state often holds tokens and credentials.
 */
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"

/**
 * Creates the database file with mode 0600 if it does not exist yet, so that SQLite opens a private file (and gives
 * its -wal and -shm files the same mode, as it always copies the database file's mode). An existing file keeps its
 * mode; `:memory:` and `file:` URIs are left to SQLite. A failure here (a missing directory) is left for the driver
 * to report when it opens the file.
 *
 * @internal
 */
export const createPrivateDatabaseFile = (databasePath: string): Effect.Effect<void> =>
  Effect.sync(() => {
    if (databasePath === ":memory:" || databasePath.startsWith("file:")) return
    try {
      Fs.closeSync(Fs.openSync(databasePath, Fs.constants.O_CREAT | Fs.constants.O_EXCL | Fs.constants.O_WRONLY, 0o600))
    } catch {
      // It exists already, or its directory does not: either way SQLite's own open decides.
    }
  })
