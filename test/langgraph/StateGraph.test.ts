/**
 * A real LangGraph StateGraph compiled with SqlCheckpointSaver, as an application uses it: it runs several steps,
 * stops at a human-in-the-loop `interrupt()`, the process "restarts" (the saver is closed and a new one opened on the
 * same database), and the graph reads its state back and resumes. On MariaDB (through a `mysql://` connection string)
 * and on SQLite through the runtime's own driver (bun:sqlite under Bun, better-sqlite3 under Node.js).
 */
import {
  Annotation,
  Command,
  END,
  interrupt,
  MemorySaver,
  START,
  StateGraph,
  type StateSnapshot
} from "@langchain/langgraph"
import { readFileSync } from "node:fs"
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { isBun, layerSqliteBun, layerSqliteNode, type StorageConfig } from "../../src/index.js"
import { SqlCheckpointSaver } from "../../src/langgraph/SqlCheckpointSaver.js"
import { provision } from "../support/provision.js"
import { mysql, sqliteBun, sqliteNode } from "../support/targets.js"
import type { TestTarget } from "../support/TestDatabase.js"
import { connectionStringOf } from "../support/tokenRingApp.js"
import { readmeExample } from "./readmeExample.js"

const databasePathOf = (config: StorageConfig): string => {
  if (config.type !== "sqlite") throw new Error(`not a SQLite config: ${config.type}`)
  return config.databasePath
}

interface GraphTarget {
  readonly target: TestTarget
  /** A new saver on the database, as a freshly started process opens it. */
  readonly openSaver: (config: StorageConfig) => SqlCheckpointSaver
}

const targets: ReadonlyArray<GraphTarget> = [
  { target: mysql, openSaver: (config) => SqlCheckpointSaver.fromConnString(connectionStringOf(config)) },
  isBun
    ? { target: sqliteBun, openSaver: (config) => new SqlCheckpointSaver(layerSqliteBun({ databasePath: databasePathOf(config) })) }
    : { target: sqliteNode, openSaver: (config) => new SqlCheckpointSaver(layerSqliteNode({ databasePath: databasePathOf(config) })) }
]

// An article pipeline: three steps of work, a human review that stops the run, then publish (or not).
const ArticleState = Annotation.Root({
  log: Annotation<Array<string>>({ reducer: (done, step) => done.concat(step), default: () => [] }),
  topic: Annotation<string>,
  draft: Annotation<string>,
  verdict: Annotation<string>
})

const articleGraph = (checkpointer: BaseCheckpointSaver) =>
  new StateGraph(ArticleState)
    .addNode("plan", (state) => ({ log: [`plan: ${state.topic}`] }))
    .addNode("research", () => ({ log: ["research"] }))
    .addNode("write", (state) => ({ log: ["write"], draft: `${state.draft ?? ""}An article about ${state.topic}.` }))
    .addNode("review", (state) => {
      const verdict = interrupt({ question: "Publish this draft?", draft: state.draft })
      return { log: [`review: ${verdict}`], verdict: String(verdict) }
    })
    .addNode("publish", () => ({ log: ["publish"] }))
    .addEdge(START, "plan")
    .addEdge("plan", "research")
    .addEdge("research", "write")
    .addEdge("write", "review")
    .addConditionalEdges("review", (state) => state.verdict === "approve" ? "publish" : END, ["publish", END])
    .addEdge("publish", END)
    .compile({ checkpointer })

const threadConfig = (threadId: string) => ({ configurable: { thread_id: threadId } })

/** What a user reads in a snapshot: the step, the nodes to run next, the values, the open interrupts. */
const seen = (snapshot: StateSnapshot) => ({
  step: snapshot.metadata?.step,
  next: [...snapshot.next],
  values: snapshot.values,
  interrupts: snapshot.tasks.flatMap((task) => task.interrupts.map((pending) => pending.value))
})

const historyOf = async (graph: ReturnType<typeof articleGraph>, threadId: string) => {
  const history: Array<ReturnType<typeof seen>> = []
  for await (const snapshot of graph.getStateHistory(threadConfig(threadId))) history.push(seen(snapshot))
  return history
}

const withSaver = async <A>(saver: SqlCheckpointSaver, use: (saver: SqlCheckpointSaver) => Promise<A>): Promise<A> => {
  try {
    return await use(saver)
  } finally {
    await saver.end()
  }
}

const reviewQuestion = { question: "Publish this draft?", draft: "An article about savers." }
const pausedValues = { log: ["plan: savers", "research", "write"], topic: "savers", draft: "An article about savers." }
const finalValues = { ...pausedValues, log: [...pausedValues.log, "review: approve", "publish"], verdict: "approve" }

for (const { openSaver, target } of targets) {
  describe(`${target.name}: a StateGraph on SqlCheckpointSaver`, () => {
    let database: Awaited<ReturnType<typeof provision>>
    const newSaver = () => openSaver(database.db.config)

    beforeAll(async () => {
      database = await provision(target)
    }, 120_000)
    afterAll(() => database?.release())

    it("stops at interrupt(), and after a restart a new saver reads the state and resumes the run to its end", async () => {
      const thread = threadConfig("article-1")
      const stopped = await withSaver(newSaver(), (saver) => articleGraph(saver).invoke({ topic: "savers" }, thread))
      expect(stopped).toMatchObject({ ...pausedValues, __interrupt__: [{ value: reviewQuestion }] })

      const final = await withSaver(newSaver(), async (saver) => {
        const graph = articleGraph(saver)
        const paused = await graph.getState(thread)
        expect(seen(paused)).toEqual({ step: 3, next: ["review"], values: pausedValues, interrupts: [reviewQuestion] })
        return graph.invoke(new Command({ resume: "approve" }), thread)
      })
      expect(final).toEqual(finalValues)

      await withSaver(newSaver(), async (saver) => {
        const done = await articleGraph(saver).getState(thread)
        expect(seen(done)).toEqual({ step: 5, next: [], values: finalValues, interrupts: [] })
      })
    })

    it("shows every step in getStateHistory, newest first, as LangGraph's MemorySaver does", async () => {
      const history = await withSaver(newSaver(), async (saver) => {
        const graph = articleGraph(saver)
        await graph.invoke({ topic: "savers" }, threadConfig("article-2"))
        await graph.invoke(new Command({ resume: "approve" }), threadConfig("article-2"))
        return historyOf(graph, "article-2")
      })
      expect(history.map(({ next, step }) => ({ step, next }))).toEqual([
        { step: 5, next: [] },
        { step: 4, next: ["publish"] },
        { step: 3, next: ["review"] },
        { step: 2, next: ["write"] },
        { step: 1, next: ["research"] },
        { step: 0, next: ["plan"] },
        { step: -1, next: ["__start__"] }
      ])
      expect(history.map(({ values }) => values.log)).toEqual([
        finalValues.log,
        finalValues.log.slice(0, 4),
        pausedValues.log,
        pausedValues.log.slice(0, 2),
        pausedValues.log.slice(0, 1),
        [],
        []
      ])

      const memory = articleGraph(new MemorySaver())
      await memory.invoke({ topic: "savers" }, threadConfig("article-2"))
      await memory.invoke(new Command({ resume: "approve" }), threadConfig("article-2"))
      expect(history).toEqual(await historyOf(memory, "article-2"))
    })

    it("keeps a second thread on the same database apart: each reads, resumes and ends on its own", async () => {
      const first = threadConfig("article-3")
      const second = threadConfig("article-4")
      await withSaver(newSaver(), async (saver) => {
        const graph = articleGraph(saver)
        await graph.invoke({ topic: "savers" }, first)
        await graph.invoke({ topic: "queues", draft: "Notes. " }, second)
      })

      await withSaver(newSaver(), async (saver) => {
        const graph = articleGraph(saver)
        const rejected = await graph.invoke(new Command({ resume: "reject" }), second)
        expect(rejected).toEqual({
          log: ["plan: queues", "research", "write", "review: reject"],
          topic: "queues",
          draft: "Notes. An article about queues.",
          verdict: "reject"
        })
        // The first thread is still where it stopped, with its own values.
        expect(seen(await graph.getState(first))).toEqual({
          step: 3,
          next: ["review"],
          values: pausedValues,
          interrupts: [reviewQuestion]
        })
        expect(await graph.invoke(new Command({ resume: "approve" }), first)).toEqual(finalValues)
        expect((await graph.getState(second)).values).toEqual(rejected)
        expect((await historyOf(graph, "article-3")).length).toBe(7)
        expect((await historyOf(graph, "article-4")).length).toBe(6)
      })
    })

    it("round-trips a channel value over 1 MiB through an interrupt and a restart", async () => {
      // Over 1 MiB of UTF-8, with multi-byte letters and an emoji on every line: far over a TEXT column's 64 KiB.
      const attachment = Array.from({ length: 16_000 }, (_, line) => `${line}: ünïcödé 🦊 ${"x".repeat(60)}`).join("\n")
      expect(new TextEncoder().encode(attachment).byteLength).toBeGreaterThan(1024 * 1024)
      const thread = threadConfig("large-1")

      await withSaver(newSaver(), (saver) => articleGraph(saver).invoke({ topic: "savers", draft: attachment }, thread))

      const final = await withSaver(newSaver(), async (saver) => {
        const graph = articleGraph(saver)
        const paused = await graph.getState(thread)
        expect(paused.next).toEqual(["review"])
        expect(paused.values.draft).toBe(`${attachment}An article about savers.`)
        return graph.invoke(new Command({ resume: "approve" }), thread)
      })
      expect(final.draft).toBe(`${attachment}An article about savers.`)
      expect(final.log).toEqual(finalValues.log)
    })

    if (target === mysql) {
      it("the README shows that example as it is run here", () => {
        const lines = (text: string) => text.split("\n").map((line) => line.trim()).filter((line) => line !== "")
        const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
        const shown = readme.split("```ts\n").map((block) => block.split("```")[0]!)
          .find((block) => block.includes("SqlCheckpointSaver.fromConnString("))
        const run = readFileSync(new URL("./readmeExample.ts", import.meta.url), "utf8")
          .split("// README snippet: from the next line to the end of the function body (one indentation level removed).\n")[1]!
          .replace("../../src/langgraph/SqlCheckpointSaver.js", "effect-checkpoint-storage/langgraph")
          .replace("fromConnString(connectionString)", "fromConnString(\"mysql://app:secret@localhost:3306/agents\")")
        const body = lines(run).filter((line) =>
          !line.startsWith("export const readmeExample") && line !== "}"
        )
        expect(lines(shown ?? "")).toEqual(body)
      })

      it("runs the README example on a mysql:// connection string", async () => {
        const printed = vi.spyOn(console, "log").mockImplementation(() => {})
        try {
          await readmeExample(connectionStringOf(database.db.config))
          expect(printed.mock.calls).toEqual([
            [["review"], ["draft"]],
            [["draft", "review: yes", "send"]]
          ])
        } finally {
          printed.mockRestore()
        }
        // What it left in the database, as another process sees it.
        await withSaver(newSaver(), async (saver) => {
          const { threads } = await saver.listThreads()
          expect(threads.map((thread) => thread.threadId)).toContain("ticket-42")
          const latest = await saver.getTuple(threadConfig("ticket-42"))
          expect(latest?.checkpoint.channel_values).toMatchObject({
            steps: ["draft", "review: yes", "send"],
            answer: "Your refund was sent."
          })
        })
      })
    }
  })
}
