/**
 * The persistence table through the CLI: `stats` shows its entries per store id only where the table exists (and
 * creates none), `prune --persistence` deletes the expired entries (a dry run first), `migrate --persistence`
 * creates the table ahead of its first use.
 */
import { BackingPersistence } from "@effect/experimental/Persistence"
import Database from "better-sqlite3"
import { Duration, Effect, Layer, Option } from "effect"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { layerBackingSql, layerSqliteNode } from "../../src/index.js"
import { buildCli, type CliBuild, runCli, temporaryDirectory } from "./support/cli.js"

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

const ecs = (args: ReadonlyArray<string>) => runCli(cli.main, args)

const tables = (databasePath: string): ReadonlyArray<string> => {
  const database = new Database(databasePath, { readonly: true })
  try {
    return (database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>)
      .map((row) => row.name)
  } finally {
    database.close()
  }
}

/** Writes entries through the library, as a program using layerBackingSql does: two of them already expired. */
const writeEntries = (databasePath: string) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const store = yield* Effect.flatMap(BackingPersistence, (backing) => backing.make("chats"))
    const cache = yield* Effect.flatMap(BackingPersistence, (backing) => backing.make("cache"))
    yield* store.setMany([["chat-1", { history: "é" }, Option.none()], ["chat-2", { history: [] }, Option.none()]])
    yield* cache.setMany([
      ["old-1", 1, Option.some(Duration.millis(1))],
      ["old-2", 2, Option.some(Duration.millis(1))],
      ["fresh", 3, Option.some(Duration.hours(1))]
    ])
    yield* Effect.sleep("20 millis")
  }).pipe(Effect.provide(layerBackingSql.pipe(Layer.provide(layerSqliteNode({ databasePath })))))))

describe("ecs and the persistence table", { timeout: 120_000 }, () => {
  it("stats shows no persistence and creates no table where it is absent; then its entries per store id", async () => {
    const databasePath = Path.join(tmp.path, "stats.db")
    expect((await ecs(["migrate", "--db", `sqlite:${databasePath}`])).code).toBe(0)
    const empty = await ecs(["stats", "--json", "--db", `sqlite:${databasePath}`])
    expect(empty.stderr).toBe("")
    expect(JSON.parse(empty.stdout)).toMatchObject({ persistence: null })
    expect(tables(databasePath)).not.toContain("persistence_entries")

    await writeEntries(databasePath)
    const json = await ecs(["stats", "--json", "--db", databasePath])
    expect(JSON.parse(json.stdout).persistence).toEqual([
      { storeId: "cache", entries: 3, expired: 2, valueBytes: 3 },
      { storeId: "chats", entries: 2, expired: 0, valueBytes: 30 }
    ])
    const text = await ecs(["stats", "--db", databasePath])
    expect(text.stdout).toContain("Persistence entries")
    expect(text.stdout).toMatch(/cache\s+│?\s*3\s+│?\s*2/)
  })

  it("prune --persistence shows the expired entries without deleting them, and deletes them with --apply", async () => {
    const databasePath = Path.join(tmp.path, "prune.db")
    await writeEntries(databasePath)
    const dry = await ecs(["prune", "--persistence", "--db", databasePath])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain("PersistenceEntries (expired): 2 would be deleted")
    expect(dry.stdout).toContain("old-1")
    expect(dry.stdout).not.toContain("AgentCheckpoints")
    const dryJson = await ecs(["prune", "--persistence", "--json", "--db", databasePath])
    expect(JSON.parse(dryJson.stdout).PersistenceEntries.wouldDelete).toBe(2)

    const applied = await ecs(["prune", "--persistence", "--apply", "--json", "--db", databasePath])
    expect(JSON.parse(applied.stdout)).toMatchObject({ dryRun: false, PersistenceEntries: { deleted: 2 } })
    const after = await ecs(["stats", "--json", "--db", databasePath])
    expect(JSON.parse(after.stdout).persistence).toEqual([
      { storeId: "cache", entries: 1, expired: 0, valueBytes: 1 },
      { storeId: "chats", entries: 2, expired: 0, valueBytes: 30 }
    ])
  })

  it("prune --persistence on a database without the table deletes nothing and creates nothing", async () => {
    const databasePath = Path.join(tmp.path, "none.db")
    expect((await ecs(["migrate", "--db", `sqlite:${databasePath}`])).code).toBe(0)
    const applied = await ecs(["prune", "--persistence", "--apply", "--json", "--db", databasePath])
    expect(JSON.parse(applied.stdout)).toMatchObject({ PersistenceEntries: { deleted: 0 } })
    expect(tables(databasePath)).not.toContain("persistence_entries")
  })

  it("migrate --persistence creates the table ahead of its first use", async () => {
    const databasePath = Path.join(tmp.path, "migrate.db")
    const json = await ecs(["migrate", "--persistence", "--json", "--db", `sqlite:${databasePath}`])
    expect(JSON.parse(json.stdout).persistence).toEqual({ applied: [{ id: 1, name: "persistence_entries" }] })
    expect(tables(databasePath)).toContain("persistence_entries")
    const again = await ecs(["migrate", "--persistence", "--db", databasePath])
    expect(again.stdout).toContain("Persistence table: already up to date.")
  })
})
