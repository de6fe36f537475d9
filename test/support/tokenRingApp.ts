/**
 * A stand-in for a Token Ring app (the packages are not on the npm registry): what BunStorage calls on it, recorded.
 */
import * as Path from "node:path"
import {
  type CheckpointStoragePromise,
  MySQLStorage,
  PostgresStorage,
  SQLiteStorage,
  type StorageConfig,
  type TokenRingService
} from "../../src/index.js"
import type { TokenRingApp } from "../../src/facade/TokenRingBun.js"

export interface RecordingApp {
  readonly app: TokenRingApp
  readonly output: Array<ReadonlyArray<unknown>>
  readonly errors: Array<ReadonlyArray<unknown>>
  readonly services: Array<TokenRingService>
}

export const recordingApp = (workspace = "/tmp/workspace"): RecordingApp => {
  const output: Array<ReadonlyArray<unknown>> = []
  const errors: Array<ReadonlyArray<unknown>> = []
  const services: Array<TokenRingService> = []
  return {
    app: {
      getWorkspaceResolvedPath: (path) => Path.join(workspace, path),
      serviceOutput: (_service, ...messages) => output.push(messages),
      serviceError: (_service, ...messages) => errors.push(messages),
      addService: (service) => services.push(service),
      waitForService: () => {}
    },
    output,
    errors,
    services
  }
}

/** The connection string bun-storage takes for a test database. */
export const connectionStringOf = (config: StorageConfig): string =>
  config.type === "sqlite" ? `sqlite:${config.databasePath}` : String(config.connectionString)

/** The older generation's class (drizzle-storage's) for a test database's config. */
export const olderStorageFor = (config: StorageConfig): CheckpointStoragePromise => {
  switch (config.type) {
    case "sqlite":
      return new SQLiteStorage(config)
    case "mysql":
      return new MySQLStorage(config)
    case "postgres":
      return new PostgresStorage(config)
  }
}
