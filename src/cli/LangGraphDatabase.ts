/**
 * How the `langgraph` commands reach a database: the LangGraphCheckpoints service of the URL (see
 * `layerLangGraph`), with failures reported as every command reports them, and the threads read a page at a time.
 */
import * as Args from "@effect/cli/Args"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { MigrationError, StorageConnectionError } from "../services/CheckpointStorageError.js"
import {
  type LangGraphCheckpointError,
  LangGraphCheckpoints,
  type LangGraphCheckpointsService,
  type LangGraphThreadSummary
} from "../services/LangGraphCheckpoints.js"
import { layerLangGraph } from "./CliDatabase.js"
import type { DatabaseUrl } from "./DatabaseUrl.js"
import { withServicesOf } from "./RunCommand.js"

/**
 * A thread id on the command line. One that starts with "-" is refused as bad usage: it is a mistyped option that
 * the optional argument of `export` and `copy` would otherwise take for a thread id.
 */
export const threadIdArg = Args.text({ name: "THREAD_ID" }).pipe(
  Args.mapEffect((threadId) =>
    threadId.startsWith("-")
      ? Effect.fail(HelpDoc.p(`Unknown option ${threadId} (a thread id cannot start with "-")`))
      : Effect.succeed(threadId)
  )
)

/** Threads read per `listThreads` call when a command walks every thread. */
const THREAD_PAGE_SIZE = 500

/**
 * Runs a command on the LangGraph checkpoints of the database named by `db`.
 */
export const withLangGraph = withServicesOf<LangGraphCheckpoints, StorageConnectionError | MigrationError>(
  layerLangGraph
)

/**
 * The LangGraph service of a database for the life of the scope (`copy` holds two at once).
 */
export const openLangGraph = (
  url: DatabaseUrl
): Effect.Effect<LangGraphCheckpointsService, StorageConnectionError | MigrationError, Scope.Scope> =>
  Effect.map(Layer.build(layerLangGraph(url)), (context) => Context.get(context, LangGraphCheckpoints))

/**
 * Every thread of the database in thread id order, one `listThreads` page at a time.
 */
export const allThreads = (
  service: LangGraphCheckpointsService
): Stream.Stream<LangGraphThreadSummary, LangGraphCheckpointError> =>
  Stream.paginateChunkEffect(undefined as string | undefined, (after) =>
    Effect.map(
      service.listThreads({ after, limit: THREAD_PAGE_SIZE }),
      (page) => [Chunk.fromIterable(page.threads), Option.fromNullable(page.nextAfter)] as const
    ))

/**
 * The ids of the threads a command works on: the one it was given, else every thread.
 */
export const threadIds = (
  service: LangGraphCheckpointsService,
  threadId: Option.Option<string>
): Stream.Stream<string, LangGraphCheckpointError> =>
  Option.match(threadId, {
    onNone: () => Stream.map(allThreads(service), (thread) => thread.threadId),
    onSome: (id) => Stream.make(id)
  })
