/**
 * The Token Ring plugin of `BunStorage` (`effect-checkpoint-storage/bun-storage/plugin`): the drop-in for
 * bun-storage 0.2's plugin. Early in the app's start it adds the storage as a service and hands it to the agent
 * checkpoint, app checkpoint and metrics services.
 *
 * zod is needed by this module only (a peer dependency of the plugin).
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import * as z from "zod"
import { CheckpointValidationError } from "../services/CheckpointStorageError.js"
import { BunStorage } from "./BunStorage.js"
import { type BunStorageConfig, validateBunStorageConfig } from "./BunStorageConfig.js"
import type { MaybePromise } from "./TokenRing.js"
import type { TokenRingApp } from "./TokenRingBun.js"

const packageJson = createRequire(import.meta.url)("../../package.json") as {
  readonly name: string
  readonly version: string
  readonly description: string
}

/**
 * The `bunStorage` config as zod checks it for the app. The rules are BunStorage's own (BunStorageConfig.ts): zod
 * reports their issues, so the config is checked once, by one schema. Absent, it is `{}`.
 *
 * @since 0.1.0
 */
export const BunStorageConfigSchema = z.unknown().optional().transform((value, context): BunStorageConfig => {
  try {
    return validateBunStorageConfig(value)
  } catch (error) {
    if (!(error instanceof CheckpointValidationError)) throw error
    for (const issue of error.issues) {
      context.addIssue({ code: "custom", message: issue.message, path: issue.path === "" ? [] : issue.path.split(".") })
    }
    return z.NEVER
  }
})

/**
 * The plugin's config: the `bunStorage` key of the Token Ring app's config.
 *
 * @since 0.1.0
 */
export const packageConfigSchema = z.object({ bunStorage: BunStorageConfigSchema })

/**
 * @since 0.1.0
 */
export type BunStoragePluginConfig = z.output<typeof packageConfigSchema>

/**
 * A class of a service the storage is handed to, as `app.waitForService` takes it.
 *
 * @since 0.1.0
 */
export type ServiceClass<T> = abstract new(...args: Array<never>) => T

/**
 * The services of `@tokenring-ai/checkpoint` and `@tokenring-ai/metrics` the plugin hands the storage to.
 *
 * @since 0.1.0
 */
export interface BunStorageServices {
  readonly AgentCheckpointService: ServiceClass<{ setCheckpointProvider(provider: BunStorage): void }>
  readonly AppCheckpointService: ServiceClass<{ setCheckpointProvider(provider: BunStorage): void }>
  readonly MetricsService: ServiceClass<{ setMetricsProvider(provider: BunStorage): void }>
}

/**
 * A Token Ring plugin installed early, with an immutable config.
 *
 * @since 0.1.0
 */
export interface BunStoragePlugin {
  readonly name: string
  readonly displayName: string
  readonly version: string
  readonly description: string
  readonly immutableConfigSchema: typeof packageConfigSchema
  earlyInstall(app: TokenRingApp, config: BunStoragePluginConfig): MaybePromise<void>
}

const pluginInfo = {
  name: `${packageJson.name}/bun-storage`,
  displayName: "Bun Storage (effect-checkpoint-storage)",
  version: packageJson.version,
  description: packageJson.description,
  immutableConfigSchema: packageConfigSchema
} as const

/**
 * The plugin, given the service classes it hands the storage to.
 *
 * @since 0.1.0
 */
export const makeBunStoragePlugin = (services: BunStorageServices): BunStoragePlugin => ({
  ...pluginInfo,
  earlyInstall(app, config) {
    const storage = new BunStorage(config.bunStorage, app)
    app.addService(storage)
    app.waitForService(services.AgentCheckpointService, (service) => service.setCheckpointProvider(storage))
    app.waitForService(services.AppCheckpointService, (service) => service.setCheckpointProvider(storage))
    app.waitForService(services.MetricsService, (service) => service.setMetricsProvider(storage))
  }
})

// A variable specifier: the packages are optional peers that TypeScript (and bundlers) must not try to resolve.
const importDefault = async <T>(specifier: string): Promise<ServiceClass<T>> => {
  const module: unknown = await import(specifier)
  const exported = typeof module === "object" && module !== null && "default" in module ? module.default : undefined
  if (typeof exported !== "function") throw new Error(`${specifier} has no default export class`)
  return exported as ServiceClass<T>
}

/**
 * The plugin with the services of `@tokenring-ai/checkpoint` and `@tokenring-ai/metrics`, loaded by `earlyInstall`.
 * When they are missing, it rejects with an Error that says so (use {@link makeBunStoragePlugin} to pass the classes
 * yourself).
 *
 * @since 0.1.0
 */
const plugin: BunStoragePlugin = {
  ...pluginInfo,
  async earlyInstall(app, config) {
    let services: BunStorageServices
    try {
      const [AgentCheckpointService, AppCheckpointService, MetricsService] = await Promise.all([
        importDefault<{ setCheckpointProvider(provider: BunStorage): void }>("@tokenring-ai/checkpoint/AgentCheckpointService"),
        importDefault<{ setCheckpointProvider(provider: BunStorage): void }>("@tokenring-ai/checkpoint/AppCheckpointService"),
        importDefault<{ setMetricsProvider(provider: BunStorage): void }>("@tokenring-ai/metrics/MetricsService")
      ])
      services = { AgentCheckpointService, AppCheckpointService, MetricsService }
    } catch (cause) {
      throw new Error(
        "effect-checkpoint-storage/bun-storage/plugin needs @tokenring-ai/checkpoint (AgentCheckpointService, " +
          "AppCheckpointService) and @tokenring-ai/metrics (MetricsService) and could not load them; install them, " +
          "or build the plugin with makeBunStoragePlugin({ AgentCheckpointService, AppCheckpointService, MetricsService })",
        { cause }
      )
    }
    return makeBunStoragePlugin(services).earlyInstall(app, config)
  }
}

export default plugin
