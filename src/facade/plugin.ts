/**
 * The Token Ring plugin (`effect-checkpoint-storage/plugin`): the drop-in for drizzle-storage's plugin. It reads the
 * `drizzleStorage` key of the app's config, registers the storage and hands it to both checkpoint services.
 *
 * zod is needed by this module only (a peer dependency of the plugin).
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import * as z from "zod"
import { MySQLStorage, PostgresStorage, SQLiteStorage } from "./StorageClasses.js"
import type { AgentCheckpointStorage, AppCheckpointStorage, MaybePromise, TokenRingService } from "./TokenRing.js"

const packageJson = createRequire(import.meta.url)("../../package.json") as {
  readonly name: string
  readonly version: string
  readonly description: string
}

/**
 * drizzle-storage's config schema, discriminated on `type`.
 *
 * @since 0.1.0
 */
export const DrizzleStorageConfigSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("sqlite"), databasePath: z.string(), migrationsFolder: z.string().optional() }),
  z.object({ type: z.literal("postgres"), connectionString: z.string() }),
  z.object({ type: z.literal("mysql"), connectionString: z.string() })
])

/**
 * The plugin's config: the `drizzleStorage` key of the Token Ring app's config file.
 *
 * @since 0.1.0
 */
export const packageConfigSchema = z.object({ drizzleStorage: DrizzleStorageConfigSchema })

/**
 * @since 0.1.0
 */
export type PluginConfig = z.infer<typeof packageConfigSchema>

/**
 * The storage the plugin creates: a Token Ring service that is both checkpoint storages.
 *
 * @since 0.1.0
 */
export type CheckpointProvider = TokenRingService & AgentCheckpointStorage & AppCheckpointStorage

/**
 * A checkpoint service of @tokenring-ai/checkpoint (`AgentCheckpointService`, `AppCheckpointService`).
 *
 * @since 0.1.0
 */
export interface CheckpointService {
  setCheckpointProvider(provider: CheckpointProvider): void
}

/**
 * A class of such a service, as `waitForItemByType` takes it.
 *
 * @since 0.1.0
 */
export type CheckpointServiceClass = abstract new(...args: Array<never>) => CheckpointService

/**
 * The part of a Token Ring app the plugin uses.
 *
 * @since 0.1.0
 */
export interface TokenRingApp {
  readonly services: {
    register(service: TokenRingService): void
    waitForItemByType<T>(type: abstract new(...args: Array<never>) => T, callback: (service: T) => void): void
  }
}

/**
 * A Token Ring plugin with a config schema.
 *
 * @since 0.1.0
 */
export interface TokenRingPlugin {
  readonly name: string
  readonly displayName: string
  readonly version: string
  readonly description: string
  readonly config: typeof packageConfigSchema
  install(app: TokenRingApp, config: PluginConfig): MaybePromise<void>
}

/**
 * The storage for a `drizzleStorage` config.
 *
 * @since 0.1.0
 */
export const makeStorage = (config: PluginConfig["drizzleStorage"]): CheckpointProvider => {
  switch (config.type) {
    case "sqlite":
      return new SQLiteStorage(config)
    case "mysql":
      return new MySQLStorage(config)
    case "postgres":
      return new PostgresStorage(config)
  }
}

const pluginInfo = {
  name: packageJson.name,
  displayName: "Effect Checkpoint Storage",
  version: packageJson.version,
  description: packageJson.description,
  config: packageConfigSchema
} as const

/**
 * The plugin, given the two checkpoint service classes it hands the storage to.
 *
 * @example
 * ```ts
 * import AgentCheckpointService from "@tokenring-ai/checkpoint/AgentCheckpointService"
 * import AppCheckpointService from "@tokenring-ai/checkpoint/AppCheckpointService"
 * import { makeTokenRingPlugin } from "effect-checkpoint-storage/plugin"
 *
 * export default makeTokenRingPlugin({ AgentCheckpointService, AppCheckpointService })
 * ```
 *
 * @since 0.1.0
 */
export const makeTokenRingPlugin = (services: {
  readonly AgentCheckpointService: CheckpointServiceClass
  readonly AppCheckpointService: CheckpointServiceClass
}): TokenRingPlugin => ({
  ...pluginInfo,
  install(app, config) {
    if (!config.drizzleStorage) return
    const storage = makeStorage(config.drizzleStorage)
    app.services.register(storage)
    app.services.waitForItemByType(services.AgentCheckpointService, (service) => service.setCheckpointProvider(storage))
    app.services.waitForItemByType(services.AppCheckpointService, (service) => service.setCheckpointProvider(storage))
  }
})

const CHECKPOINT_PACKAGE = "@tokenring-ai/checkpoint"

// A variable specifier: the package is an optional peer that TypeScript (and bundlers) must not try to resolve.
const importDefault = async (specifier: string): Promise<CheckpointServiceClass> => {
  const module: unknown = await import(specifier)
  const exported = typeof module === "object" && module !== null && "default" in module ? module.default : undefined
  if (typeof exported !== "function") throw new Error(`${specifier} has no default export class`)
  return exported as CheckpointServiceClass
}

/**
 * The plugin with the checkpoint services of `@tokenring-ai/checkpoint`, loaded when the plugin is installed. When
 * that package is missing, `install` rejects with an Error that says so (use {@link makeTokenRingPlugin} to pass
 * the classes yourself).
 *
 * @since 0.1.0
 */
const plugin: TokenRingPlugin = {
  ...pluginInfo,
  async install(app, config) {
    let services: Parameters<typeof makeTokenRingPlugin>[0]
    try {
      const [AgentCheckpointService, AppCheckpointService] = await Promise.all([
        importDefault(`${CHECKPOINT_PACKAGE}/AgentCheckpointService`),
        importDefault(`${CHECKPOINT_PACKAGE}/AppCheckpointService`)
      ])
      services = { AgentCheckpointService, AppCheckpointService }
    } catch (cause) {
      throw new Error(
        `effect-checkpoint-storage/plugin needs ${CHECKPOINT_PACKAGE} (its AgentCheckpointService and ` +
          `AppCheckpointService) and could not load it; install it, or build the plugin with ` +
          `makeTokenRingPlugin({ AgentCheckpointService, AppCheckpointService })`,
        { cause }
      )
    }
    return makeTokenRingPlugin(services).install(app, config)
  }
}

export default plugin
