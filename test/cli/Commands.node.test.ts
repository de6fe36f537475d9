/**
 * Every command of the CLI, run as a user runs it: the built binary in a child process, on real databases.
 */
import Database from "better-sqlite3"
import { Effect } from "effect"
import { emptyCheckpoint } from "@langchain/langgraph-checkpoint"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SqlCheckpointSaver } from "../../src/langgraph/SqlCheckpointSaver.js"
import { provision } from "../support/provision.js"
import { mysql, postgres } from "../support/targets.js"
import { buildCli, type CliBuild, exportFile, plain, runCli, temporaryDirectory } from "./support/cli.js"

let cli: CliBuild
let tmp: { readonly path: string; readonly remove: () => void }

beforeAll(async () => {
  cli = await buildCli()
  tmp = temporaryDirectory()
}, 120_000)

afterAll(() => {
  cli?.remove()
  tmp?.remove()
})

const ecs = (args: ReadonlyArray<string>, options?: Parameters<typeof runCli>[2]) => runCli(cli.main, args, options)

let fileCount = 0
/** A SQLite file holding `count` checkpoints of the test export (imported with the CLI itself). */
const seededSqlite = async (count: number) => {
  const name = `seeded-${++fileCount}`
  const file = Path.join(tmp.path, `${name}.jsonl`)
  exportFile(file, count)
  const databasePath = Path.join(tmp.path, `${name}.db`)
  const imported = await ecs(["import", file, "--db", `sqlite:${databasePath}`])
  expect(imported.stderr).not.toContain("ecs:")
  expect(imported.code).toBe(0)
  return databasePath
}

/** The id an agent checkpoint of the test export gets when imported into an empty database (app lines are every 20th). */
const agentIdOf = (line: number) => line - Math.floor(line / 20)

const sqliteRows = (databasePath: string, query: string) => {
  const database = new Database(databasePath, { readonly: true })
  try {
    return database.prepare(query).all() as Array<Record<string, unknown>>
  } finally {
    database.close()
  }
}

describe.concurrent("ecs demo", { timeout: 120_000 }, () => {
  it("checkpoints each step, crashes, resumes from the latest checkpoint, and prints what it read back", async () => {
    const cwd = temporaryDirectory()
    try {
      const result = await ecs(["demo"], { cwd: cwd.path })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("Run 1: the agent works three steps, then crashes.")
      expect(result.stdout).toContain("stored checkpoint 3: step 3")
      expect(result.stdout).toContain("Run 2: a new run resumes from the newest checkpoint.")
      expect(result.stdout).toContain("read back checkpoint 3 (step-3)")
      expect(result.stdout).toContain("done at step 5")
      expect(result.stdout).toContain("5 agent checkpoints in ./checkpoints.db in all.")
      // The embedded default: ./checkpoints.db in the working directory.
      expect(sqliteRows(Path.join(cwd.path, "checkpoints.db"), `SELECT name FROM "AgentCheckpoints" ORDER BY id`).map((r) => r.name))
        .toEqual(["step-1", "step-2", "step-3", "step-4", "step-5"])
    } finally {
      cwd.remove()
    }
  })

  it("uses the database named by CHECKPOINT_DB when --db is not given", async () => {
    const { db, release } = await provision(postgres)
    try {
      const url = (db.config as { readonly connectionString: string }).connectionString
      const result = await ecs(["demo"], { env: { CHECKPOINT_DB: url } })
      expect(result.code).toBe(0)
      const rows = await Effect.runPromise(db.withSql((sql) => sql`SELECT COUNT(*) AS n FROM "AgentCheckpoints"`))
      expect(Number(rows[0]?.n)).toBe(5)
    } finally {
      await release()
    }
  })
})

describe.concurrent("ecs list, show, latest, stats", { timeout: 120_000 }, () => {
  let databasePath: string
  beforeAll(async () => {
    databasePath = await seededSqlite(200)
  }, 60_000)

  it("list agent prints a page as a table, newest first, with the cursor of the next page", async () => {
    const first = await ecs(["list", "agent", "--limit", "3", "--total", "--db", `sqlite:${databasePath}`])
    expect(first.code).toBe(0)
    const lines = first.stdout.split("\n")
    expect(lines[0]).toMatch(/^id\s+createdAt\s+sessionId\s+agentId\s+agentType\s+name\s+parentId$/)
    expect(lines[2]).toMatch(
      new RegExp(`^${agentIdOf(199)}\\s+2023-11-14T22:16:39.000Z\\s+session-14\\s+agent-3\\s+reviewer\\s+step-199\\s+${agentIdOf(198)}$`)
    )
    expect(first.stdout).toContain("190 checkpoints match in all.")
    const cursor = /Next page: --cursor (\S+)/.exec(first.stdout)?.[1]
    expect(cursor).toBeDefined()
    const second = await ecs(["list", "agent", "--limit", "3", "--cursor", cursor!, "--json", "--db", databasePath])
    expect(second.code).toBe(0)
    const page = JSON.parse(second.stdout) as { items: Array<{ name: string }>; nextCursor: string | null }
    expect(page.items.map((item) => item.name)).toEqual(["step-196", "step-195", "step-194"])
    expect(page.nextCursor).toEqual(expect.any(String))
  })

  it("list filters by the query API's filters, for agent and app checkpoints", async () => {
    const agents = await ecs(["list", "agent", "--agent", "agent-2", "--session", "session-2", "--json", "--db", databasePath])
    expect(agents.code).toBe(0)
    const items = (JSON.parse(agents.stdout) as { items: Array<{ agentId: string; sessionId: string }> }).items
    expect(items.length).toBeGreaterThan(0)
    expect(items.every((item) => item.agentId === "agent-2" && item.sessionId === "session-2")).toBe(true)

    const apps = await ecs(["list", "app", "--hostname", "host-1", "--order", "asc", "--order-by", "id", "--json", "--db", databasePath])
    const appItems = (JSON.parse(apps.stdout) as { items: Array<{ hostname: string; id: string }> }).items
    expect(appItems.map((item) => item.hostname)).toEqual(appItems.map(() => "host-1"))
    expect(appItems.map((item) => Number(item.id))).toEqual([...appItems.map((item) => Number(item.id))].sort((a, b) => a - b))

    const after = await ecs(["list", "agent", "--after", String(1_700_000_000_000 + 195_000), "--json", "--db", databasePath])
    expect((JSON.parse(after.stdout) as { items: Array<{ name: string }> }).items.map((item) => item.name))
      .toEqual(["step-199", "step-198", "step-197", "step-196"])
  })

  it("show prints one checkpoint with its state; a missing one is a one-line error and exit code 1", async () => {
    const shown = await ecs(["show", String(agentIdOf(42)), "--db", databasePath])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(new RegExp(`^id:\\s+${agentIdOf(42)}$`, "m"))
    expect(shown.stdout).toMatch(/^name:\s+step-42$/m)
    expect(shown.stdout).toMatch(new RegExp(`^parentId:\\s+${agentIdOf(41)}$`, "m"))
    expect(shown.stdout).toContain(`"unicode": "日本語"`)

    const json = await ecs(["show", "2", "--app", "--json", "--db", databasePath])
    expect(JSON.parse(json.stdout)).toMatchObject({ id: "2", hostname: "host-1", state: { openFiles: ["file-40.ts"] } })

    const missing = await ecs(["show", "99999", "--db", databasePath])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toBe("")
    expect(missing.stderr.trim()).toBe("ecs: There is no agent checkpoint 99999")
  })

  it("latest prints the newest checkpoint of a session or an agent", async () => {
    const bySession = await ecs(["latest", "--session", "session-5", "--json", "--db", databasePath])
    expect(JSON.parse(bySession.stdout)).toMatchObject({ name: "step-190", sessionId: "session-5" })
    const byAgent = await ecs(["latest", "--agent", "agent-0", "--db", databasePath])
    expect(byAgent.stdout).toMatch(/^name:\s+step-196$/m)
    const app = await ecs(["latest", "--app", "--json", "--db", databasePath])
    expect(JSON.parse(app.stdout)).toMatchObject({ id: "10", sessionId: "session-15", workspaceDirectory: "/work/project-0" })
    const none = await ecs(["latest", "--session", "no-such-session", "--db", databasePath])
    expect(none.code).toBe(0)
    expect(none.stdout.trim()).toBe("No checkpoint matches.")
  })

  it("stats prints counts and sizes per table and per session", async () => {
    const json = await ecs(["stats", "--json", "--db", databasePath])
    expect(json.code).toBe(0)
    const stats = JSON.parse(json.stdout) as {
      agentCheckpoints: { count: number; totalBytes: number }
      appCheckpoints: { count: number }
      sessions: Array<{ table: string; sessionId: string; count: number }>
    }
    expect(stats.agentCheckpoints.count).toBe(190)
    expect(stats.appCheckpoints.count).toBe(10)
    expect(stats.agentCheckpoints.totalBytes).toBeGreaterThan(0)
    const counted = sqliteRows(databasePath, `SELECT COUNT(*) AS n FROM "AgentCheckpoints" WHERE "sessionId" = 'session-1'`)
    expect(stats.sessions.find((s) => s.table === "agent" && s.sessionId === "session-1")?.count).toBe(counted[0]?.n)

    const table = await ecs(["stats", "--db", databasePath])
    expect(table.stdout).toMatch(/^AgentCheckpoints\s+190\s+/m)
    expect(table.stdout).toMatch(/^AppCheckpoints\s+10\s+/m)
    expect(table.stdout).toContain("Per session")
  })
})

describe.concurrent("ecs export and import", { timeout: 120_000 }, () => {
  it("exports JSON Lines and imports them into another database, parents mapped, and a second import adds nothing", async () => {
    const source = await seededSqlite(300)
    const file = Path.join(tmp.path, "export.jsonl")
    const exported = await ecs(["export", "--out", file, "--db", source])
    expect(exported.code).toBe(0)
    const lines = Fs.readFileSync(file, "utf8").trimEnd().split("\n")
    expect(lines).toHaveLength(301)
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: "effect-checkpoint-storage/jsonl", version: 1 })
    expect(JSON.parse(lines[2]!)).toMatchObject({ table: "agent", id: "2", parentId: "1", name: "step-2" })
    expect(Fs.existsSync(`${file}.partial`)).toBe(false)

    const { db, release } = await provision(mysql)
    try {
      const url = (db.config as { readonly connectionString: string }).connectionString
      const first = await ecs(["import", file, "--db", url])
      expect(first.code).toBe(0)
      expect(first.stdout.trim()).toBe(`Imported 300 checkpoints into ${url}`)
      const again = await ecs(["import", file, "--json", "--db", url])
      expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, alreadyThere: 300 })

      const rows = await Effect.runPromise(db.withSql((sql) =>
        sql<{ name: string; parentName: string | null }>`SELECT c.name AS name, p.name AS parentName FROM AgentCheckpoints c
LEFT JOIN AgentCheckpoints p ON p.id = c.parentId ORDER BY c.createdAt`
      ))
      expect(rows).toHaveLength(285)
      expect(rows.slice(0, 3)).toEqual([
        { name: "step-1", parentName: null },
        { name: "step-2", parentName: "step-1" },
        { name: "step-3", parentName: "step-2" }
      ])
      // The file written from MySQL holds the same checkpoints (ids aside).
      const roundTrip = await ecs(["export", "--db", url])
      const strip = (line: string) => {
        const { id: _, parentId: __, ...rest } = JSON.parse(line) as Record<string, unknown>
        return rest
      }
      expect(roundTrip.stdout.trimEnd().split("\n").slice(1).map(strip)).toEqual(lines.slice(1).map(strip))
    } finally {
      await release()
    }
  })

  it("imports from stdin, and refuses a line that is not a checkpoint with its line number", async () => {
    const target = Path.join(tmp.path, "stdin.db")
    const good = `{"table":"agent","id":"7","sessionId":"s","agentId":"a","agentType":"t","name":"n","createdAt":1,"state":{"k":1}}\n`
    const ok = await ecs(["import", "--db", target], { input: good })
    expect(ok.code).toBe(0)
    expect(ok.stdout.trim()).toBe(`Imported 1 checkpoints into ${target}`)
    const bad = await ecs(["import", "--db", target], { input: `${good}{"table":"agent","id":"8"}\n` })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^ecs: Line 2 is not a checkpoint/)
  })
  it("imports an app line of an older export file, whose directory is still called projectDirectory", async () => {
    const target = Path.join(tmp.path, "legacy.db")
    const line = `{"table":"app","id":"3","sessionId":"s","hostname":"h","projectDirectory":"/old/p","createdAt":5,"state":{}}\n`
    expect((await ecs(["import", "--db", target], { input: line })).code).toBe(0)
    const shown = await ecs(["latest", "--app", "--json", "--db", target])
    expect(JSON.parse(shown.stdout)).toMatchObject({ sessionId: "s", workspaceDirectory: "/old/p" })
  })
})

describe.concurrent("ecs prune", { timeout: 120_000 }, () => {
  it("shows what would go without deleting anything, and deletes it with --apply", async () => {
    const databasePath = await seededSqlite(400)
    const dry = await ecs(["prune", "--keep-last-per-session", "5", "--db", databasePath])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/AgentCheckpoints: \d+ would be deleted/)
    expect(dry.stdout).toContain("Dry run: nothing was deleted.")
    expect(sqliteRows(databasePath, `SELECT COUNT(*) AS n FROM "AgentCheckpoints"`)[0]?.n).toBe(380)

    const json = await ecs(["prune", "--keep-last-per-session", "5", "--json", "--db", databasePath])
    const wouldDelete = (JSON.parse(json.stdout) as { AgentCheckpoints: { wouldDelete: number } }).AgentCheckpoints.wouldDelete

    const applied = await ecs(["prune", "--keep-last-per-session", "5", "--apply", "--db", databasePath])
    expect(applied.code).toBe(0)
    expect(applied.stdout).toContain(`AgentCheckpoints: deleted ${wouldDelete}`)
    const perSession = sqliteRows(databasePath, `SELECT MAX(n) AS most FROM (SELECT COUNT(*) AS n FROM "AgentCheckpoints" GROUP BY "sessionId")`)
    expect(perSession[0]?.most).toBe(5)
    expect(sqliteRows(databasePath, `SELECT COUNT(*) AS n FROM "AgentCheckpoints"`)[0]?.n).toBe(380 - wouldDelete)
  })

  it("deletes what is older than --max-age, as the query API's prune does", async () => {
    const { db, release } = await provision(postgres)
    try {
      const url = (db.config as { readonly connectionString: string }).connectionString
      const file = Path.join(tmp.path, "ages.jsonl")
      const now = Date.now()
      const line = (id: number, age: number) =>
        JSON.stringify({ table: "agent", id: String(id), sessionId: "s", agentId: "a", agentType: "t", name: `n${id}`, createdAt: now - age, state: {} })
      Fs.writeFileSync(file, [line(1, 10 * 86_400_000), line(2, 3 * 86_400_000), line(3, 60_000)].join("\n"))
      expect((await ecs(["import", file, "--db", url])).code).toBe(0)
      const applied = await ecs(["prune", "--max-age", "2 days", "--apply", "--json", "--db", url])
      expect(JSON.parse(applied.stdout)).toMatchObject({ dryRun: false, AgentCheckpoints: { deleted: 2 } })
      const left = await Effect.runPromise(db.withSql((sql) => sql<{ name: string }>`SELECT name FROM "AgentCheckpoints"`))
      expect(left.map((row) => row.name)).toEqual(["n3"])
    } finally {
      await release()
    }
  })
})

describe.concurrent("ecs migrate and doctor", { timeout: 120_000 }, () => {
  it("migrate applies the migrations to an empty database and prints the schema version", async () => {
    const { db, release } = await provision(postgres)
    try {
      const url = (db.config as { readonly connectionString: string }).connectionString
      const first = await ecs(["migrate", "--db", url])
      expect(first.code).toBe(0)
      expect(first.stdout).toContain("applied\n  1 checkpoint_tables\n  2 list_indexes\n  3 lineage_and_size\n  4 import_ledger\n  5 workspace_directory\n  6 agent_metrics")
      expect(first.stdout).toContain("Schema version 6 (this version of effect-checkpoint-storage expects 6).")
      const again = await ecs(["migrate", "--json", "--db", url])
      expect(JSON.parse(again.stdout)).toMatchObject({ applied: [], version: 6, expectedVersion: 6 })
    } finally {
      await release()
    }
  })

  it("migrate --langgraph also creates LangGraph's tables, which the saver then uses as they are", async () => {
    const { db, release } = await provision(mysql)
    try {
      const url = (db.config as { readonly connectionString: string }).connectionString
      const first = await ecs(["migrate", "--langgraph", "--db", url])
      expect(first.code).toBe(0)
      expect(first.stdout).toContain("LangGraph tables: applied\n  1 langgraph_tables")
      const again = await ecs(["migrate", "--langgraph", "--json", "--db", url])
      expect(JSON.parse(again.stdout)).toMatchObject({ applied: [], langgraph: { applied: [] } })
      const saver = SqlCheckpointSaver.fromConnString(url)
      try {
        await saver.put({ configurable: { thread_id: "t" } }, emptyCheckpoint(), { source: "input", step: -1, parents: {} }, {})
        expect((await saver.listThreads()).threads.map((thread) => thread.threadId)).toEqual(["t"])
      } finally {
        await saver.end()
      }
    } finally {
      await release()
    }
  })

  it("doctor finds pending migrations on an empty database, and nothing once migrated", async () => {
    const databasePath = Path.join(tmp.path, "doctor-empty.db")
    Fs.writeFileSync(databasePath, "") // an empty file is an empty SQLite database
    const empty = await ecs(["doctor", "--db", databasePath])
    expect(empty.code).toBe(1)
    expect(empty.stdout).toMatch(/^MISSING\s+migration 1 checkpoint_tables: not applied; expected applied$/m)
    expect(empty.stdout).toMatch(/^MISSING\s+table AgentCheckpoints: absent/m)
    expect(empty.stdout).toContain("fix: ecs migrate")
    expect((await ecs(["migrate", "--db", databasePath])).code).toBe(0)
    const migrated = await ecs(["doctor", "--db", databasePath])
    expect(migrated.code).toBe(0)
    expect(migrated.stdout).toContain("The schema is as expected.")
    expect(migrated.stdout).toMatch(/^ok\s+index AgentCheckpoints \(agentId, createdAt, id\): AgentCheckpoints_agentId_createdAt_id$/m)
  })

  it("doctor names a missing index and a changed column, with the statement that fixes each", async () => {
    const { db, release } = await provision(mysql)
    try {
      const url = (db.config as { readonly connectionString: string }).connectionString
      expect((await ecs(["migrate", "--db", url])).code).toBe(0)
      await Effect.runPromise(db.withSql((sql) =>
        Effect.zipRight(
          sql`DROP INDEX AgentCheckpoints_sessionId_createdAt_id ON AgentCheckpoints`,
          sql`ALTER TABLE AppCheckpoints MODIFY state TEXT NOT NULL`
        )
      ))
      const broken = await ecs(["doctor", "--db", url])
      expect(broken.code).toBe(1)
      expect(broken.stdout).toMatch(/^MISSING\s+index AgentCheckpoints \(sessionId, createdAt, id\): absent/m)
      expect(broken.stdout).toMatch(/^DIFFERS\s+column AppCheckpoints\.state: text NOT NULL utf8mb4_bin; expected longtext NOT NULL utf8mb4_bin$/m)
      expect(broken.stderr.trim()).toBe(`ecs: The schema of ${url} differs from the expected one in 2 places`)
      const fixes = [...broken.stdout.matchAll(/fix: (.*)$/gm)].map((match) => match[1]!)
      expect([...fixes].sort()).toEqual([
        "ALTER TABLE `AppCheckpoints` MODIFY `state` LONGTEXT COLLATE utf8mb4_bin NOT NULL",
        "CREATE INDEX `AgentCheckpoints_sessionId_createdAt_id` ON `AgentCheckpoints` (`sessionId`, `createdAt`, `id`)"
      ])
      for (const fix of fixes) await Effect.runPromise(db.withSql((sql) => sql.unsafe(fix)))
      const fixed = await ecs(["doctor", "--json", "--db", url])
      expect(fixed.code).toBe(0)
      expect(JSON.parse(fixed.stdout)).toMatchObject({ ok: true, version: 6 })
    } finally {
      await release()
    }
  })
})

describe.concurrent("usage, help and errors", { timeout: 120_000 }, () => {
  let usageDb: string
  beforeAll(async () => {
    usageDb = Path.join(tmp.path, "usage.db")
    expect((await ecs(["migrate", "--db", usageDb])).code).toBe(0)
  })

  const commands = ["demo", "list", "show", "latest", "stats", "export", "import", "copy", "prune", "migrate", "doctor"]

  it("--help on every command shows its usage and an example, with exit code 0", async () => {
    const helps = await Promise.all(commands.map((command) => ecs([command, "--help"])))
    for (const [index, command] of commands.entries()) {
      const help = helps[index]!
      expect(help.code, command).toBe(0)
      expect(plain(help.stdout), command).toMatch(new RegExp(`USAGE[\\s\\S]*\\$ ${command}[\\s\\S]*EXAMPLES?\\s+\\$ ecs ${command}`))
    }
    const root = await ecs(["--help"])
    expect(root.code).toBe(0)
    for (const command of commands) expect(plain(root.stdout)).toMatch(new RegExp(`^  ${command}\\s+\\S`, "m"))
  })

  it("bad usage exits with 2", async () => {
    const cases: ReadonlyArray<ReadonlyArray<string>> = [
      ["no-such-command"],
      ["list"],
      ["list", "nothing"],
      ["list", "agent", "--limit", "many"],
      ["list", "agent", "--no-such-option"],
      ["list", "app", "--agent", "a", "--db", usageDb],
      ["list", "agent", "--before", "yesterday-ish", "--db", usageDb],
      ["list", "agent", "--limit", "0", "--db", usageDb],
      ["list", "agent", "--cursor", "not-a-cursor", "--db", usageDb],
      ["stats", "--db", "oracle://scott:tiger@localhost/orcl"],
      ["copy", "--from", "sqlite:a.db"],
      ["copy", "--from", "sqlite:same.db", "--to", "same.db"],
      ["prune", "--db", usageDb],
      ["prune", "--max-age", "a while", "--db", usageDb]
    ]
    const results = await Promise.all(cases.map((args) => ecs(args)))
    for (const [index, args] of cases.entries()) {
      const result = results[index]!
      expect(result.code, args.join(" ")).toBe(2)
      expect(result.stderr, args.join(" ")).not.toBe("")
    }
    const scheme = await ecs(["stats", "--db", "oracle://scott:tiger@localhost/orcl"])
    expect(scheme.stderr.trim()).toBe(`ecs: Unknown database URL scheme "oracle:" (use sqlite:FILE, postgres://… or mysql://…)`)
    expect(scheme.stderr).not.toContain("tiger")
    const filter = await ecs(["list", "app", "--agent", "a", "--db", usageDb])
    expect(filter.stderr.trim()).toBe("ecs: --agent does not apply to app checkpoints")
  })

  it("a failure is one line with the typed error's message, --verbose adds its cause, and no password is printed", async () => {
    const secret = "hunter2secret"
    const unreachable = `postgres://postgres:${secret}@127.0.0.1:1/postgres`
    const short = await ecs(["stats", "--db", unreachable])
    expect(short.code).toBe(1)
    expect(short.stderr.trim().split("\n")).toEqual([
      "ecs: Cannot use PostgreSQL at postgres://postgres:***@127.0.0.1:1/postgres (connect) [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:1"
    ])
    const verbose = await ecs(["stats", "--verbose", "--db", unreachable])
    expect(verbose.code).toBe(1)
    expect(verbose.stderr.split("\n").length).toBeGreaterThan(2)
    expect(verbose.stderr).toContain("ECONNREFUSED")
    const mysqlDown = await ecs(["copy", "--from", usageDb, "--to", `mysql://root:${secret}@127.0.0.1:1/x`, "--verbose"])
    expect(mysqlDown.code).toBe(1)
    expect(mysqlDown.stderr).toContain("mysql://root:***@127.0.0.1:1/x")
    for (const output of [short, verbose, mysqlDown]) {
      expect(output.stdout + output.stderr).not.toContain(secret)
    }
  })

  it("a command that only reads refuses a SQLite file that does not exist, instead of creating it", async () => {
    const missing = Path.join(tmp.path, "no-such.db")
    for (const args of [["list", "agent"], ["stats"], ["doctor"], ["export"]]) {
      const result = await ecs([...args, "--db", missing])
      expect(result.code, args.join(" ")).toBe(1)
      expect(result.stderr.trim(), args.join(" ")).toBe(`ecs: There is no SQLite database at ${missing}`)
    }
    const copy = await ecs(["copy", "--from", missing, "--to", Path.join(tmp.path, "copy-target.db")])
    expect(copy.code).toBe(1)
    expect(Fs.existsSync(missing)).toBe(false)
  })

  it("a password in a working URL is masked everywhere the URL is shown", async () => {
    const { db, release } = await provision(postgres)
    try {
      // The test server trusts local connections, so the password is accepted and ignored.
      const url = new URL((db.config as { readonly connectionString: string }).connectionString)
      url.password = "s3cr3t-pw"
      const source = await seededSqlite(30)
      const results = [
        await ecs(["demo", "--db", url.toString()]),
        await ecs(["stats", "--db", url.toString()]),
        await ecs(["copy", "--from", source, "--to", url.toString()]),
        await ecs(["migrate", "--db", url.toString()]),
        await ecs(["doctor", "--db", url.toString()])
      ]
      for (const result of results) {
        expect(result.code).toBe(0)
        expect(result.stdout + result.stderr).not.toContain("s3cr3t-pw")
      }
      expect(results[1]!.stdout).toContain(`postgres://postgres:***@`)
    } finally {
      await release()
    }
  })
})
