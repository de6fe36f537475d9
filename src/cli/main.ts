#!/usr/bin/env node
/**
 * The `effect-checkpoint-storage` (short: `ecs`) command: look at checkpoints without writing SQL, and move them
 * between SQLite, PostgreSQL and MySQL/MariaDB.
 *
 * Exit codes: 0 ok, 1 failure, 2 bad usage, 130 interrupted (Ctrl-C).
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { commandHelp } from "./CommandHelp.js"
import { copyCommand } from "./CopyCommand.js"
import { demoCommand } from "./demo.js"
import { doctorCommand } from "./DoctorCommand.js"
import { exportCommand } from "./ExportCommand.js"
import { importCommand } from "./ImportCommand.js"
import { langGraphCommand } from "./LangGraphCommand.js"
import { listCommand } from "./ListCommand.js"
import { migrateCommand } from "./MigrateCommand.js"
import { pruneCommand } from "./PruneCommand.js"
import { latestCommand, showCommand } from "./ShowCommand.js"
import { statsCommand } from "./StatsCommand.js"
import { uiCommand } from "./UiCommand.js"

// The package's version (kept by hand: package.json is outside the compiled sources).
const VERSION = "0.1.0"

const root = Command.make("ecs").pipe(
  Command.withSubcommands([
    demoCommand,
    listCommand,
    showCommand,
    latestCommand,
    statsCommand,
    exportCommand,
    importCommand,
    copyCommand,
    pruneCommand,
    migrateCommand,
    doctorCommand,
    langGraphCommand,
    uiCommand
  ]),
  Command.withDescription(HelpDoc.sequence(
    HelpDoc.p(
      [
        "Look at agent and app checkpoints, and move them between SQLite, PostgreSQL and MySQL/MariaDB.",
        "",
        "  demo      a simulated agent checkpoints, crashes and resumes",
        "  list      list agent or app checkpoints (filters, pages)",
        "  show      one checkpoint with its state",
        "  latest    the newest checkpoint (of a session or an agent)",
        "  stats     counts and sizes per table and per session",
        "  export    every checkpoint to JSON Lines",
        "  import    checkpoints from JSON Lines (resumable)",
        "  copy      every checkpoint from one database to another (resumable, verified)",
        "  prune     delete old checkpoints by retention rules (dry run by default)",
        "  migrate   apply the schema migrations, print the schema version",
        "  doctor    compare the live schema with the expected one",
        "  langgraph LangGraph threads: threads, history, export, copy, prune",
        "  ui        a read-only web inspector of the database (on 127.0.0.1, with a token)",
        "",
        "Every command has --help. The database is --db URL, else $CHECKPOINT_DB, else sqlite:./checkpoints.db.",
        "Exit codes: 0 ok, 1 failure, 2 bad usage, 130 interrupted."
      ].join("\n")
    ),
    commandHelp(
      "",
      "ecs list agent --db sqlite:./agent_state.db",
      "ecs copy --from sqlite:./agent_state.db --to postgres://me:secret@db.internal/agents"
    )
  ))
)

const cli = Command.run(root, { name: "effect-checkpoint-storage", version: VERSION })

const program = cli(process.argv).pipe(
  Effect.as(0),
  Effect.catchAll((error) =>
    Effect.succeed(ValidationError.isValidationError(error) ? 2 : error._tag === "ExitCode" ? error.code : 1)
  ),
  Effect.provide(NodeContext.layer)
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit)
        ? typeof exit.value === "number" ? exit.value : 0
        : Cause.isInterruptedOnly(exit.cause)
        ? 130
        : 1
    )
})
