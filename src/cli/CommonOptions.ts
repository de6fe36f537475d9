/**
 * The options every command shares: which database (`--db`, else `CHECKPOINT_DB`, else the embedded default),
 * `--json` for scripts and `--verbose` for the cause of an error.
 */
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import { DEFAULT_DATABASE_URL } from "./DatabaseUrl.js"

/**
 * `--db URL`, falling back to `CHECKPOINT_DB`, then to `sqlite:./checkpoints.db`.
 */
export const databaseOption = Options.text("db").pipe(
  Options.withDescription(
    "The database: sqlite:FILE (or a file path), postgres://user:pass@host/db, mysql://user:pass@host/db. " +
      `Default: $CHECKPOINT_DB, else ${DEFAULT_DATABASE_URL}`
  ),
  Options.withFallbackConfig(Config.string("CHECKPOINT_DB")),
  Options.withDefault(DEFAULT_DATABASE_URL)
)

/**
 * `--json`: one JSON document (or one per line for lists) instead of a table.
 */
export const jsonOption = Options.boolean("json").pipe(Options.withDescription("Print JSON instead of tables"))

/**
 * `--verbose`: also print the cause of an error.
 */
export const verboseOption = Options.boolean("verbose").pipe(
  Options.withDescription("On failure, also print the cause of the error")
)

/**
 * `--db` and `--verbose`, which every database command takes.
 */
export const databaseOptions = { db: databaseOption, verbose: verboseOption } as const
