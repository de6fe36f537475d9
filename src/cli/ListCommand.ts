/**
 * `list agent|app`: one page of checkpoints (no state), with the filters and keyset paging of the query API.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AgentCheckpointListItem } from "../schema/AgentCheckpoint.js"
import type { AppSessionListItem } from "../schema/AppCheckpoint.js"
import type { CheckpointPage } from "../schema/CheckpointQuery.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { formatTime, printJson, renderTable, truncate } from "./Output.js"
import { agentFilter, appFilter, filterOptions, pageOptions, pageRequest } from "./QueryOptions.js"
import { withStorage } from "./RunCommand.js"
import { commandHelp } from "./CommandHelp.js"

/**
 * Which table a command reads: `agent` (AgentCheckpoints) or `app` (AppCheckpoints).
 */
export const tableArg = Args.choice([["agent", "agent" as const], ["app", "app" as const]], { name: "table" })

const printPage = <A>(
  page: CheckpointPage<A>,
  headers: ReadonlyArray<string>,
  row: (item: A) => ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    yield* Console.log(page.items.length === 0 ? "No checkpoints match." : renderTable(headers, page.items.map(row)))
    if (Option.isSome(page.total)) yield* Console.log(`\n${page.total.value} checkpoints match in all.`)
    if (Option.isSome(page.nextCursor)) yield* Console.log(`\nNext page: --cursor ${page.nextCursor.value}`)
  })

const agentRow = (item: AgentCheckpointListItem) => [
  item.id,
  formatTime(item.createdAt),
  truncate(item.sessionId, 36),
  truncate(item.agentId, 24),
  truncate(item.agentType, 16),
  truncate(item.name, 40),
  item.parentId ?? ""
]

const appRow = (item: AppSessionListItem) => [
  item.id,
  formatTime(item.createdAt),
  truncate(item.sessionId, 36),
  truncate(item.hostname, 24),
  truncate(item.workspaceDirectory, 48),
  item.parentId ?? ""
]

/**
 * The `list` command.
 */
export const listCommand = Command.make(
  "list",
  { table: tableArg, ...filterOptions, ...pageOptions, json: jsonOption, ...databaseOptions },
  (args) =>
    Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      if (args.table === "agent") {
        const page = yield* storage.listAgentCheckpoints({ ...(yield* agentFilter(args)), ...pageRequest(args) })
        return yield* args.json
          ? printJson(page)
          : printPage(page, ["id", "createdAt", "sessionId", "agentId", "agentType", "name", "parentId"], agentRow)
      }
      const page = yield* storage.listAppCheckpoints({ ...(yield* appFilter(args)), ...pageRequest(args) })
      return yield* args.json
        ? printJson(page)
        : printPage(page, ["id", "createdAt", "sessionId", "hostname", "workspaceDirectory", "parentId"], appRow)
    }).pipe(withStorage(args))
).pipe(Command.withDescription(commandHelp(
  "List agent or app checkpoints, newest first, one page at a time (without their state).",
  "ecs list agent --session session-456 --limit 20 --db postgres://me@localhost/agents"
)))
