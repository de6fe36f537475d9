/**
 * `ui`: a read-only web inspector of the database, served on 127.0.0.1 until Ctrl-C. It prints the address to open,
 * with the token every request must carry.
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { StorageLayerError } from "../internal/clientLayer.js"
import type { CheckpointStorage } from "../services/CheckpointStorage.js"
import type { MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"
import type { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"
import { startInspector } from "../ui/InspectorServer.js"
import { CliDatabase, layerLangGraph, layerStorage } from "./CliDatabase.js"
import { CommandFailedError } from "./CliError.js"
import { commandHelp } from "./CommandHelp.js"
import { databaseOptions } from "./CommonOptions.js"
import type { DatabaseUrl } from "./DatabaseUrl.js"
import { withServicesOf } from "./RunCommand.js"

/**
 * Both services the inspector reads a database with: the checkpoint tables, and the LangGraph tables (which it never
 * creates: see `LangGraphCheckpoints.installed`).
 */
export const layerInspected = (url: DatabaseUrl) => Layer.merge(layerStorage(url), layerLangGraph(url))

const withInspected = withServicesOf<
  CheckpointStorage | LangGraphCheckpoints,
  StorageLayerError | StorageConnectionError | MigrationError
>(layerInspected)

/** The password of a server database's URL: never sent by the inspector, even inside a driver's message. */
export const secretsOf = (url: DatabaseUrl): ReadonlyArray<string> => {
  if (url.dialect === "sqlite") return []
  try {
    const password = decodeURIComponent(new URL(Redacted.value(url.connectionString)).password)
    return password === "" ? [] : [password]
  } catch {
    return []
  }
}

const portOption = Options.integer("port").pipe(
  Options.withDescription("The port on 127.0.0.1 (1 to 65535). Default: a free one"),
  Options.mapEffect((port) =>
    Number.isInteger(port) && port >= 1 && port <= 65535
      ? Effect.succeed(port)
      : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--port must be from 1 to 65535, not ${port}`)))
  ),
  Options.optional
)

/**
 * The `ui` command.
 */
export const uiCommand = Command.make(
  "ui",
  { port: portOption, ...databaseOptions },
  (args) =>
    Effect.scoped(Effect.gen(function*() {
      const { url } = yield* CliDatabase
      const services = yield* Effect.context<CheckpointStorage | LangGraphCheckpoints>()
      const port = Option.getOrUndefined(args.port)
      const running = yield* startInspector(Layer.succeedContext(services), {
        database: url.display,
        port,
        secrets: secretsOf(url)
      }).pipe(
        Effect.mapError((error) =>
          new CommandFailedError({
            reason: `Cannot serve the inspector on 127.0.0.1${port === undefined ? "" : `:${port}`} (${
              error.cause instanceof Error ? error.cause.message : "the port may be in use"
            })`,
            cause: error.cause
          })
        )
      )
      yield* Console.log(`Inspecting ${url.display} at ${running.url} (read-only; Ctrl-C stops it)`)
      return yield* Effect.never
    })).pipe(withInspected(args, "read", "the inspector stopped"))
).pipe(Command.withDescription(commandHelp(
  "Serve a read-only web inspector of the database on 127.0.0.1 and print its address (with its access token).",
  "ecs ui --db sqlite:./agent_state.db",
  "ecs ui --db postgres://me:secret@db.internal/agents --port 8765"
)))
