/**
 * The filter and paging options of `list`, `latest` and `prune`, read into the query API's types.
 */
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AgentCheckpointListOptions, AppCheckpointListOptions } from "../schema/CheckpointQuery.js"
import { UsageError } from "./CliError.js"

/**
 * A time on the command line: milliseconds since the epoch, or a date (`2026-01-31`, `2026-01-31T12:00:00Z`).
 */
export const parseTime = (option: string, text: string): Effect.Effect<number, UsageError> => {
  if (/^\d+$/.test(text)) return Effect.succeed(Number(text))
  const millis = Date.parse(text)
  return Number.isNaN(millis)
    ? Effect.fail(new UsageError({ reason: `--${option} must be a date or milliseconds since the epoch, not "${text}"` }))
    : Effect.succeed(millis)
}

const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/**
 * The filters of both tables; those of the other table are refused.
 */
export const filterOptions = {
  session: optionalText("session", "Only this sessionId"),
  agent: optionalText("agent", "Only this agentId (agent checkpoints)"),
  agentType: optionalText("agent-type", "Only this agentType (agent checkpoints)"),
  hostname: optionalText("hostname", "Only this hostname (app checkpoints)"),
  workspaceDir: optionalText("workspace-dir", "Only this workspaceDirectory (app checkpoints)"),
  before: optionalText("before", "Only checkpoints created before this date or epoch-milliseconds"),
  after: optionalText("after", "Only checkpoints created after this date or epoch-milliseconds")
} as const

/**
 * The paging options of `list`.
 */
export const pageOptions = {
  orderBy: Options.choice("order-by", ["createdAt", "id"]).pipe(
    Options.withDescription("Sort by createdAt (ties by id) or by id"),
    Options.withDefault("createdAt" as const)
  ),
  order: Options.choice("order", ["desc", "asc"]).pipe(
    Options.withDescription("desc: newest first (default)"),
    Options.withDefault("desc" as const)
  ),
  limit: Options.integer("limit").pipe(Options.withDescription("Page size, 1 to 10000"), Options.withDefault(50)),
  cursor: optionalText("cursor", "The cursor printed after the previous page, to read the next one"),
  offset: Options.integer("offset").pipe(Options.withDescription("Skip this many rows first"), Options.optional),
  total: Options.boolean("total").pipe(Options.withDescription("Also count every matching checkpoint"))
} as const

/**
 * The filter options as parsed by @effect/cli.
 */
export interface FilterArgs {
  readonly session: Option.Option<string>
  readonly agent: Option.Option<string>
  readonly agentType: Option.Option<string>
  readonly hostname: Option.Option<string>
  readonly workspaceDir: Option.Option<string>
  readonly before: Option.Option<string>
  readonly after: Option.Option<string>
}

/**
 * The paging options as parsed by @effect/cli.
 */
export interface PageArgs {
  readonly orderBy: "createdAt" | "id"
  readonly order: "desc" | "asc"
  readonly limit: number
  readonly cursor: Option.Option<string>
  readonly offset: Option.Option<number>
  readonly total: boolean
}

const timeRange = (args: FilterArgs) =>
  Effect.gen(function*() {
    const before = Option.isSome(args.before) ? yield* parseTime("before", args.before.value) : undefined
    const after = Option.isSome(args.after) ? yield* parseTime("after", args.after.value) : undefined
    return { ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) }
  })

const refuse = (table: string, args: ReadonlyArray<readonly [string, Option.Option<string>]>) => {
  const given = args.find(([, value]) => Option.isSome(value))
  return given === undefined
    ? Effect.void
    : Effect.fail(new UsageError({ reason: `--${given[0]} does not apply to ${table} checkpoints` }))
}

const present = <K extends string>(key: K, value: Option.Option<string>): { readonly [P in K]?: string } =>
  Option.isSome(value) ? ({ [key]: value.value } as { readonly [P in K]: string }) : {}

/**
 * The agent checkpoint filter of the options.
 */
export const agentFilter = (args: FilterArgs) =>
  Effect.gen(function*() {
    yield* refuse("agent", [["hostname", args.hostname], ["workspace-dir", args.workspaceDir]])
    return {
      ...present("sessionId", args.session),
      ...present("agentId", args.agent),
      ...present("agentType", args.agentType),
      ...(yield* timeRange(args))
    }
  })

/**
 * The app checkpoint filter of the options.
 */
export const appFilter = (args: FilterArgs) =>
  Effect.gen(function*() {
    yield* refuse("app", [["agent", args.agent], ["agent-type", args.agentType]])
    return {
      ...present("sessionId", args.session),
      ...present("hostname", args.hostname),
      ...present("workspaceDirectory", args.workspaceDir),
      ...(yield* timeRange(args))
    }
  })

/**
 * The page request of the options (its values are checked by the query API itself).
 */
export const pageRequest = (args: PageArgs) => ({
  orderBy: args.orderBy,
  orderDir: args.order === "asc" ? "ASC" as const : "DESC" as const,
  limit: args.limit,
  ...(Option.isSome(args.cursor) ? { cursor: args.cursor.value } : {}),
  ...(Option.isSome(args.offset) ? { offset: args.offset.value } : {}),
  ...(args.total ? { includeTotal: true } : {})
}) satisfies Partial<AgentCheckpointListOptions & AppCheckpointListOptions>
