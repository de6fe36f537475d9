/**
 * Stored LangGraph checkpoints as the `langgraph` commands show them: an export line (bytes as base64), a history
 * row (the metadata's source and step), and the comparison `copy` uses to tell a checkpoint already in the target.
 */
import type { StoredLangGraphCheckpoint } from "../services/LangGraphCheckpoints.js"

/**
 * One line of `langgraph export`: the checkpoint as it is stored, values as base64.
 */
export interface LangGraphExportLine
  extends Omit<StoredLangGraphCheckpoint, "channelValues" | "pendingWrites">
{
  readonly channelValues: ReadonlyArray<{
    readonly channel: string
    readonly version: string
    readonly type: string
    readonly value: string
  }>
  readonly pendingWrites: ReadonlyArray<{
    readonly taskId: string
    readonly taskPath: string
    readonly idx: number
    readonly channel: string
    readonly type: string
    readonly value: string
  }>
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")

/**
 * A stored checkpoint as an export line.
 */
export const toExportLine = (stored: StoredLangGraphCheckpoint): LangGraphExportLine => ({
  threadId: stored.threadId,
  checkpointNs: stored.checkpointNs,
  checkpointId: stored.checkpointId,
  parentCheckpointId: stored.parentCheckpointId,
  checkpoint: stored.checkpoint,
  metadata: stored.metadata,
  createdAt: stored.createdAt,
  channelValues: stored.channelValues.map(({ channel, type, value, version }) => ({
    channel,
    version,
    type,
    value: base64(value)
  })),
  pendingWrites: stored.pendingWrites.map(({ channel, idx, taskId, taskPath, type, value }) => ({
    taskId,
    taskPath,
    idx,
    channel,
    type,
    value: base64(value)
  }))
})

/**
 * One row of `langgraph history`.
 */
export interface LangGraphHistoryRow {
  readonly checkpointNs: string
  readonly checkpointId: string
  readonly parentCheckpointId: string | null
  readonly createdAt: number
  /** The metadata's `source` ("input", "loop", "update", "fork"), null when it has none. */
  readonly source: string | null
  /** The metadata's `step`, null when it has none. */
  readonly step: number | null
  readonly channelValues: number
  readonly pendingWrites: number
}

const parseObject = (text: string): Readonly<Record<string, unknown>> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? parsed as Readonly<Record<string, unknown>>
      : undefined
  } catch {
    // A history is for looking: a metadata document that cannot be read shows as no source and no step.
    return undefined
  }
}

/**
 * A stored checkpoint as a history row.
 */
export const toHistoryRow = (stored: StoredLangGraphCheckpoint): LangGraphHistoryRow => {
  const metadata = parseObject(stored.metadata)
  const source = metadata?.["source"]
  const step = metadata?.["step"]
  return {
    checkpointNs: stored.checkpointNs,
    checkpointId: stored.checkpointId,
    parentCheckpointId: stored.parentCheckpointId,
    createdAt: stored.createdAt,
    source: typeof source === "string" ? source : null,
    step: typeof step === "number" ? step : null,
    channelValues: stored.channelValues.length,
    pendingWrites: stored.pendingWrites.length
  }
}

// JSON with its object keys sorted: PostgreSQL keeps metadata as jsonb, which gives it back with its keys reordered
// and its spacing changed, so the same document read from two databases compares equal only in this form.
const canonicalJson = (text: string): string => {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : typeof value === "object" && value !== null
      ? Object.fromEntries(
        Object.keys(value).sort().map((key) => [key, sort((value as Record<string, unknown>)[key])])
      )
      : value
  try {
    return JSON.stringify(sort(JSON.parse(text)))
  } catch {
    return text
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)

/**
 * The key of a checkpoint within a thread.
 */
export const checkpointKey = (stored: { readonly checkpointNs: string; readonly checkpointId: string }): string =>
  `${stored.checkpointNs}\u0000${stored.checkpointId}`

/**
 * The key of a pending write within a checkpoint: a task's write at an index is stored once.
 */
export const writeKey = (write: { readonly taskId: string; readonly idx: number }): string =>
  `${write.taskId}\u0000${write.idx}`

/**
 * The key of a channel value within a thread.
 */
export const channelValueKey = (
  checkpointNs: string,
  value: { readonly channel: string; readonly version: string }
): string => `${checkpointNs}\u0000${value.channel}\u0000${value.version}`

/**
 * Whether two stored checkpoints hold the same thing (documents compared as JSON, bytes as bytes), pending writes
 * included when `withWrites`: what `copy` finds already in the target, and how it verifies what it wrote.
 */
export const sameCheckpoint = (
  a: StoredLangGraphCheckpoint,
  b: StoredLangGraphCheckpoint,
  withWrites: boolean
): boolean => {
  if (
    a.threadId !== b.threadId || a.checkpointNs !== b.checkpointNs || a.checkpointId !== b.checkpointId ||
    a.parentCheckpointId !== b.parentCheckpointId || a.createdAt !== b.createdAt ||
    canonicalJson(a.checkpoint) !== canonicalJson(b.checkpoint) ||
    canonicalJson(a.metadata) !== canonicalJson(b.metadata) || a.channelValues.length !== b.channelValues.length
  ) return false
  const values = new Map(b.channelValues.map((value) => [channelValueKey(b.checkpointNs, value), value]))
  for (const value of a.channelValues) {
    const other = values.get(channelValueKey(a.checkpointNs, value))
    if (other === undefined || other.type !== value.type || !sameBytes(other.value, value.value)) return false
  }
  if (!withWrites) return true
  if (a.pendingWrites.length !== b.pendingWrites.length) return false
  const writes = new Map(b.pendingWrites.map((write) => [writeKey(write), write]))
  return a.pendingWrites.every((write) => {
    const other = writes.get(writeKey(write))
    return other !== undefined && other.taskPath === write.taskPath && other.channel === write.channel &&
      other.type === write.type && sameBytes(other.value, write.value)
  })
}
