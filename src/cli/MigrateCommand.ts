/**
 * `migrate`: applies the pending migrations explicitly and prints the schema version.
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { runCheckpointMigrations } from "../layers/CheckpointMigrations.js"
import { expectedVersion } from "../layers/CheckpointSchemaExpected.js"
import { appliedMigrations } from "../layers/CheckpointSchemaReport.js"
import { CliDatabase } from "./CliDatabase.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { printJson } from "./Output.js"
import { withDatabase } from "./RunCommand.js"

/**
 * The `migrate` command.
 */
export const migrateCommand = Command.make("migrate", { json: jsonOption, ...databaseOptions }, (args) =>
  Effect.gen(function*() {
    const { url } = yield* CliDatabase
    const ran = yield* runCheckpointMigrations({ dialect: url.dialect })
    const recorded = yield* appliedMigrations({ dialect: url.dialect })
    const version = recorded.at(-1)?.[0] ?? 0
    if (args.json) {
      return yield* printJson({
        database: url.display,
        applied: ran.map(([id, name]) => ({ id, name })),
        version,
        expectedVersion
      })
    }
    yield* Console.log(
      ran.length === 0
        ? `${url.display}: already up to date.`
        : [`${url.display}: applied`, ...ran.map(([id, name]) => `  ${id} ${name}`)].join("\n")
    )
    yield* Console.log(`Schema version ${version} (this version of effect-checkpoint-storage expects ${expectedVersion}).`)
  }).pipe(withDatabase(args, "write"))).pipe(Command.withDescription(commandHelp(
  "Apply the pending schema migrations and print the schema version.",
  "ecs migrate --db postgres://me@localhost/agents"
)))
