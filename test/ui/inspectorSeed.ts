/**
 * The data the inspector's browser tests (and the README's screenshots) look at, stored through CheckpointStorage as an
 * agent would: a travel-planning run of nine steps with a fork (a retry of the hotel search), a two-agent coding
 * session, a session whose states and names hold hostile text, and one app session.
 */
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint"
import { Effect, type Layer, ManagedRuntime } from "effect"
import {
  CheckpointStorage,
  type CheckpointStorageService,
  type NamedAgentCheckpoint,
  type StorageLayerError
} from "../../src/index.js"
import { SqlCheckpointSaver } from "../../src/langgraph/SqlCheckpointSaver.js"

/** The strings that must show as text and run nothing. */
export const HOSTILE = {
  script: "<script>window.__xss = 1; alert(1)</script>",
  image: "<img src=x onerror=\"window.__xss = 2; alert(2)\">",
  quotes: "\"quotes\" 'single' `back`",
  emoji: "🚀👩‍💻"
} as const

export interface SeededIds {
  readonly tripSession: string
  /** The trip's checkpoints by step name, in the order they were stored. */
  readonly trip: Readonly<Record<TripStep, string>>
  readonly hostileSession: string
  readonly coderSession: string
  readonly appSession: string
  /** Stores one more checkpoint on the trip (what live refresh must show); returns its id. */
  readonly storeLater: (name: string) => Promise<string>
}

type TripStep =
  | "user-message"
  | "plan"
  | "tool:search_flights"
  | "tool-result:flights"
  | "tool:search_hotels"
  | "tool-result:hotels"
  | "draft-itinerary"
  | "retry:search_hotels"
  | "tool-result:hotels (retry)"

interface Message {
  readonly role: "user" | "assistant" | "tool"
  readonly content: string
  readonly toolCallId?: string
}

const question: Message = {
  role: "user",
  content: "Plan a 3-day trip to Lisbon in March for two people, budget EUR 1200, direct flights from Berlin."
}

const tripStates = (): ReadonlyArray<{ readonly name: TripStep; readonly parent: TripStep | null; readonly state: Readonly<Record<string, unknown>> }> => {
  const plan = { steps: ["search flights", "find a hotel under EUR 150/night", "draft the itinerary"], current: 0 }
  const flightsCall = { id: "call_01", name: "search_flights", args: { from: "BER", to: "LIS", month: "2027-03", direct: true } }
  const flights = { cheapest: { airline: "TAP", departs: "2027-03-12T07:05", price: 214 }, options: 6 }
  const hotelsCall = { id: "call_02", name: "search_hotels", args: { city: "Lisbon", nights: 3, maxPrice: 150 } }
  const hotels = [{ name: "Casa Alfama", rating: 4.6, price: 132 }, { name: "Baixa Loft", rating: 4.3, price: 118 }]
  const retryCall = { ...hotelsCall, id: "call_03", args: { ...hotelsCall.args, maxPrice: 90 } }
  const cheaper = [{ name: "Mouraria Rooms", rating: 4.4, price: 84 }]
  const base = { messages: [question], plan: null, toolCalls: [], budget: { limit: 1200, spent: 0, currency: "EUR" } }
  const planned = {
    ...base,
    messages: [question, { role: "assistant", content: "I will find flights first, then a hotel, then an itinerary." }],
    plan
  }
  const askedFlights = { ...planned, toolCalls: [{ ...flightsCall, status: "pending" }] }
  const gotFlights = {
    ...askedFlights,
    messages: [...planned.messages, { role: "tool", content: "6 direct flights, cheapest TAP EUR 214", toolCallId: "call_01" }],
    toolCalls: [{ ...flightsCall, status: "done", result: flights }],
    plan: { ...plan, current: 1 },
    budget: { ...base.budget, spent: 428 }
  }
  const askedHotels = { ...gotFlights, toolCalls: [...gotFlights.toolCalls, { ...hotelsCall, status: "pending" }] }
  const gotHotels = {
    ...askedHotels,
    messages: [...gotFlights.messages, { role: "tool", content: "2 hotels under EUR 150", toolCallId: "call_02" }],
    toolCalls: [...gotFlights.toolCalls, { ...hotelsCall, status: "done", result: hotels }],
    plan: { ...plan, current: 2 },
    budget: { ...base.budget, spent: 824 }
  }
  const drafted = {
    ...gotHotels,
    messages: [...gotHotels.messages, {
      role: "assistant",
      content: "Day 1: Alfama and the castle. Day 2: Belem. Day 3: Sintra. Total EUR 1196, just under budget."
    }]
  }
  const retried = { ...gotFlights, toolCalls: [...gotFlights.toolCalls, { ...retryCall, status: "pending" }] }
  const gotCheaper = {
    ...retried,
    messages: [...gotFlights.messages, { role: "tool", content: "1 hotel under EUR 90", toolCallId: "call_03" }],
    toolCalls: [...gotFlights.toolCalls, { ...retryCall, status: "done", result: cheaper }],
    plan: { ...plan, current: 2 },
    budget: { ...base.budget, spent: 680 }
  }
  return [
    { name: "user-message", parent: null, state: base },
    { name: "plan", parent: "user-message", state: planned },
    { name: "tool:search_flights", parent: "plan", state: askedFlights },
    { name: "tool-result:flights", parent: "tool:search_flights", state: gotFlights },
    { name: "tool:search_hotels", parent: "tool-result:flights", state: askedHotels },
    { name: "tool-result:hotels", parent: "tool:search_hotels", state: gotHotels },
    { name: "draft-itinerary", parent: "tool-result:hotels", state: drafted },
    // The fork: a second child of the flights result, a retry of the hotel search with a lower price cap.
    { name: "retry:search_hotels", parent: "tool-result:flights", state: retried },
    { name: "tool-result:hotels (retry)", parent: "retry:search_hotels", state: gotCheaper }
  ]
}

const stored = (storage: CheckpointStorageService, checkpoint: NamedAgentCheckpoint) =>
  storage.storeAgentCheckpoint(checkpoint)

/** Seeds a fresh database; `t0` is the time of the trip's first step (the other sessions are older). */
export const seedInspectorData = async (
  layer: Layer.Layer<CheckpointStorage, StorageLayerError>,
  t0: number = Date.now() - 10 * 60_000
): Promise<SeededIds & { readonly dispose: () => Promise<void> }> => {
  const runtime = ManagedRuntime.make(layer)
  const run = <A, E>(f: (storage: CheckpointStorageService) => Effect.Effect<A, E>): Promise<A> =>
    runtime.runPromise(Effect.flatMap(CheckpointStorage, f))

  const coderSession = "sess-refactor-4c1d"
  let at = t0 - 3_600_000
  for (const [i, step] of ["read-issue", "edit:src/app.ts", "run-tests", "review"].entries()) {
    const agent = step === "review" ? { agentId: "reviewer-1", agentType: "reviewer" } : { agentId: "coder-1", agentType: "coder" }
    await run((s) =>
      stored(s, { ...agent, sessionId: coderSession, name: step, createdAt: (at += 5_000), state: { step: i, notes: [step] } })
    )
  }

  const hostileSession = "sess-hostile-input"
  let previous: string | undefined
  for (const [i, name] of [HOSTILE.script, HOSTILE.image, `${HOSTILE.quotes} ${HOSTILE.emoji}`].entries()) {
    const id: string = await run((s) =>
      stored(s, {
        agentId: "probe-1",
        agentType: "coder",
        sessionId: hostileSession,
        name,
        createdAt: (at += 5_000),
        ...(previous === undefined ? {} : { parentId: previous }),
        state: {
          messages: [
            { role: "user", content: HOSTILE.script },
            { role: "assistant", content: HOSTILE.image },
            { role: "user", content: `${HOSTILE.quotes} ${HOSTILE.emoji}` }
          ],
          [HOSTILE.image]: HOSTILE.script,
          step: i
        }
      })
    )
    previous = id
  }

  const appSession = "app-session-2f9e"
  await run((s) =>
    s.storeAppCheckpoint({
      sessionId: appSession,
      hostname: "dev-laptop",
      workspaceDirectory: "/home/dev/trip-planner",
      createdAt: at += 5_000,
      state: { openFiles: ["src/agent.ts"], theme: "dark" }
    })
  )

  const tripSession = "sess-trip-lisbon-7f3a"
  const ids: Partial<Record<TripStep, string>> = {}
  at = t0
  for (const step of tripStates()) {
    const parentId = step.parent === null ? undefined : ids[step.parent]
    ids[step.name] = await run((s) =>
      stored(s, {
        agentId: "planner-7",
        agentType: "travel-planner",
        sessionId: tripSession,
        name: step.name,
        createdAt: (at += 3_000 + (step.name.length * 331) % 4_000),
        ...(parentId === undefined ? {} : { parentId }),
        state: step.state
      })
    )
  }
  const trip = ids as Record<TripStep, string>
  return {
    tripSession,
    trip,
    hostileSession,
    coderSession,
    appSession,
    storeLater: (name) =>
      run((s) =>
        stored(s, {
          agentId: "planner-7",
          agentType: "travel-planner",
          sessionId: tripSession,
          name,
          createdAt: Date.now(),
          parentId: trip["tool-result:hotels (retry)"],
          state: { note: "stored while the page was open" }
        })
      ),
    dispose: () => runtime.dispose()
  }
}

/** A LangGraph thread of three steps, written by the saver as a graph run writes it; returns the thread id. */
export const seedLangGraphThread = async (connectionString: string): Promise<string> => {
  const saver = SqlCheckpointSaver.fromConnString(connectionString)
  const threadId = "thread-support-chat-31"
  try {
    let config = { configurable: { thread_id: threadId, checkpoint_ns: "" } }
    const messages: Array<{ readonly type: string; readonly content: string }> = []
    for (const [step, message] of [
      { type: "human", content: "My order #4411 has not arrived." },
      { type: "ai", content: "Let me look up order #4411." },
      { type: "tool", content: HOSTILE.script }
    ].entries()) {
      messages.push(message)
      const checkpoint = {
        ...emptyCheckpoint(),
        id: uuid6(step),
        channel_values: { messages: [...messages] },
        channel_versions: { messages: step + 1 }
      }
      config = {
        configurable: {
          thread_id: threadId,
          checkpoint_ns: "",
          ...(await saver.put(config, checkpoint, { source: "loop", step, parents: {} }, { messages: step + 1 })).configurable
        }
      }
    }
  } finally {
    await saver.end()
  }
  return threadId
}
