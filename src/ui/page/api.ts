/**
 * The page's client of the inspector's JSON API (src/ui/InspectorTypes.ts). The token comes from the address the
 * command printed (`?token=…`) and goes in the Authorization header, so it stays out of the server's logs of paths.
 */
import type {
  AgentPage,
  ApiError,
  CheckpointDetail,
  CheckpointKind,
  Overview,
  SessionPage,
  ThreadHistory,
  ThreadPage,
  Timeline
} from "../InspectorTypes.js"

/** A failed request, with the server's message (which never holds a password) when it sent one. */
export class ApiRequestError extends Error {
  constructor(readonly status: number, readonly tag: string, message: string) {
    super(message)
  }
}

/** The token of this page's address. */
export const pageToken = (): string => new URLSearchParams(window.location.search).get("token") ?? ""

type Query = Readonly<Record<string, string | number | undefined>>

const queryString = (query: Query): string => {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value))
  }
  const text = params.toString()
  return text === "" ? "" : `?${text}`
}

const isApiError = (body: unknown): body is ApiError =>
  typeof body === "object" && body !== null && "error" in body && typeof body.error === "object" &&
  body.error !== null && "message" in body.error && typeof body.error.message === "string"

// The server is this page's own, so its JSON is trusted to have the documented shape; its *content* is not (it is
// whatever agents stored) and is only ever shown as text.
const getJson = async <A>(path: string, query: Query = {}): Promise<A> => {
  const response = await fetch(`${path}${queryString(query)}`, {
    headers: { Authorization: `Bearer ${pageToken()}`, Accept: "application/json" }
  })
  const body: unknown = await response.json().catch(() => undefined)
  if (!response.ok) {
    const message = isApiError(body) ? body.error.message : `${response.status} ${response.statusText}`
    throw new ApiRequestError(response.status, isApiError(body) ? body.error.tag : "HttpError", message)
  }
  return body as A
}

export interface SessionFilter {
  readonly agentType?: string | undefined
  readonly agentId?: string | undefined
  readonly from?: number | undefined
  readonly to?: number | undefined
}

const enc = encodeURIComponent

export const api = {
  overview: () => getJson<Overview>("/api/overview"),
  sessions: (kind: CheckpointKind, filter: SessionFilter, cursor?: string) =>
    getJson<SessionPage>("/api/sessions", {
      kind,
      ...(kind === "agent" ? { agentType: filter.agentType, agentId: filter.agentId } : {}),
      from: filter.from,
      to: filter.to,
      cursor,
      limit: 50
    }),
  agents: (filter: SessionFilter, cursor?: string) =>
    getJson<AgentPage>("/api/agents", {
      agentType: filter.agentType,
      from: filter.from,
      to: filter.to,
      cursor,
      limit: 50
    }),
  timeline: (kind: CheckpointKind, sessionId: string, after?: string) =>
    getJson<Timeline>(`/api/sessions/${enc(sessionId)}/checkpoints`, { kind, after }),
  checkpoint: (kind: CheckpointKind, id: string) => getJson<CheckpointDetail>(`/api/checkpoints/${enc(id)}`, { kind }),
  threads: (after?: string) => getJson<ThreadPage>("/api/langgraph/threads", { after, limit: 50 }),
  thread: (threadId: string) => getJson<ThreadHistory>(`/api/langgraph/threads/${enc(threadId)}`, { limit: 50 })
}

/** The address of a session's JSON Lines download: a plain link cannot send a header, so the token rides along. */
export const exportUrl = (kind: CheckpointKind, sessionId: string): string =>
  `/api/sessions/${enc(sessionId)}/export${queryString({ kind, token: pageToken() })}`
