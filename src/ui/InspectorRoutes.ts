/**
 * The inspector's routes: each one reads through the CheckpointStorage or LangGraphCheckpoints service, never SQL of
 * its own, and answers the JSON of InspectorTypes.ts. All of them only read.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { exportHeaderLine, exportLine } from "../cli/ExportFormat.js"
import { encodedStateBytes, encodeState } from "../internal/encodeState.js"
import type { StoredAgentCheckpoint } from "../schema/AgentCheckpoint.js"
import type { StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import { CheckpointStorage } from "../services/CheckpointStorage.js"
import { InspectorRequestError } from "./InspectorErrors.js"
import { langGraphRoutes } from "./InspectorLangGraph.js"
import { IntegerParam, pathParam, queryOf } from "./InspectorRequest.js"
import type {
  AgentPage,
  CheckpointDetail,
  CheckpointKind,
  Overview,
  SessionPage,
  Timeline,
  TimelineEntry
} from "./InspectorTypes.js"
import { LangGraphCheckpoints } from "../services/LangGraphCheckpoints.js"

/** The most checkpoints one timeline shows (the oldest): a page, not the whole of a long session. */
export const TIMELINE_LIMIT = 2000

/** Checkpoints (with their states) read per statement for a timeline or an export. */
const READ_PAGE_SIZE = 200

const notFound = (message: string) => new InspectorRequestError({ status: 404, tag: "NotFound", message })

const Kind = Schema.optionalWith(Schema.Literal("agent", "app"), { default: () => "agent" as const })
const CheckpointIdParam = Schema.String.pipe(Schema.pattern(/^[1-9]\d{0,15}$/, { message: () => "must be a checkpoint id" }))

const SessionsQuery = Schema.Struct({
  kind: Kind,
  agentType: Schema.optional(Schema.String),
  agentId: Schema.optional(Schema.String),
  from: Schema.optional(IntegerParam),
  to: Schema.optional(IntegerParam),
  cursor: Schema.optional(Schema.String),
  limit: Schema.optional(IntegerParam)
})
const AgentsQuery = Schema.Struct({
  agentType: Schema.optional(Schema.String),
  from: Schema.optional(IntegerParam),
  to: Schema.optional(IntegerParam),
  cursor: Schema.optional(Schema.String),
  limit: Schema.optional(IntegerParam)
})
const TimelineQuery = Schema.Struct({ kind: Kind, after: Schema.optional(CheckpointIdParam) })
const KindQuery = Schema.Struct({ kind: Kind })

type Stored = StoredAgentCheckpoint | StoredAppCheckpoint

/** The size of a state by the storage's rule (UTF-8 bytes of its JSON text): the list items do not carry it. */
const stateBytesOf = (state: object): number =>
  Either.match(encodeState(state), { onLeft: () => 0, onRight: encodedStateBytes })

const entryOf = (checkpoint: Stored): TimelineEntry =>
  "agentId" in checkpoint
    ? {
      id: checkpoint.id,
      name: checkpoint.name,
      createdAt: checkpoint.createdAt,
      parentId: checkpoint.parentId ?? null,
      stateBytes: stateBytesOf(checkpoint.state),
      agentId: checkpoint.agentId,
      agentType: checkpoint.agentType
    }
    : {
      id: checkpoint.id,
      // An app checkpoint has no name: where it was taken names it.
      name: `${checkpoint.hostname} ${checkpoint.workspaceDirectory}`,
      createdAt: checkpoint.createdAt,
      parentId: checkpoint.parentId ?? null,
      stateBytes: stateBytesOf(checkpoint.state)
    }

/** A session's checkpoints with their states, oldest first, read a page at a time. */
const sessionCheckpoints = (kind: CheckpointKind, sessionId: string, createdFrom: number | undefined) =>
  Effect.map(CheckpointStorage, (storage): Stream.Stream<Stored, { readonly _tag: string; readonly message: string }> => {
    const options = {
      sessionId,
      // `after` is exclusive: one millisecond earlier keeps the checkpoints of that very millisecond.
      ...(createdFrom === undefined || createdFrom === 0 ? {} : { after: createdFrom - 1 }),
      orderBy: "createdAt",
      orderDir: "ASC",
      pageSize: READ_PAGE_SIZE,
      includeState: true
    } as const
    return kind === "agent" ? storage.streamAgentCheckpoints(options) : storage.streamAppCheckpoints(options)
  })

const retrieve = (kind: CheckpointKind, id: string) =>
  Effect.flatMap(CheckpointStorage, (storage): Effect.Effect<Option.Option<Stored>, { readonly _tag: string; readonly message: string }> =>
    kind === "agent" ? storage.retrieveAgentCheckpoint(id) : storage.retrieveAppCheckpoint(id))

const overview = (database: string) =>
  Effect.gen(function*() {
    const storage = yield* CheckpointStorage
    const langGraph = yield* LangGraphCheckpoints
    const statistics = yield* storage.statistics()
    // Only a database that has the LangGraph tables is asked: every other operation would create them.
    const langGraphThreads = (yield* langGraph.installed) ? yield* langGraph.countThreads() : null
    const body: Overview = {
      database,
      agentCheckpoints: statistics.agentCheckpoints.count,
      appCheckpoints: statistics.appCheckpoints.count,
      langGraphThreads
    }
    return HttpServerResponse.unsafeJson(body)
  })

const sessions = Effect.gen(function*() {
  const query = yield* queryOf(SessionsQuery)
  const page = yield* (yield* CheckpointStorage).listSessions(query)
  const body: SessionPage = { sessions: page.items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) }
  return HttpServerResponse.unsafeJson(body)
})

const agents = Effect.gen(function*() {
  const query = yield* queryOf(AgentsQuery)
  const page = yield* (yield* CheckpointStorage).listAgents(query)
  const body: AgentPage = {
    agents: page.items.map(({ agentId, agentType, checkpoints, sessions, lastCreatedAt }) => ({
      agentId,
      agentType,
      checkpoints,
      sessions,
      lastCreatedAt
    })),
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor })
  }
  return HttpServerResponse.unsafeJson(body)
})

// Oldest first, at most TIMELINE_LIMIT. With `after`: the checkpoints stored after it (a higher id: ids come from an
// auto-increment), read from its createdAt on, which is what a live agent appends. A checkpoint stored later with
// an older createdAt (an import) is not polled; reloading the timeline shows it.
const timeline = Effect.gen(function*() {
  const sessionId = yield* pathParam("sessionId")
  const { after, kind } = yield* queryOf(TimelineQuery)
  const from = after === undefined
    ? undefined
    : Option.getOrUndefined(Option.map(yield* retrieve(kind, after), (checkpoint) => checkpoint.createdAt))
  const checkpoints = yield* sessionCheckpoints(kind, sessionId, from)
  const afterId = after === undefined ? 0 : Number(after)
  const read = yield* Stream.runCollect(Stream.take(
    Stream.filter(checkpoints, (checkpoint) => Number(checkpoint.id) > afterId),
    TIMELINE_LIMIT + 1
  ))
  const entries = Chunk.toReadonlyArray(read).map(entryOf)
  const body: Timeline = {
    sessionId,
    kind,
    checkpoints: entries.slice(0, TIMELINE_LIMIT),
    truncated: entries.length > TIMELINE_LIMIT
  }
  return HttpServerResponse.unsafeJson(body)
})

const detail = Effect.gen(function*() {
  const id = yield* pathParam("id")
  const { kind } = yield* queryOf(KindQuery)
  const found = yield* retrieve(kind, id)
  if (Option.isNone(found)) return yield* notFound(`There is no ${kind} checkpoint ${id}`)
  const checkpoint = found.value
  const body: CheckpointDetail = { ...entryOf(checkpoint), kind, sessionId: checkpoint.sessionId, state: checkpoint.state }
  return HttpServerResponse.unsafeJson(body)
})

/** A session id as part of a file name: letters, digits, `.`, `_` and `-` kept, anything else `_`. */
export const safeFileName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100)

// The session as `ecs export` writes a file (its header line, then a line per checkpoint by id), streamed a page at
// a time. A session without checkpoints is a 404, answered before the first byte.
const exportSession = (database: string) =>
  Effect.gen(function*() {
    const sessionId = yield* pathParam("sessionId")
    const { kind } = yield* queryOf(KindQuery)
    const storage = yield* CheckpointStorage
    const first = kind === "agent"
      ? yield* storage.listAgentCheckpoints({ sessionId, limit: 1 })
      : yield* storage.listAppCheckpoints({ sessionId, limit: 1 })
    if (first.items.length === 0) return yield* notFound(`There is no ${kind} session ${sessionId}`)
    const order = { sessionId, orderBy: "id", orderDir: "ASC", pageSize: READ_PAGE_SIZE, includeState: true } as const
    const lines = kind === "agent"
      ? Stream.map(storage.streamAgentCheckpoints(order), (checkpoint) => exportLine("agent", checkpoint))
      : Stream.map(storage.streamAppCheckpoints(order), (checkpoint) => exportLine("app", checkpoint))
    const encoder = new TextEncoder()
    const body = Stream.concat(Stream.make(exportHeaderLine(database)), lines).pipe(
      Stream.map((line) => encoder.encode(line))
    )
    return HttpServerResponse.stream(body, {
      contentType: "application/x-ndjson; charset=utf-8",
      headers: { "content-disposition": `attachment; filename="session-${safeFileName(sessionId)}.jsonl"` }
    })
  })

/**
 * The API routes (`/api/...`).
 */
export const apiRoutes = (database: string) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/api/overview", overview(database)),
    HttpRouter.get("/api/sessions", sessions),
    HttpRouter.get("/api/agents", agents),
    HttpRouter.get("/api/sessions/:sessionId/checkpoints", timeline),
    HttpRouter.get("/api/sessions/:sessionId/export", exportSession(database)),
    HttpRouter.get("/api/checkpoints/:id", detail),
    HttpRouter.concat(langGraphRoutes)
  )
