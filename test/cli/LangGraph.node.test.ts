/**
 * `ecs langgraph`: threads, history, export, copy and prune of LangGraph threads, run as a user runs them (the built
 * binary in a child process), on databases filled through the real saver (or, where createdAt matters, the service).
 */
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type LangGraphCheckpointInput, LangGraphCheckpoints, layerSqliteNode } from "../../src/index.js"
import { SqlCheckpointSaver } from "../../src/langgraph/SqlCheckpointSaver.js"
import type { LangGraphExportLine } from "../../src/cli/LangGraphRecords.js"
import { provision } from "../support/provision.js"
import { mysql, postgres } from "../support/targets.js"
import { connectionStringOf } from "../support/tokenRingApp.js"
import { buildCli, type CliBuild, plain, runCli, temporaryDirectory } from "./support/cli.js"

let cli: CliBuild
let tmp: { readonly path: string; readonly remove: () => void }
/** A SQLite file of three threads written by the saver, read-only for every test. */
let source: string

const ecs = (args: ReadonlyArray<string>) => runCli(cli.main, args)

/** Increasing checkpoint ids, as LangGraph makes them. */
const checkpointIds = (count: number) => Array.from({ length: count }, (_, i) => uuid6(i)).sort()

/**
 * A chain of checkpoints in one namespace of a thread, as a graph's steps write them: an input, then loop steps,
 * each with a new `messages` version (and `counter` every other step).
 */
const writeChain = async (saver: SqlCheckpointSaver, threadId: string, checkpointNs: string, steps: number) => {
  let parent: string | undefined
  const messages: Array<string> = []
  for (const [step, id] of checkpointIds(steps).entries()) {
    messages.push(`${threadId}/${checkpointNs}: message ${step} é😀`)
    const counterChanges = step % 2 === 0
    const checkpoint = {
      ...emptyCheckpoint(),
      id,
      channel_values: { messages: [...messages], ...(counterChanges ? { counter: step } : {}) },
      channel_versions: { messages: step + 1, counter: Math.floor(step / 2) * 2 + 1 }
    }
    await saver.put(
      { configurable: { thread_id: threadId, checkpoint_ns: checkpointNs, ...(parent ? { checkpoint_id: parent } : {}) } },
      checkpoint,
      { source: step === 0 ? "input" : "loop", step: step - 1, parents: {} },
      { messages: step + 1, ...(counterChanges ? { counter: step + 1 } : {}) }
    )
    parent = id
  }
  return parent as string
}

/** Three threads: t-1 with a root and a child namespace and pending writes on its newest checkpoint, t-2, t-3. */
const fillWithSaver = async (databasePath: string) => {
  const saver = SqlCheckpointSaver.fromConnString(`sqlite:${databasePath}`)
  try {
    const newest = await writeChain(saver, "t-1", "", 4)
    await writeChain(saver, "t-1", "child:1", 2)
    const config = { configurable: { thread_id: "t-1", checkpoint_ns: "", checkpoint_id: newest } }
    await saver.putWrites(config, [["messages", ["from task a"]], ["counter", 42]], "task-a")
    await saver.putWrites(config, [["messages", { nested: [1, 2, 3] }]], "task-b", "~__pregel_pull, node")
    await writeChain(saver, "t-2", "", 3)
    await writeChain(saver, "t-3", "", 1)
  } finally {
    await saver.end()
  }
}

/** What LangGraph reads back of a thread through the saver: every tuple, newest first. */
const threadThroughSaver = async (url: string, threadId: string) => {
  const saver = SqlCheckpointSaver.fromConnString(url)
  try {
    const tuples = []
    for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) {
      const { checkpoint, config, metadata, parentConfig, pendingWrites } = tuple
      tuples.push({ checkpoint, config, metadata, parentConfig, pendingWrites })
    }
    const latest = await saver.getTuple({ configurable: { thread_id: threadId } })
    return { tuples, latest: latest === undefined ? undefined : { checkpoint: latest.checkpoint, metadata: latest.metadata } }
  } finally {
    await saver.end()
  }
}

beforeAll(async () => {
  cli = await buildCli()
  tmp = temporaryDirectory()
  source = Path.join(tmp.path, "graph.db")
  await fillWithSaver(source)
}, 180_000)

afterAll(() => {
  cli?.remove()
  tmp?.remove()
})

interface ThreadJson {
  readonly threadId: string
  readonly checkpoints: number
  readonly namespaces: number
  readonly latestCheckpointId: string
}

describe.concurrent("ecs langgraph threads and history", { timeout: 60_000 }, () => {
  it("lists the threads with their counts, in pages", async () => {
    const all = await ecs(["langgraph", "threads", "--db", `sqlite:${source}`])
    expect(all.stderr).toBe("")
    expect(all.code).toBe(0)
    const lines = all.stdout.trim().split("\n")
    expect(lines[0]).toMatch(/^threadId\s+checkpoints\s+namespaces\s+latestCheckpointId\s+firstCreatedAt\s+lastCreatedAt$/)
    expect(lines.slice(2).map((line) => line.split(/\s+/).slice(0, 3))).toEqual([["t-1", "6", "2"], ["t-2", "3", "1"], [
      "t-3",
      "1",
      "1"
    ]])
    expect(all.stdout).not.toContain("Next page")

    const first = await ecs(["langgraph", "threads", "--db", source, "--limit", "2"])
    expect(first.code).toBe(0)
    expect(first.stdout).toContain("t-2")
    expect(first.stdout).not.toContain("t-3")
    expect(first.stdout.trim().split("\n").at(-1)).toBe("Next page: --after t-2")

    const next = await ecs(["langgraph", "threads", "--db", source, "--limit", "2", "--after", "t-2", "--json"])
    expect(next.code).toBe(0)
    const page = JSON.parse(next.stdout) as { threads: Array<ThreadJson>; nextAfter: string | null }
    expect(page.nextAfter).toBeNull()
    expect(page.threads.map((t) => [t.threadId, t.checkpoints, t.namespaces])).toEqual([["t-3", 1, 1]])
  })

  it("shows a thread's history newest first, with the metadata's source and step and the attachment counts", async () => {
    const json = await ecs(["langgraph", "history", "t-1", "--db", source, "--json"])
    expect(json.code).toBe(0)
    const rows = json.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(rows).toHaveLength(6)
    const ids = rows.map((row) => row.checkpointId as string)
    expect(ids).toEqual([...ids].sort().reverse())
    const root = rows.filter((row) => row.checkpointNs === "")
    expect(root.map((row) => [row.source, row.step])).toEqual([["loop", 2], ["loop", 1], ["loop", 0], ["input", -1]])
    // The newest root checkpoint names both channels and holds the three writes of its two tasks.
    expect(root[0]).toMatchObject({ channelValues: 2, pendingWrites: 3, parentCheckpointId: root[1]?.checkpointId })
    expect(root[3]).toMatchObject({ channelValues: 2, pendingWrites: 0, parentCheckpointId: null })

    const child = await ecs(["langgraph", "history", "t-1", "--namespace", "child:1", "--db", source])
    expect(child.code).toBe(0)
    const table = child.stdout.trim().split("\n")
    expect(table[0]).toMatch(/^namespace\s+checkpointId\s+parentId\s+createdAt\s+source\s+step\s+values\s+writes$/)
    expect(table.slice(2).map((line) => line.split(/\s+/)[0])).toEqual(["child:1", "child:1"])

    const limited = await ecs(["langgraph", "history", "t-2", "--limit", "2", "--db", source])
    expect(limited.code).toBe(0)
    expect(limited.stdout.trim().split("\n")).toHaveLength(2 + 2 + 2)
    expect(limited.stdout).toContain("Older checkpoints exist: raise --limit to see them.")

    const none = await ecs(["langgraph", "history", "no-such-thread", "--db", source])
    expect(none.code).toBe(0)
    expect(none.stdout.trim()).toBe("No checkpoints in thread no-such-thread.")
  })

  it("refuses bad flags with exit code 2", async () => {
    const cases: ReadonlyArray<ReadonlyArray<string>> = [
      ["langgraph", "threads", "--limit", "many", "--db", source],
      ["langgraph", "threads", "--limit", "0", "--db", source],
      ["langgraph", "threads", "--db", "oracle://somewhere/db"],
      ["langgraph", "history", "--db", source],
      ["langgraph", "export", "--db", source, "--no-such-flag"],
      ["langgraph", "history", "t-1", "--db", source, "--no-such-flag"],
      ["langgraph", "copy", "--from", source, "--to", `sqlite:${Path.join(tmp.path, "never.db")}`, "--bogus"],
      ["langgraph", "copy", "--from", source],
      ["langgraph", "copy", "--from", source, "--to", `sqlite:${source}`],
      ["langgraph", "prune", "--db", source],
      ["langgraph", "prune", "--keep-last", "0", "--db", source],
      ["langgraph", "prune", "--max-age", "soon", "--db", source],
      ["langgraph", "frobnicate"]
    ]
    const results = await Promise.all(cases.map(async (args) => ({ args, code: (await ecs(args)).code })))
    expect(results).toEqual(cases.map((args) => ({ args, code: 2 })))
    const usage = await ecs(["langgraph", "prune", "--db", source])
    expect(usage.stderr.trim()).toBe("ecs: Name a rule: --keep-last N or --max-age DURATION")
  })

  it("is listed in the help", async () => {
    const help = await ecs(["--help"])
    expect(help.code).toBe(0)
    expect(plain(help.stdout)).toContain("langgraph LangGraph threads: threads, history, export, copy, prune")
    const group = await ecs(["langgraph", "--help"])
    expect(group.code).toBe(0)
    const commands = ["threads", "history", "export", "copy", "prune"]
    for (const command of commands) expect(plain(group.stdout)).toContain(command)
    const helps = await Promise.all(commands.map((command) => ecs(["langgraph", command, "--help"])))
    for (const [index, command] of commands.entries()) {
      expect(helps[index]!.code, command).toBe(0)
      expect(plain(helps[index]!.stdout), command).toMatch(new RegExp(`EXAMPLES?\\s+\\$ ecs langgraph ${command}`))
    }
  })
})

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, "base64"))

/** The lines of an export stored again through the service, as they were exported. */
const importLines = (databasePath: string, lines: ReadonlyArray<LangGraphExportLine>) =>
  Effect.runPromise(Effect.flatMap(LangGraphCheckpoints, (service) =>
    Effect.forEach([...lines].reverse(), (line) =>
      Effect.zipRight(
        service.put({
          threadId: line.threadId,
          checkpointNs: line.checkpointNs,
          checkpointId: line.checkpointId,
          parentCheckpointId: line.parentCheckpointId ?? undefined,
          checkpoint: line.checkpoint,
          metadata: line.metadata,
          createdAt: line.createdAt,
          channelValues: line.channelValues.map((v) => ({
            channel: v.channel,
            version: v.version,
            value: { type: v.type, value: fromBase64(v.value) }
          }))
        }),
        Effect.forEach(line.pendingWrites, (w) =>
          service.putWrites({
            threadId: line.threadId,
            checkpointNs: line.checkpointNs,
            checkpointId: line.checkpointId,
            taskId: w.taskId,
            taskPath: w.taskPath,
            writes: [{ channel: w.channel, idx: w.idx, value: { type: w.type, value: fromBase64(w.value) } }]
          }))
      ))).pipe(Effect.provide(layerSqliteNode({ databasePath }))))

describe("ecs langgraph export", { timeout: 60_000 }, () => {
  it("writes one stored checkpoint per line, which stores back into an equal thread", async () => {
    const out = Path.join(tmp.path, "all.jsonl")
    const result = await ecs(["langgraph", "export", "--db", source, "--out", out])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe("")
    expect(result.stderr.trim()).toBe(`Exported 10 checkpoints from ${source} to ${out}`)
    const lines = Fs.readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line) as LangGraphExportLine)
    expect(lines.map((line) => line.threadId)).toEqual(["t-1", "t-1", "t-1", "t-1", "t-1", "t-1", "t-2", "t-2", "t-2", "t-3"])
    // The child namespace's checkpoints were made last: the newest of the root namespace is the first of its own.
    const newest = lines.find((line) => line.checkpointNs === "")!
    expect(Object.keys(newest)).toEqual([
      "threadId",
      "checkpointNs",
      "checkpointId",
      "parentCheckpointId",
      "checkpoint",
      "metadata",
      "createdAt",
      "channelValues",
      "pendingWrites"
    ])
    expect(JSON.parse(newest.metadata)).toEqual({ source: "loop", step: 2, parents: {} })
    expect(JSON.parse(newest.checkpoint)).not.toHaveProperty("channel_values")
    expect(newest.channelValues.map((v) => [v.channel, v.version])).toEqual([["messages", "4"], ["counter", "3"]])
    // In LangGraph's writesSortKey order: task path, task id, index.
    expect(newest.pendingWrites.map((w) => [w.taskId, w.taskPath, w.idx, w.channel])).toEqual([
      ["task-a", "", 0, "messages"],
      ["task-a", "", 1, "counter"],
      ["task-b", "~__pregel_pull, node", 0, "messages"]
    ])
    expect(JSON.parse(Buffer.from(newest.pendingWrites[1]!.value, "base64").toString("utf8"))).toBe(42)

    const copy = Path.join(tmp.path, "from-export.db")
    await importLines(copy, lines)
    for (const threadId of ["t-1", "t-2", "t-3"]) {
      expect(await threadThroughSaver(`sqlite:${copy}`, threadId)).toEqual(
        await threadThroughSaver(`sqlite:${source}`, threadId)
      )
    }
  })

  it("exports one thread to stdout, and fails for a thread that does not exist", async () => {
    const one = await ecs(["langgraph", "export", "t-2", "--db", source])
    expect(one.code).toBe(0)
    const lines = one.stdout.trim().split("\n").map((line) => JSON.parse(line) as LangGraphExportLine)
    expect(lines.map((line) => [line.threadId, JSON.parse(line.metadata).step])).toEqual([["t-2", 1], ["t-2", 0], [
      "t-2",
      -1
    ]])
    const missing = await ecs(["langgraph", "export", "nope", "--db", source, "--out", Path.join(tmp.path, "nope.jsonl")])
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim()).toBe(`ecs: There is no thread nope in ${source}`)
    expect(Fs.existsSync(Path.join(tmp.path, "nope.jsonl"))).toBe(false)
  })
})

const serverUrl = (db: { readonly config: Parameters<typeof connectionStringOf>[0] }) => connectionStringOf(db.config)

describe("ecs langgraph copy", { timeout: 120_000 }, () => {
  it("copies every thread from SQLite to PostgreSQL, equal through the saver, and a second run copies nothing", async () => {
    const { db, release } = await provision(postgres)
    try {
      // The server trusts 127.0.0.1, so a password in the URL is never used: it must never be shown either.
      const url = new URL(serverUrl(db))
      url.password = "hunter2secret"
      const first = await ecs(["langgraph", "copy", "--from", `sqlite:${source}`, "--to", url.toString()])
      expect(first.stderr).toBe("")
      expect(first.code).toBe(0)
      expect(first.stdout).toContain("  threads: 3\n")
      expect(first.stdout).toContain("  checkpoints: 10 copied, 0 already there\n")
      expect(first.stdout).toContain("  pending writes: 3 copied, 0 already there\n")
      expect(first.stdout).toContain("every checkpoint read back from the target, values and writes included): equal")
      expect(first.stdout).toContain("postgres://postgres:***@")
      expect(first.stdout).not.toContain("hunter2secret")
      for (const threadId of ["t-1", "t-2", "t-3"]) {
        const copied = await threadThroughSaver(serverUrl(db), threadId)
        expect(copied.tuples).toHaveLength(threadId === "t-1" ? 6 : threadId === "t-2" ? 3 : 1)
        expect(copied).toEqual(await threadThroughSaver(`sqlite:${source}`, threadId))
      }

      const again = await ecs(["langgraph", "copy", "--from", source, "--to", url.toString(), "--json"])
      expect(again.code).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({
        threads: 3,
        checkpoints: 0,
        checkpointsAlreadyThere: 10,
        writes: 0,
        writesAlreadyThere: 3,
        channelValues: 0,
        verified: true
      })
      const threads = await ecs(["langgraph", "threads", "--db", url.toString(), "--json"])
      expect((JSON.parse(threads.stdout) as { threads: Array<ThreadJson> }).threads.map((t) => t.checkpoints)).toEqual([
        6,
        3,
        1
      ])
    } finally {
      await release()
    }
  })

  it("copies one thread from SQLite to MariaDB, equal through the saver, and again copies nothing new", async () => {
    const { db, release } = await provision(mysql)
    try {
      const first = await ecs(["langgraph", "copy", "t-1", "--from", source, "--to", serverUrl(db)])
      expect(first.stderr).toBe("")
      expect(first.code).toBe(0)
      expect(first.stdout).toContain("  threads: 1\n")
      expect(first.stdout).toContain("  checkpoints: 6 copied, 0 already there\n")
      expect(first.stdout).toContain("  pending writes: 3 copied, 0 already there\n")
      expect(await threadThroughSaver(serverUrl(db), "t-1")).toEqual(await threadThroughSaver(`sqlite:${source}`, "t-1"))
      expect((await threadThroughSaver(serverUrl(db), "t-2")).tuples).toEqual([])

      const again = await ecs(["langgraph", "copy", "t-1", "--from", source, "--to", serverUrl(db)])
      expect(again.code).toBe(0)
      expect(again.stdout).toContain("  checkpoints: 0 copied, 6 already there\n")
      expect(again.stdout).toContain("  pending writes: 0 copied, 3 already there\n")
      expect(again.stdout).toContain("  channel values: 0 new\n")
      const history = await ecs(["langgraph", "history", "t-1", "--db", serverUrl(db), "--json"])
      expect(history.stdout.trim().split("\n")).toHaveLength(6)

      const missing = await ecs(["langgraph", "copy", "nope", "--from", source, "--to", serverUrl(db)])
      expect(missing.code).toBe(1)
      expect(missing.stderr.trim()).toBe(`ecs: There is no thread nope in ${source}`)
    } finally {
      await release()
    }
  })
})

const DAY = 86_400_000

/**
 * A thread's checkpoints written through the service with the given ages (oldest first), each with a new
 * `messages` version and one pending write; every checkpoint also names `config` version 1, stored by the first.
 */
const agedThread = (threadId: string, ageDays: ReadonlyArray<number>, now: number): Array<LangGraphCheckpointInput> =>
  ageDays.map((days, i) => ({
    threadId,
    checkpointNs: "",
    checkpointId: `cp-${String(i + 1).padStart(4, "0")}`,
    parentCheckpointId: i === 0 ? undefined : `cp-${String(i).padStart(4, "0")}`,
    checkpoint: JSON.stringify({ v: 4, id: `cp-${i + 1}`, ts: "", channel_versions: { messages: `m${i + 1}`, config: "c1" }, versions_seen: {} }),
    metadata: JSON.stringify({ source: "loop", step: i }),
    createdAt: now - days * DAY,
    channelValues: [
      { channel: "messages", version: `m${i + 1}`, value: { type: "json", value: new TextEncoder().encode(`"m${i + 1}"`) } },
      ...(i === 0 ? [{ channel: "config", version: "c1", value: { type: "json", value: new TextEncoder().encode("{}") } }] : [])
    ]
  }))

const fillAged = (databasePath: string) => {
  const now = Date.now()
  const checkpoints = [...agedThread("idle", [10, 9, 8], now), ...agedThread("busy", [10, 9, 0.1, 0], now)]
  return Effect.runPromise(Effect.flatMap(LangGraphCheckpoints, (service) =>
    Effect.forEach(checkpoints, (checkpoint) =>
      Effect.zipRight(
        service.put(checkpoint),
        service.putWrites({
          threadId: checkpoint.threadId,
          checkpointNs: "",
          checkpointId: checkpoint.checkpointId,
          taskId: "task",
          writes: [{ channel: "messages", idx: 0, value: { type: "json", value: new TextEncoder().encode("\"w\"") } }]
        })
      ))).pipe(Effect.provide(layerSqliteNode({ databasePath }))))
}

const threadCounts = async (db: string) => {
  const result = await ecs(["langgraph", "threads", "--db", db, "--json"])
  expect(result.code).toBe(0)
  return Object.fromEntries(
    (JSON.parse(result.stdout) as { threads: Array<ThreadJson> }).threads.map((t) => [t.threadId, t.checkpoints])
  )
}

describe("ecs langgraph prune", { timeout: 60_000 }, () => {
  it("says what would go and deletes nothing without --apply; with --apply deletes by the rules, newest spared", async () => {
    const db = Path.join(tmp.path, "aged.db")
    await fillAged(db)
    expect(await threadCounts(db)).toEqual({ busy: 4, idle: 3 })

    const dry = await ecs(["langgraph", "prune", "--max-age", "2 days", "--db", db])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain(
      `Would remove 4 checkpoints, 4 pending writes and 4 channel values from ${db}, in 2 threads.`
    )
    expect(dry.stdout).toContain("Dry run: nothing was deleted. Run again with --apply to delete them.")
    const dryJson = await ecs(["langgraph", "prune", "--max-age", "2 days", "--db", db, "--json"])
    expect(JSON.parse(dryJson.stdout)).toEqual({
      database: db,
      dryRun: true,
      checkpoints: 4,
      writes: 4,
      channelValues: 4,
      threads: [
        { threadId: "busy", checkpoints: 2, writes: 2, channelValues: 2 },
        { threadId: "idle", checkpoints: 2, writes: 2, channelValues: 2 }
      ]
    })
    expect(await threadCounts(db)).toEqual({ busy: 4, idle: 3 })

    const applied = await ecs(["langgraph", "prune", "--max-age", "2 days", "--apply", "--db", db])
    expect(applied.stderr).toBe("")
    expect(applied.code).toBe(0)
    expect(applied.stdout.trim()).toBe(`Removed 4 checkpoints, 4 pending writes and 4 channel values from ${db}.`)
    expect(await threadCounts(db)).toEqual({ busy: 2, idle: 1 })
    // The idle thread's newest checkpoint was spared, with its values (config from the pruned first one too).
    const idle = await ecs(["langgraph", "export", "idle", "--db", db])
    const [kept] = idle.stdout.trim().split("\n").map((line) => JSON.parse(line) as LangGraphExportLine)
    expect(kept?.checkpointId).toBe("cp-0003")
    expect(kept?.channelValues.map((v) => v.channel).sort()).toEqual(["config", "messages"])
    expect(kept?.pendingWrites).toHaveLength(1)

    const onlyIdle = await ecs(["langgraph", "prune", "--max-age", "2 days", "--include-newest", "--thread", "idle", "--db", db])
    expect(onlyIdle.stdout).toContain("Would remove 1 checkpoints, 1 pending writes and 2 channel values")
    const gone = await ecs(["langgraph", "prune", "--max-age", "2 days", "--include-newest", "--thread", "idle", "--apply", "--json", "--db", db])
    expect(JSON.parse(gone.stdout)).toEqual({ database: db, dryRun: false, checkpoints: 1, writes: 1, channelValues: 2 })
    expect(await threadCounts(db)).toEqual({ busy: 2 })

    const keepLast = await ecs(["langgraph", "prune", "--keep-last", "1", "--apply", "--db", db])
    expect(keepLast.stdout.trim()).toBe(`Removed 1 checkpoints, 1 pending writes and 1 channel values from ${db}.`)
    expect(await threadCounts(db)).toEqual({ busy: 1 })
  })
})
