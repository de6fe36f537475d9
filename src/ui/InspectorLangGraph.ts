/**
 * The inspector's LangGraph routes, through the LangGraphCheckpoints service. Each asks first whether the database has
 * the LangGraph tables (`installed`, which reads the migrations table only): any other operation on a database without
 * them would create them, and the inspector writes nothing.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { LangGraphCheckpoints, type StoredLangGraphCheckpoint } from "../services/LangGraphCheckpoints.js"
import { InspectorRequestError } from "./InspectorErrors.js"
import type { ThreadCheckpoint, ThreadHistory, ThreadPage } from "./InspectorTypes.js"
import { IntegerParam, pathParam, queryOf } from "./InspectorRequest.js"

/** How many checkpoints of a thread's history one request shows by default, and at most. */
const DEFAULT_HISTORY = 50
const MAX_HISTORY = 1000

const ThreadsQuery = Schema.Struct({ after: Schema.optional(Schema.String), limit: Schema.optional(IntegerParam) })
const HistoryQuery = Schema.Struct({
  limit: Schema.optional(IntegerParam.pipe(Schema.between(1, MAX_HISTORY)))
})

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** A document stored as JSON text, parsed; the text itself if it is not JSON. */
const parsedOrText = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

// LangGraph's serializer tags each value with its type: "json" values are UTF-8 JSON, shown as such; the others
// (msgpack, bytes, …) only by their type and size.
const channelValueOf = (type: string, value: Uint8Array): unknown => {
  if (type !== "json") return { type, bytes: value.byteLength }
  try {
    return JSON.parse(utf8.decode(value))
  } catch {
    return { type, bytes: value.byteLength }
  }
}

const threadCheckpointOf = (stored: StoredLangGraphCheckpoint): ThreadCheckpoint => ({
  checkpointNs: stored.checkpointNs,
  checkpointId: stored.checkpointId,
  parentCheckpointId: stored.parentCheckpointId,
  createdAt: stored.createdAt,
  metadata: parsedOrText(stored.metadata),
  channelValues: Object.fromEntries(stored.channelValues.map((value) => [value.channel, channelValueOf(value.type, value.value)])),
  pendingWrites: stored.pendingWrites.length
})

const threads = Effect.gen(function*() {
  const query = yield* queryOf(ThreadsQuery)
  const langGraph = yield* LangGraphCheckpoints
  if (!(yield* langGraph.installed)) {
    const empty: ThreadPage = { threads: [] }
    return HttpServerResponse.unsafeJson(empty)
  }
  const page = yield* langGraph.listThreads(query)
  const body: ThreadPage = { threads: page.threads, ...(page.nextAfter === undefined ? {} : { nextAfter: page.nextAfter }) }
  return HttpServerResponse.unsafeJson(body)
})

const history = Effect.gen(function*() {
  const threadId = yield* pathParam("threadId")
  const { limit = DEFAULT_HISTORY } = yield* queryOf(HistoryQuery)
  const langGraph = yield* LangGraphCheckpoints
  const stored = (yield* langGraph.installed)
    ? Chunk.toReadonlyArray(yield* Stream.runCollect(langGraph.list({ threadId, limit })))
    : []
  if (stored.length === 0) {
    return yield* new InspectorRequestError({ status: 404, tag: "NotFound", message: `There is no LangGraph thread ${threadId}` })
  }
  const body: ThreadHistory = { threadId, checkpoints: stored.map(threadCheckpointOf) }
  return HttpServerResponse.unsafeJson(body)
})

/**
 * The routes under `/api/langgraph/`.
 */
export const langGraphRoutes = HttpRouter.empty.pipe(
  HttpRouter.get("/api/langgraph/threads", threads),
  HttpRouter.get("/api/langgraph/threads/:threadId", history)
)
