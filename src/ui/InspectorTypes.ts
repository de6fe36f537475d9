/**
 * The JSON the inspector's server sends its page (`ecs ui`): one definition for both sides. Every request carries the
 * token of the address the command printed, as the `token` query parameter or `Authorization: Bearer <token>`;
 * without it the server answers 401. Times are epoch milliseconds; sizes are bytes of the stored state text.
 *
 * Routes (all GET, all read-only):
 * - `/` the page; `/inspector.js`, `/inspector.css` its code and style (built into the package, nothing external).
 * - `/api/overview` → {@link Overview}
 * - `/api/sessions?kind=agent|app&agentType=&agentId=&from=&to=&cursor=&limit=` → {@link SessionPage}
 *   (`agentType`/`agentId` only for `kind=agent`; `from`/`to` bound the checkpoints' createdAt; newest session first)
 * - `/api/agents?agentType=&from=&to=&cursor=&limit=` → {@link AgentPage}
 * - `/api/sessions/:sessionId/checkpoints?kind=agent|app&after=<id>` → {@link Timeline} (oldest first; with `after`,
 *   only those stored after that checkpoint: what live refresh polls)
 * - `/api/checkpoints/:id?kind=agent|app` → {@link CheckpointDetail}
 * - `/api/sessions/:sessionId/export?kind=agent|app` → the session as JSON Lines (the format of `ecs export`), as a
 *   download
 * - `/api/langgraph/threads?after=&limit=` → {@link ThreadPage}
 * - `/api/langgraph/threads/:threadId?limit=` → {@link ThreadHistory}
 *
 * An error is `{ error: { tag, message } }` with status 400 (bad input), 401 (no or wrong token), 404 (nothing
 * there) or 500; its message never holds a password.
 */

import type { AgentSummary, SessionSummary } from "../schema/SessionList.js"
import type { LangGraphThreadSummary } from "../services/LangGraphCheckpoints.js"

export type { AgentSummary, LangGraphThreadSummary as ThreadSummary, SessionSummary }

/** Which table: agent checkpoints or app (session) checkpoints. */
export type CheckpointKind = "agent" | "app"

export interface Overview {
  /** The database, its password masked (`postgres://me:***@host/db`). */
  readonly database: string
  readonly agentCheckpoints: number
  readonly appCheckpoints: number
  /** LangGraph threads, or null when the database has no LangGraph tables. */
  readonly langGraphThreads: number | null
}

export interface SessionPage {
  readonly sessions: ReadonlyArray<SessionSummary>
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string | undefined
}

export interface AgentPage {
  readonly agents: ReadonlyArray<AgentSummary>
  readonly nextCursor?: string | undefined
}

/** One checkpoint in a session's timeline, without its state. */
export interface TimelineEntry {
  readonly id: string
  readonly name: string
  readonly createdAt: number
  /** The checkpoint it continues (lineage); two entries with one parent are a fork. */
  readonly parentId: string | null
  readonly stateBytes: number
  /** Agent checkpoints only. */
  readonly agentId?: string | undefined
  readonly agentType?: string | undefined
}

export interface Timeline {
  readonly sessionId: string
  readonly kind: CheckpointKind
  readonly checkpoints: ReadonlyArray<TimelineEntry>
  /** True when the session has more checkpoints than one timeline shows (the oldest are shown). */
  readonly truncated: boolean
}

export interface CheckpointDetail extends TimelineEntry {
  readonly kind: CheckpointKind
  readonly sessionId: string
  readonly state: unknown
}

export interface ThreadPage {
  readonly threads: ReadonlyArray<LangGraphThreadSummary>
  readonly nextAfter?: string | undefined
}

export interface ThreadCheckpoint {
  readonly checkpointNs: string
  readonly checkpointId: string
  readonly parentCheckpointId: string | null
  readonly createdAt: number
  readonly metadata: unknown
  /** Channel values whose serialised type is "json", decoded; others as `{ type, bytes }`. */
  readonly channelValues: Readonly<Record<string, unknown>>
  readonly pendingWrites: number
}

export interface ThreadHistory {
  readonly threadId: string
  /** Newest first. */
  readonly checkpoints: ReadonlyArray<ThreadCheckpoint>
}

export interface ApiError {
  readonly error: { readonly tag: string; readonly message: string }
}
