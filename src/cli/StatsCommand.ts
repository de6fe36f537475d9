/**
 * `stats`: how many checkpoints, how large, how old, per table and per session; and the entries of the persistence
 * table (PersistedCache, @effect/ai chats) per store id, when the database has that table (asking creates none).
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { SessionStatistics, TableStatistics } from "../schema/CheckpointQuery.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { PersistenceStorage } from "../services/PersistenceStorage.js"
import { CliDatabase } from "./CliDatabase.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions, jsonOption } from "./CommonOptions.js"
import { formatBytes, formatTime, printJson, renderTable, truncate } from "./Output.js"
import { withStorage } from "./RunCommand.js"

// The most sessions the storage reports per table in one call.
const MAX_SESSIONS = 10_000

const ofTable = (table: "agent" | "app") => (sessions: ReadonlyArray<SessionStatistics>) =>
  sessions.map((session) => ({ table, ...session }))

const tableRow = (name: string, stats: TableStatistics) => [
  name,
  String(stats.count),
  formatBytes(stats.totalBytes),
  formatBytes(stats.largestBytes),
  Option.match(stats.oldestCreatedAt, { onNone: () => "", onSome: formatTime }),
  Option.match(stats.newestCreatedAt, { onNone: () => "", onSome: formatTime })
]

/**
 * The `stats` command.
 */
export const statsCommand = Command.make(
  "stats",
  {
    sessions: Options.integer("sessions").pipe(
      Options.withDescription("How many sessions to show per table, newest first"),
      Options.withDefault(20)
    ),
    json: jsonOption,
    ...databaseOptions
  },
  (args) =>
    Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      const { url } = yield* CliDatabase
      const tables = yield* storage.statistics()
      const perSession = yield* storage.sessionStatistics({ limit: Math.min(MAX_SESSIONS, Math.max(1, args.sessions)) })
      const sessions = [...ofTable("agent")(perSession.agentCheckpoints), ...ofTable("app")(perSession.appCheckpoints)]
      const persistence = yield* PersistenceStorage
      const stores = (yield* persistence.installed) ? yield* persistence.statistics() : null
      if (args.json) return yield* printJson({ database: url.display, ...tables, sessions, persistence: stores })
      yield* Console.log(`Checkpoints in ${url.display}\n`)
      yield* Console.log(renderTable(["table", "count", "total", "largest", "oldest", "newest"], [
        tableRow("AgentCheckpoints", tables.agentCheckpoints),
        tableRow("AppCheckpoints", tables.appCheckpoints)
      ]))
      if (sessions.length > 0) {
        yield* Console.log(`\nPer session (the ${args.sessions} newest of each table):\n`)
        yield* Console.log(renderTable(
          ["table", "sessionId", "count", "total", "newest"],
          sessions.map((s) => [
            s.table,
            truncate(s.sessionId, 40),
            String(s.count),
            formatBytes(s.totalBytes),
            formatTime(s.newestCreatedAt)
          ])
        ))
      }
      if (stores !== null) {
        yield* Console.log("\nPersistence entries (PersistedCache, chats), per store id; expired ones go with `ecs prune --persistence`:\n")
        yield* Console.log(renderTable(
          ["storeId", "entries", "expired", "values"],
          stores.map((store) => [
            truncate(store.storeId, 40),
            String(store.entries),
            String(store.expired),
            formatBytes(store.valueBytes)
          ])
        ))
      }
    }).pipe(withStorage(args))
).pipe(Command.withDescription(commandHelp(
  "Counts and sizes of the checkpoints, per table and per session, and of the persistence entries per store id.",
  "ecs stats --db mysql://root@localhost/agents --json"
)))
