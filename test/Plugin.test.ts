/**
 * The Token Ring plugin, installed into a small fake app with fake checkpoint services that record what they get.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import plugin, { makeTokenRingPlugin, type TokenRingApp } from "../src/facade/plugin.js"
import { MySQLStorage, PostgresStorage, SQLiteStorage, type TokenRingService } from "../src/index.js"
import packageJson from "../package.json" with { type: "json" }

class AgentCheckpointService {
  readonly providers: Array<unknown> = []
  setCheckpointProvider(provider: unknown) {
    this.providers.push(provider)
  }
}
class AppCheckpointService {
  readonly providers: Array<unknown> = []
  setCheckpointProvider(provider: unknown) {
    this.providers.push(provider)
  }
}

/** A Token Ring app's service registry: services are added later, and waiting callbacks fire for them. */
const fakeApp = () => {
  const registered: Array<TokenRingService> = []
  const waiting: Array<[abstract new(...args: Array<never>) => unknown, (service: never) => void]> = []
  const app: TokenRingApp = {
    services: {
      register: (service) => {
        registered.push(service)
      },
      waitForItemByType: (type, callback) => {
        waiting.push([type, callback as (service: never) => void])
      }
    }
  }
  const addService = (service: object) => {
    for (const [type, callback] of waiting) if (service instanceof type) callback(service as never)
  }
  return { app, registered, addService }
}

const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-plugin-"))
afterAll(() => Fs.rmSync(directory, { recursive: true, force: true }))

describe("the Token Ring plugin", () => {
  const tokenRingPlugin = makeTokenRingPlugin({ AgentCheckpointService, AppCheckpointService })

  it("describes itself with this package's name, version and description", () => {
    expect(tokenRingPlugin).toMatchObject({
      name: packageJson.name,
      version: packageJson.version,
      description: packageJson.description,
      displayName: "Effect Checkpoint Storage"
    })
    expect(plugin).toMatchObject({ name: packageJson.name, version: packageJson.version })
  })

  it("parses a Token Ring config file's drizzleStorage key with its zod schema", () => {
    // .tokenring/coder-config.mjs, as in drizzle-storage's plugin integration example
    const config = {
      drizzleStorage: {
        type: "sqlite",
        databasePath: "./tokenring-state.db"
      }
    }
    expect(tokenRingPlugin.config.parse(config)).toEqual(config)
    expect(tokenRingPlugin.config.parse({ drizzleStorage: { type: "postgres", connectionString: "postgres://x" } }))
      .toEqual({ drizzleStorage: { type: "postgres", connectionString: "postgres://x" } })
    expect(tokenRingPlugin.config.safeParse({ drizzleStorage: { type: "redis", url: "redis://x" } }).success).toBe(false)
    expect(tokenRingPlugin.config.safeParse({ drizzleStorage: { type: "sqlite" } }).success).toBe(false)
  })

  it("registers the storage and gives it to both checkpoint services, which can then use it", async () => {
    const { addService, app, registered } = fakeApp()
    const databasePath = Path.join(directory, "tokenring-state.db")
    await tokenRingPlugin.install(app, tokenRingPlugin.config.parse({ drizzleStorage: { type: "sqlite", databasePath } }))
    expect(registered).toHaveLength(1)
    const storage = registered[0]
    expect(storage).toBeInstanceOf(SQLiteStorage)
    expect(storage).toMatchObject({ name: "SQLiteStorage", displayName: `SQLite (${databasePath})` })

    const agentService = new AgentCheckpointService()
    const appService = new AppCheckpointService()
    addService(agentService)
    addService(appService)
    expect(agentService.providers).toEqual([storage])
    expect(appService.providers).toEqual([storage])

    const provider = storage as SQLiteStorage
    await provider.start()
    const id = await provider.storeAgentCheckpoint({
      agentId: "agent-1",
      sessionId: "session-1",
      agentType: "coder",
      name: "from the plugin",
      state: { ok: true },
      createdAt: Date.now()
    })
    expect((await provider.retrieveAgentCheckpoint(id))?.name).toBe("from the plugin")
    await provider.stop()
  })

  it("creates the storage class of each database type, masking the password", async () => {
    for (
      const [drizzleStorage, type, displayName] of [
        [
          { type: "postgres", connectionString: "postgres://app:s3cr3t@db:5432/agents" },
          PostgresStorage,
          "Postgres (postgres://app:***@db:5432/agents)"
        ],
        [
          { type: "mysql", connectionString: "mysql://app:s3cr3t@db:3306/agents" },
          MySQLStorage,
          "MySQL (mysql://app:***@db:3306/agents)"
        ]
      ] as const
    ) {
      const { app, registered } = fakeApp()
      await tokenRingPlugin.install(app, { drizzleStorage })
      expect(registered[0]).toBeInstanceOf(type)
      expect(registered[0]).toMatchObject({ displayName })
    }
  })

  it("does nothing when the config has no drizzleStorage key", async () => {
    const { app, registered } = fakeApp()
    await tokenRingPlugin.install(app, {} as never)
    expect(registered).toEqual([])
  })

  it("as the default export, says clearly that @tokenring-ai/checkpoint is needed when it is not installed", async () => {
    const { app, registered } = fakeApp()
    await expect(plugin.install(app, { drizzleStorage: { type: "sqlite", databasePath: ":memory:" } })).rejects
      .toThrow(/needs @tokenring-ai\/checkpoint .*makeTokenRingPlugin/)
    expect(registered).toEqual([])
  })
})
