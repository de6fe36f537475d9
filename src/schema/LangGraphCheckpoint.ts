/**
 * The schemas of what the LangGraph operations accept: each key within what every database can index, the
 * checkpoint and metadata documents as JSON objects.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CreatedAt, StoredText } from "./CheckpointFields.js"

/**
 * The longest value of each key column, in characters. MySQL/MariaDB index at most 3072 bytes per key (768 utf8mb4
 * characters): the channel values' key (thread, namespace, channel, version) uses 765 of them.
 *
 * @since 0.2.0
 */
export const LangGraphKeyLengths = {
  threadId: 255,
  checkpointNs: 255,
  checkpointId: 64,
  taskId: 128,
  taskPath: 1024,
  channel: 191,
  version: 64
} as const

const L = LangGraphKeyLengths

const ThreadId = StoredText(L.threadId, { nonEmpty: true })
const CheckpointNs = StoredText(L.checkpointNs, { nonEmpty: false })
const CheckpointId = StoredText(L.checkpointId, { nonEmpty: true })
const Channel = StoredText(L.channel, { nonEmpty: true })
const TypeTag = StoredText(255, { nonEmpty: true })

const JsonObjectText = <A, I>(document: Schema.Schema<A, I>, what: string) =>
  Schema.String.pipe(
    Schema.filter((text) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        return `must be ${what} as JSON`
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return `must be ${what} as JSON`
      // PostgreSQL's jsonb refuses the escaped NUL character; it is refused everywhere, so that every database
      // takes the same documents.
      if (text.includes("\\u0000")) return "must not contain the NUL character (U+0000)"
      return Schema.is(document)(parsed) || `must be ${what} as JSON`
    })
  )

const ChannelVersion = Schema.Union(Schema.String, Schema.Number)

/**
 * What the storage reads inside a checkpoint document: the version of each channel.
 *
 * @since 0.2.0
 */
export const CheckpointDocument = Schema.Struct({
  channel_versions: Schema.optional(Schema.Record({ key: Schema.String, value: ChannelVersion }))
})

const SerializedValue = Schema.Struct({ type: TypeTag, value: Schema.Uint8ArrayFromSelf })

/**
 * @since 0.2.0
 */
export const LangGraphCheckpointInput = Schema.Struct({
  threadId: ThreadId,
  checkpointNs: CheckpointNs,
  checkpointId: CheckpointId,
  parentCheckpointId: Schema.optional(CheckpointId),
  checkpoint: JsonObjectText(CheckpointDocument, "a checkpoint object ({ v, id, ts, channel_versions, … })"),
  metadata: JsonObjectText(Schema.Object, "an object"),
  channelValues: Schema.Array(Schema.Struct({
    channel: Channel,
    version: StoredText(L.version, { nonEmpty: true }),
    value: Schema.optional(SerializedValue)
  })),
  createdAt: Schema.optional(CreatedAt)
})

const WriteIndex = Schema.Number.pipe(
  Schema.filter((n) => (Number.isInteger(n) && Math.abs(n) <= 2_147_483_647) || "must be a 32-bit whole number")
)

/**
 * @since 0.2.0
 */
export const LangGraphWritesInput = Schema.Struct({
  threadId: ThreadId,
  checkpointNs: CheckpointNs,
  checkpointId: CheckpointId,
  taskId: StoredText(L.taskId, { nonEmpty: true }),
  taskPath: Schema.optional(StoredText(L.taskPath, { nonEmpty: false })),
  writes: Schema.Array(Schema.Struct({ channel: Channel, idx: WriteIndex, value: SerializedValue })),
  replace: Schema.optional(Schema.Boolean)
})

/**
 * @since 0.2.0
 */
export const LangGraphCheckpointLocator = Schema.Struct({
  threadId: ThreadId,
  checkpointNs: Schema.optional(CheckpointNs),
  checkpointId: Schema.optional(CheckpointId)
})

// A metadata key is written into a JSON path on MySQL and SQLite ('$."key"'), where a quote or a backslash would
// end it early. (Checked on the record, not as its key schema: a Record drops the keys its key schema refuses.)
const isMetadataKey = (key: string) => key !== "" && !/["\\\u0000]/.test(key)
const FilterValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null).annotations({
  message: () => "a metadata filter value must be a string, a number, a boolean or null"
})

const Limit = Schema.Number.pipe(
  Schema.filter((n) => (Number.isInteger(n) && n >= 1) || "must be a whole number, 1 or more")
)

/**
 * @since 0.2.0
 */
export const LangGraphListQuery = Schema.Struct({
  threadId: Schema.optional(ThreadId),
  checkpointNs: Schema.optional(CheckpointNs),
  checkpointId: Schema.optional(CheckpointId),
  before: Schema.optional(CheckpointId),
  limit: Schema.optional(Limit),
  filter: Schema.optional(
    Schema.Record({ key: Schema.String, value: FilterValue }).pipe(Schema.filter((filter) =>
      Object.keys(filter).every(isMetadataKey) || "metadata keys must be non-empty, without \" or \\"
    ))
  )
})

/**
 * @since 0.2.0
 */
export const LangGraphThreadPageOptions = Schema.Struct({
  after: Schema.optional(ThreadId),
  limit: Schema.optional(Limit.pipe(Schema.filter((n) => n <= 10_000 || "must be at most 10000")))
})

const PositiveDuration = Schema.declare(
  (input: unknown): input is Duration.DurationInput => Option.isSome(Duration.decodeUnknown(input)),
  { message: () => "must be a duration (\"30 days\", milliseconds, or a Duration)" }
).pipe(Schema.filter((input) => Duration.greaterThan(Duration.decode(input), Duration.zero) || "must be longer than zero"))

/**
 * @since 0.2.0
 */
export const LangGraphRetentionPolicy = Schema.Struct({
  keepLastPerThread: Schema.optional(Limit),
  maxAge: Schema.optional(PositiveDuration),
  includeNewest: Schema.optional(Schema.Boolean),
  threadId: Schema.optional(ThreadId)
}).pipe(Schema.filter((policy) =>
  policy.keepLastPerThread !== undefined || policy.maxAge !== undefined ||
  "must set keepLastPerThread or maxAge (an empty policy would keep everything)"
))
