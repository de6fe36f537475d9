/**
 * `ecs copy` between real databases, `export`/`import`/`copy`/`prune` progress in a terminal and out of one, and
 * an interrupted copy resumed: the built binary in child processes.
 */
import Database from "better-sqlite3"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { provision } from "../support/provision.js"
import { mysql, postgres } from "../support/targets.js"
import { buildCli, type CliBuild, exportFile, runCli, startCli, temporaryDirectory } from "./support/cli.js"

const COUNT = 20_000

let cli: CliBuild
let tmp: { readonly path: string; readonly remove: () => void }
/** A SQLite file with the 20,000 checkpoints of the test export, read-only for every test. */
let source: string

beforeAll(async () => {
  cli = await buildCli()
  tmp = temporaryDirectory()
  const file = Path.join(tmp.path, "seed.jsonl")
  exportFile(file, COUNT)
  source = Path.join(tmp.path, "source.db")
  const imported = await runCli(cli.main, ["import", file, "--db", `sqlite:${source}`])
  expect(imported.code).toBe(0)
}, 180_000)

afterAll(() => {
  cli?.remove()
  tmp?.remove()
})

const ecs = (args: ReadonlyArray<string>) => runCli(cli.main, args)

/**
 * Every checkpoint of a SQLite file, ids left out and each parentId replaced by its parent's name (or hostname and
 * createdAt): equal for two files exactly when they hold the same checkpoints with the same lineage.
 */
const contents = (databasePath: string) => {
  const database = new Database(databasePath, { readonly: true })
  try {
    return {
      agents: database.prepare(`SELECT c."sessionId", c."agentId", c."agentType", c."name", c."createdAt", c."state",
c."sizeBytes", p."name" AS "parent" FROM "AgentCheckpoints" c LEFT JOIN "AgentCheckpoints" p ON p."id" = c."parentId"
ORDER BY c."createdAt", c."name"`).all(),
      apps: database.prepare(`SELECT "sessionId", "hostname", "workspaceDirectory", "createdAt", "state", "sizeBytes"
FROM "AppCheckpoints" ORDER BY "createdAt"`).all()
    }
  } finally {
    database.close()
  }
}

const expectVerified = (stdout: string) => {
  expect(stdout).toMatch(/AgentCheckpoints: equal: source 19000 ([0-9a-f]{16})…, target 19000 \1…/)
  expect(stdout).toMatch(/AppCheckpoints: equal: source 1000 ([0-9a-f]{16})…, target 1000 \1…/)
}

const url = (db: { readonly config: unknown }) => (db.config as { readonly connectionString: string }).connectionString

describe("ecs copy", () => {
  it("copies 20,000 checkpoints SQLite → PostgreSQL → MySQL → SQLite, verified equal at every step", async () => {
    const pg = await provision(postgres)
    const my = await provision(mysql)
    try {
      const target = Path.join(tmp.path, "round-trip.db")
      const hops = [[source, url(pg.db)], [url(pg.db), url(my.db)], [url(my.db), `sqlite:${target}`]] as const
      for (const [from, to] of hops) {
        const started = Date.now()
        const copied = await ecs(["copy", "--from", from, "--to", to])
        const seconds = (Date.now() - started) / 1000
        console.log(`copy ${from.split(":")[0]} → ${to.split(":")[0]}: ${COUNT} checkpoints in ${seconds.toFixed(1)} s`)
        expect(copied.stderr).not.toContain("ecs:")
        expect(copied.code).toBe(0)
        expect(copied.stdout).toContain("AgentCheckpoints: 19000 copied, 0 already there from an earlier run")
        expectVerified(copied.stdout)
      }
      // Independently of the CLI's own check: the last file holds what the first one does, lineage included.
      const [before, after] = [contents(source), contents(target)]
      expect(after.agents).toHaveLength(19_000)
      expect(after.apps).toHaveLength(1000)
      expect(after).toEqual(before)
    } finally {
      await Promise.all([pg.release(), my.release()])
    }
  }, 240_000)

  it("resumes an interrupted copy (Ctrl-C) without duplicates, the target consistent in between", async () => {
    const resumeSource = Path.join(tmp.path, "resume.db")
    const file = Path.join(tmp.path, "resume.jsonl")
    exportFile(file, 5000)
    expect((await ecs(["import", file, "--db", resumeSource])).code).toBe(0)
    const { db, release } = await provision(postgres)
    const count = (query: string) =>
      Effect.runPromise(
        db.withSql((sql) => sql.unsafe<{ n: unknown }>(query)).pipe(
          Effect.map((rows) => Number(rows[0]?.n ?? 0)),
          Effect.orElseSucceed(() => 0)
        )
      )
    try {
      const run = startCli(cli.main, ["copy", "--from", resumeSource, "--to", url(db), "--batch-size", "100"])
      // Interrupt once some batches are committed.
      const deadline = Date.now() + 60_000
      while ((await count(`SELECT COUNT(*) AS n FROM "AgentCheckpoints"`)) < 500 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      run.child.kill("SIGINT")
      const interrupted = await run.done
      expect(interrupted.code).toBe(130)
      expect(interrupted.stderr).toContain("ecs: interrupted; work in progress was rolled back")

      // Every checkpoint written is in the ledger and vice versa: no batch half-written.
      const written = await count(`SELECT COUNT(*) AS n FROM "AgentCheckpoints"`)
      expect(written).toBeGreaterThanOrEqual(500)
      expect(written).toBeLessThan(4750)
      expect(written % 100).toBe(0)
      expect(await count(`SELECT COUNT(*) AS n FROM effect_checkpoint_storage_copies`)).toBe(written)

      const resumed = await ecs(["copy", "--from", resumeSource, "--to", url(db)])
      expect(resumed.code).toBe(0)
      expect(resumed.stdout).toContain(`AgentCheckpoints: ${4750 - written} copied, ${written} already there from an earlier run`)
      expect(resumed.stdout).toMatch(/AgentCheckpoints: equal: source 4750 ([0-9a-f]{16})…, target 4750 \1…/)
      expect(resumed.stdout).toMatch(/AppCheckpoints: equal: source 250 ([0-9a-f]{16})…, target 250 \1…/)
      expect(await count(`SELECT COUNT(*) AS n FROM "AgentCheckpoints"`)).toBe(4750)
      expect(await count(`SELECT COUNT(DISTINCT "name") AS n FROM "AgentCheckpoints"`)).toBe(4750)
      // Lineage survived the interruption: every parent is the checkpoint one step before.
      expect(await count(`SELECT COUNT(*) AS n FROM "AgentCheckpoints" c JOIN "AgentCheckpoints" p ON p.id = c."parentId"
WHERE p.name = 'step-' || (CAST(substr(c.name, 6) AS integer) - 1)`)).toBe(await count(`SELECT COUNT(*) AS n FROM "AgentCheckpoints" WHERE "parentId" IS NOT NULL`))

      // Run again: nothing to do, still verified.
      const again = await ecs(["copy", "--from", resumeSource, "--to", url(db), "--json"])
      expect(again.code).toBe(0)
      const report = JSON.parse(again.stdout) as { tables: Array<{ copied: number; alreadyThere: number; verified: boolean }> }
      expect(report.tables.map((t) => [t.copied, t.alreadyThere, t.verified])).toEqual([[0, 4750, true], [0, 250, true]])
    } finally {
      await release()
    }
  }, 180_000)

  it("resumes an interrupted import without duplicates", async () => {
    const file = Path.join(tmp.path, "interrupted-import.jsonl")
    exportFile(file, 5000)
    const target = Path.join(tmp.path, "interrupted-import.db")
    const agents = () => {
      if (!Fs.existsSync(target)) return 0
      const database = new Database(target, { readonly: true, fileMustExist: true })
      try {
        return (database.prepare(`SELECT COUNT(*) AS n FROM "AgentCheckpoints"`).get() as { n: number }).n
      } catch {
        return 0
      } finally {
        database.close()
      }
    }
    const run = startCli(cli.main, ["import", file, "--batch-size", "50", "--db", target])
    const deadline = Date.now() + 60_000
    while (agents() < 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    run.child.kill("SIGINT")
    expect((await run.done).code).toBe(130)
    const before = agents()
    expect(before).toBeGreaterThanOrEqual(200)
    expect(before).toBeLessThan(4750)

    const resumed = await ecs(["import", file, "--json", "--db", target])
    expect(resumed.code).toBe(0)
    const report = JSON.parse(resumed.stdout) as { imported: number; alreadyThere: number }
    expect(report.imported + report.alreadyThere).toBe(5000)
    expect(report.alreadyThere).toBeGreaterThanOrEqual(before)
    expect(agents()).toBe(4750)
  }, 120_000)

  it("fails verification (exit 1) when the target lost a copied checkpoint", async () => {
    const target = Path.join(tmp.path, "tampered.db")
    const small = Path.join(tmp.path, "small.db")
    const file = Path.join(tmp.path, "small.jsonl")
    exportFile(file, 50)
    expect((await ecs(["import", file, "--db", small])).code).toBe(0)
    expect((await ecs(["copy", "--from", small, "--to", target])).code).toBe(0)
    const database = new Database(target)
    database.prepare(`UPDATE "AgentCheckpoints" SET "state" = '{"changed":true}' WHERE "id" = 7`).run()
    database.close()
    const verified = await ecs(["copy", "--from", small, "--to", target])
    expect(verified.code).toBe(1)
    expect(verified.stdout).toMatch(/AgentCheckpoints: DIFFERENT: source 48 [0-9a-f]+…, target 48 [0-9a-f]+…/)
    expect(verified.stderr.trim().split("\n").at(-1)).toBe(`ecs: The copy does not verify: AgentCheckpoints differ between ${small} and ${target}`)
  })
})

describe("progress", () => {
  // `script` runs the command in a pseudo-terminal, as an interactive shell would.
  const inTerminal = async (args: ReadonlyArray<string>) => {
    const command = [process.execPath, cli.main, ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ")
    const { stdout } = await promisify(execFile)("script", ["-qefc", command, "/dev/null"], {
      env: { ...process.env, TERM: "xterm" },
      maxBuffer: 64 * 1024 * 1024
    })
    return stdout
  }

  it("is a bar with the rate and the time left in a terminal", async () => {
    const file = Path.join(tmp.path, "tty.jsonl")
    const output = await inTerminal(["export", "--out", file, "--db", source])
    expect(output).toMatch(/\r\x1b\[Kexport [█░]{24} \d+% \d+\/20000 [\d,]+\/s ETA \d+s/)
    expect(output).toMatch(/export: 20000 done in \d+s \([\d,]+\/s\)/)
    const copied = await inTerminal(["copy", "--from", source, "--to", Path.join(tmp.path, "tty.db")])
    expect(copied).toMatch(/\r\x1b\[Kcopy AgentCheckpoints [█░]{24} \d+% \d+\/19000 [\d,]+\/s ETA \d+s/)
    expect(copied).toContain("AgentCheckpoints: equal")
    const imported = await inTerminal(["import", file, "--db", Path.join(tmp.path, "tty-import.db")])
    expect(imported).toMatch(/\r\x1b\[Kimport [█░]{24} \d+% \d+\/20000 [\d,]+\/s ETA \d+s/)
    expect(imported).toContain("Imported 20000 checkpoints")
    const pruned = await inTerminal(["prune", "--keep-last-per-agent", "1", "--apply", "--db", Path.join(tmp.path, "tty.db")])
    expect(pruned).toMatch(/\r\x1b\[Kprune AgentCheckpoints: 18993 done in \d+s/)
  }, 120_000)

  it("is plain lines on stderr when not in a terminal, leaving stdout to the data", async () => {
    const exported = await ecs(["export", "--db", source])
    expect(exported.code).toBe(0)
    expect(exported.stdout.trimEnd().split("\n")).toHaveLength(COUNT + 1)
    expect(exported.stderr).not.toContain("\r")
    expect(exported.stderr).not.toContain("█")
    expect(exported.stderr).toMatch(/^export: \d+\/20000 \(\d+%\), [\d,]+\/s, ETA (\d+s|\?)$/m)
    expect(exported.stderr).toMatch(/^export: 20000 done in \d+s \([\d,]+\/s\)$/m)

    const pruned = Path.join(tmp.path, "prune.db")
    Fs.copyFileSync(source, pruned)
    const prune = await ecs(["prune", "--keep-last-per-agent", "10", "--apply", "--db", pruned])
    expect(prune.code).toBe(0)
    expect(prune.stderr).toMatch(/^prune AgentCheckpoints: 18930 done in \d+s/m)
    expect(prune.stdout).toContain("AgentCheckpoints: deleted 18930")
  }, 120_000)
})
