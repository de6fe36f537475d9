/**
 * `export`: every checkpoint, state included, to JSON Lines (stdout or a file), a page at a time.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { CliDatabase } from "./CliDatabase.js"
import type { CommandFailedError } from "./CliError.js"
import { databaseOptions } from "./CommonOptions.js"
import { exportHeaderLine, exportLine } from "./ExportFormat.js"
import { isClosedPipe, openLineSink } from "./LineFiles.js"
import { makeProgress } from "./Progress.js"
import { withStorage } from "./RunCommand.js"
import { commandHelp } from "./CommandHelp.js"

const PAGE_SIZE = 1000


/**
 * The `export` command.
 */
export const exportCommand = Command.make(
  "export",
  {
    out: Options.file("out").pipe(
      Options.withAlias("o"),
      Options.withDescription("Write to this file (default: stdout)"),
      Options.optional
    ),
    ...databaseOptions
  },
  (args) =>
    Effect.scoped(Effect.gen(function*() {
      const storage = yield* CheckpointStorage
      const { url } = yield* CliDatabase
      const statistics = yield* storage.statistics()
      const total = statistics.agentCheckpoints.count + statistics.appCheckpoints.count
      const sink = yield* openLineSink(args.out)
      yield* sink.write(exportHeaderLine(url.display))
      const progress = yield* makeProgress("export", Option.some(total))
      const order = { orderBy: "id", orderDir: "ASC", pageSize: PAGE_SIZE, includeState: true } as const
      const exported = yield* Ref.make(0)
      // A page of the stream at a time: one write per page, memory for one page only.
      const writeAll = <A extends { readonly id: string; readonly parentId?: string | undefined }, E>(
        table: "agent" | "app",
        stream: Stream.Stream<A, E>
      ) =>
        stream.pipe(Stream.runForEachChunk((chunk) =>
          sink.write(Chunk.toReadonlyArray(chunk).map((checkpoint) => exportLine(table, checkpoint)).join("")).pipe(
            Effect.zipRight(progress.advance(chunk.length)),
            Effect.zipRight(Ref.update(exported, (n) => n + chunk.length))
          )
        ))
      const written = yield* Effect.zipRight(
        writeAll("agent", storage.streamAgentCheckpoints(order)),
        writeAll("app", storage.streamAppCheckpoints(order))
      ).pipe(
        Effect.as(true),
        Effect.catchIf(
          (error): error is CommandFailedError => error._tag === "CommandFailedError" && isClosedPipe(error),
          () => Effect.succeed(false)
        )
      )
      if (!written) return
      yield* sink.commit
      yield* progress.finish
      if (Option.isSome(args.out)) {
        yield* Console.error(`Exported ${yield* Ref.get(exported)} checkpoints from ${url.display} to ${args.out.value}`)
      }
    })).pipe(withStorage(args))
).pipe(Command.withDescription(commandHelp(
  "Export every checkpoint, state included, as JSON Lines (a header line, then one checkpoint per line).",
  "ecs export --db sqlite:./agent_state.db --out checkpoints.jsonl"
)))
