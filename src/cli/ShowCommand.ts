/**
 * `show ID` and `latest`: one full checkpoint, state included.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { StoredAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import type { StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { CommandFailedError } from "./CliError.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { formatTime, printJson } from "./Output.js"
import { agentFilter, appFilter, type FilterArgs } from "./QueryOptions.js"
import { withStorage } from "./RunCommand.js"
import { commandHelp } from "./CommandHelp.js"

const appOption = Options.boolean("app").pipe(Options.withDescription("An app checkpoint (default: agent)"))

const printCheckpoint = (checkpoint: StoredAgentCheckpoint | StoredAppCheckpoint, json: boolean) => {
  if (json) return printJson(checkpoint)
  const { state, ...fields } = checkpoint
  const lines = Object.entries(fields).map(([key, value]) =>
    `${`${key}:`.padEnd(18)}${key === "createdAt" ? `${formatTime(value as number)} (${value})` : String(value)}`
  )
  return Console.log([...lines, "state:", JSON.stringify(state, null, 2)].join("\n"))
}

/**
 * The `show` command.
 */
export const showCommand = Command.make(
  "show",
  { id: Args.text({ name: "ID" }), app: appOption, json: jsonOption, ...databaseOptions },
  (args) =>
    Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      const found: Option.Option<StoredAgentCheckpoint | StoredAppCheckpoint> = args.app
        ? yield* storage.retrieveAppCheckpoint(args.id)
        : yield* storage.retrieveAgentCheckpoint(args.id)
      if (Option.isNone(found)) {
        return yield* new CommandFailedError({ reason: `There is no ${args.app ? "app" : "agent"} checkpoint ${args.id}` })
      }
      yield* printCheckpoint(found.value, args.json)
    }).pipe(withStorage(args))
).pipe(Command.withDescription(commandHelp(
  "Show one checkpoint with its state.",
  "ecs show 42 --db sqlite:./agent_state.db",
  "ecs show 7 --app"
)))

const noFilter: Omit<FilterArgs, "session" | "agent"> = {
  agentType: Option.none(),
  hostname: Option.none(),
  workspaceDir: Option.none(),
  before: Option.none(),
  after: Option.none()
}

/**
 * The `latest` command.
 */
export const latestCommand = Command.make(
  "latest",
  {
    app: appOption,
    session: Options.text("session").pipe(Options.withDescription("The latest of this session"), Options.optional),
    agent: Options.text("agent").pipe(Options.withDescription("The latest of this agent"), Options.optional),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      const found: Option.Option<StoredAgentCheckpoint | StoredAppCheckpoint> = args.app
        ? yield* Effect.flatMap(appFilter({ ...noFilter, session: args.session, agent: args.agent }), (filter) =>
          storage.retrieveLatestAppCheckpoint(filter))
        : yield* Effect.flatMap(agentFilter({ ...noFilter, session: args.session, agent: args.agent }), (filter) =>
          storage.retrieveLatestAgentCheckpoint(filter))
      if (Option.isNone(found)) {
        return yield* (args.json ? printJson(null) : Console.log("No checkpoint matches."))
      }
      yield* printCheckpoint(found.value, args.json)
    }).pipe(withStorage(args))
).pipe(Command.withDescription(commandHelp(
  "Show the newest checkpoint (of a session or an agent), with its state.",
  "ecs latest --session session-456",
  "ecs latest --app"
)))
