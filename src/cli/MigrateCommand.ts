/**
 * `migrate`: applies the pending migrations explicitly and prints the schema version.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { runCheckpointMigrations } from "../layers/CheckpointMigrations.js"
import { runLangGraphMigrations } from "../layers/LangGraphMigrations.js"
import { runPersistenceMigrations } from "../layers/PersistenceMigrations.js"
import { expectedVersion } from "../layers/CheckpointSchemaExpected.js"
import { appliedMigrations } from "../layers/CheckpointSchemaReport.js"
import { CliDatabase } from "./CliDatabase.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { printJson } from "./Output.js"
import { withDatabase } from "./RunCommand.js"

// LangGraph's tables are otherwise created by the saver's first operation: applying them at deploy time lets the
// application's own database user run without the right to create tables.
const langGraphOption = Options.boolean("langgraph").pipe(
  Options.withDescription("Also apply the migrations of the LangGraph tables (effect-checkpoint-storage/langgraph).")
)

// Likewise the persistence table (layerBackingSql), created otherwise by its first use.
const persistenceOption = Options.boolean("persistence").pipe(
  Options.withDescription("Also apply the migrations of the persistence table (layerBackingSql: PersistedCache, chats).")
)

const appliedLines = (title: string, ran: ReadonlyArray<readonly [number, string]>) =>
  ran.length === 0
    ? `${title}: already up to date.`
    : [`${title}: applied`, ...ran.map(([id, name]) => `  ${id} ${name}`)].join("\n")

/**
 * The `migrate` command.
 */
export const migrateCommand = Command.make(
  "migrate",
  { json: jsonOption, langgraph: langGraphOption, persistence: persistenceOption, ...databaseOptions },
  (args) =>
    Effect.gen(function*() {
      const { url } = yield* CliDatabase
      const ran = yield* runCheckpointMigrations({ dialect: url.dialect })
      const langGraphRan = args.langgraph ? yield* runLangGraphMigrations(url.dialect) : undefined
      const persistenceRan = args.persistence ? yield* runPersistenceMigrations(url.dialect) : undefined
      const recorded = yield* appliedMigrations({ dialect: url.dialect })
      const version = recorded.at(-1)?.[0] ?? 0
      if (args.json) {
        return yield* printJson({
          database: url.display,
          applied: ran.map(([id, name]) => ({ id, name })),
          version,
          expectedVersion,
          ...(langGraphRan === undefined ? {} : { langgraph: { applied: langGraphRan.map(([id, name]) => ({ id, name })) } }),
          ...(persistenceRan === undefined
            ? {}
            : { persistence: { applied: persistenceRan.map(([id, name]) => ({ id, name })) } })
        })
      }
      yield* Console.log(
        ran.length === 0
          ? `${url.display}: already up to date.`
          : [`${url.display}: applied`, ...ran.map(([id, name]) => `  ${id} ${name}`)].join("\n")
      )
      yield* Console.log(`Schema version ${version} (this version of effect-checkpoint-storage expects ${expectedVersion}).`)
      if (langGraphRan !== undefined) yield* Console.log(appliedLines("LangGraph tables", langGraphRan))
      if (persistenceRan !== undefined) yield* Console.log(appliedLines("Persistence table", persistenceRan))
    }).pipe(withDatabase(args, "write"))
).pipe(Command.withDescription(commandHelp(
  "Apply the pending schema migrations and print the schema version (--langgraph: LangGraph's tables too; " +
    "--persistence: the persistence table too).",
  "ecs migrate --db postgres://me@localhost/agents --langgraph"
)))
