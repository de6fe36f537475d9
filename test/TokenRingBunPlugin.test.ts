/**
 * BunStorage's Token Ring plugin (`effect-checkpoint-storage/bun-storage/plugin`), installed early into a small fake
 * app whose services record the providers they are handed.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import plugin, { makeBunStoragePlugin } from "../src/facade/bunStoragePlugin.js"
import type { TokenRingApp } from "../src/facade/TokenRingBun.js"
import { BunStorage, type TokenRingService } from "../src/index.js"
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
class MetricsService {
  readonly providers: Array<unknown> = []
  setMetricsProvider(provider: unknown) {
    this.providers.push(provider)
  }
}

const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ecs-bun-plugin-"))
afterAll(() => Fs.rmSync(directory, { recursive: true, force: true }))

/** A Token Ring app: services added later still reach the callbacks that wait for their class. */
const fakeApp = () => {
  const added: Array<TokenRingService> = []
  const waiting: Array<[abstract new(...args: Array<never>) => unknown, (service: never) => void]> = []
  const app: TokenRingApp = {
    getWorkspaceResolvedPath: (path) => Path.join(directory, path),
    serviceOutput: () => {},
    serviceError: () => {},
    addService: (service) => {
      added.push(service)
      for (const [type, callback] of waiting) if (service instanceof type) callback(service as never)
    },
    waitForService: (type, callback) => {
      waiting.push([type, callback as (service: never) => void])
      for (const service of added) if (service instanceof type) callback(service as never)
    }
  }
  return { app, added }
}

describe("BunStorage's Token Ring plugin", () => {
  const bunStoragePlugin = makeBunStoragePlugin({ AgentCheckpointService, AppCheckpointService, MetricsService })

  it("describes itself with this package's version and bun-storage's config key", () => {
    expect(bunStoragePlugin).toMatchObject({ name: `${packageJson.name}/bun-storage`, version: packageJson.version })
    expect(plugin.name).toBe(bunStoragePlugin.name)
    expect(bunStoragePlugin.immutableConfigSchema.parse({ bunStorage: { connectionString: ":memory:" } })).toEqual({
      bunStorage: { connectionString: ":memory:" }
    })
  })

  it("adds one BunStorage early and hands it to the agent, app and metrics services", async () => {
    const { app, added } = fakeApp()
    const services = [new AgentCheckpointService(), new AppCheckpointService(), new MetricsService()]
    const config = bunStoragePlugin.immutableConfigSchema.parse({ bunStorage: { connectionString: `sqlite:${directory}/a.sqlite` } })
    await bunStoragePlugin.earlyInstall(app, config)
    for (const service of services) app.addService(service as unknown as TokenRingService)
    const storage = added[0]
    expect(storage).toBeInstanceOf(BunStorage)
    expect(services.map((service) => service.providers)).toEqual([[storage], [storage], [storage]])
    const bun = storage as BunStorage
    await bun.start()
    const id = await bun.storeAgentCheckpoint({ agentId: "a", sessionId: "s", agentType: "t", name: "n", state: {}, createdAt: 1 })
    expect((await bun.retrieveAgentCheckpoint(id))?.id).toBe(id)
    await bun.stop()
  })

  it("registers even without a bunStorage key: the storage then lives in the workspace's database.sqlite", async () => {
    const { app, added } = fakeApp()
    await bunStoragePlugin.earlyInstall(app, bunStoragePlugin.immutableConfigSchema.parse({}))
    expect((added[0] as BunStorage).displayName).toBe(`Bun SQL sqlite (sqlite:${Path.join(directory, "database.sqlite")})`)
  })

  it("refuses a bad config through zod with BunStorage's own messages, and never echoes a password", () => {
    const parsed = bunStoragePlugin.immutableConfigSchema.safeParse({
      bunStorage: { connectionString: "postgres://u:s3cr3t@h/d", retention: { agentCheckpoints: { maxAge: "30 days" } } }
    })
    expect(parsed.success).toBe(false)
    const issues = parsed.error!.issues
    expect(issues.map((issue) => issue.path.join("."))).toEqual(["bunStorage.retention.agentCheckpoints.maxAge"])
    expect(issues[0]!.message).toContain("must be a duration")
    expect(JSON.stringify(issues)).not.toContain("s3cr3t")
  })

  it("the default export says what is missing when @tokenring-ai/checkpoint and metrics are not installed", async () => {
    const { app } = fakeApp()
    await expect(plugin.earlyInstall(app, plugin.immutableConfigSchema.parse({}))).rejects.toThrow(/makeBunStoragePlugin/)
  })
})
