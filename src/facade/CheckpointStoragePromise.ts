/**
 * The Promise facade: Token Ring's storage classes as thin adapters over one ManagedRuntime of a storage layer.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import type { StorageLayerError } from "../internal/clientLayer.js"
import type {
  AgentCheckpointListItem,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint
} from "../schema/AgentCheckpoint.js"
import type { AppSessionCheckpoint, AppSessionListItem, StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"
import type { AgentCheckpointStorage, AppCheckpointStorage, TokenRingService } from "./TokenRing.js"

// A rejection is the typed error itself (an Error with `_tag` and its fields), never a FiberFailure wrapper.
const rejection = (cause: Cause.Cause<unknown>): Error => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * What the three storage classes share: a ManagedRuntime of the storage layer, built by `start()` (or lazily by the
 * first call) and released by `stop()`. Every method runs one CheckpointStorage operation; there is no SQL, no
 * validation and no error mapping here.
 *
 * @since 0.1.0
 */
export abstract class CheckpointStoragePromise implements TokenRingService, AgentCheckpointStorage, AppCheckpointStorage {
  abstract readonly name: string
  abstract readonly description: string
  abstract readonly displayName: string

  readonly #layer: Layer.Layer<CheckpointStorage, StorageLayerError>
  #runtime: ManagedRuntime.ManagedRuntime<CheckpointStorage, StorageLayerError>

  protected constructor(layer: Layer.Layer<CheckpointStorage, StorageLayerError>) {
    this.#layer = layer
    this.#runtime = ManagedRuntime.make(layer)
  }

  #run<A>(operation: (storage: CheckpointStorageService) => Effect.Effect<A, unknown>): Promise<A> {
    return this.#runtime.runPromiseExit(Effect.flatMap(CheckpointStorage, operation)).then((exit) =>
      Exit.isSuccess(exit) ? exit.value : Promise.reject(rejection(exit.cause))
    )
  }

  /**
   * Connects and applies the migrations. Calling it again is harmless. Methods called before it start the storage
   * themselves. If it fails (the database is down, the config is invalid) it rejects with the typed error, and the
   * next call tries again.
   */
  async start(): Promise<void> {
    const runtime = this.#runtime
    const exit = await runtime.runPromiseExit(Effect.void)
    if (Exit.isFailure(exit)) {
      if (this.#runtime === runtime) this.#runtime = ManagedRuntime.make(this.#layer)
      await runtime.dispose()
      throw rejection(exit.cause)
    }
  }

  /** Closes every connection so that the process can exit. The storage can be started again afterwards. */
  async stop(): Promise<void> {
    const runtime = this.#runtime
    this.#runtime = ManagedRuntime.make(this.#layer)
    await runtime.dispose()
  }

  /** The same as {@link stop}. */
  close(): Promise<void> {
    return this.stop()
  }

  storeAgentCheckpoint(checkpoint: NamedAgentCheckpoint): Promise<string> {
    return this.#run((storage) => storage.storeAgentCheckpoint(checkpoint))
  }

  /** The checkpoint, or null when there is none with this id (also for ids such as "abc"). */
  retrieveAgentCheckpoint(id: string): Promise<StoredAgentCheckpoint | null> {
    return this.#run((storage) => Effect.map(storage.retrieveAgentCheckpoint(id), Option.getOrNull))
  }

  listAgentCheckpoints(): Promise<Array<AgentCheckpointListItem>> {
    return this.#run((storage) => Effect.map(storage.listAgentCheckpoints(), (items) => [...items]))
  }

  storeAppCheckpoint(checkpoint: AppSessionCheckpoint): Promise<string> {
    return this.#run((storage) => storage.storeAppCheckpoint(checkpoint))
  }

  retrieveAppCheckpoint(id: string): Promise<StoredAppCheckpoint | null> {
    return this.#run((storage) => Effect.map(storage.retrieveAppCheckpoint(id), Option.getOrNull))
  }

  listAppCheckpoints(): Promise<Array<AppSessionListItem>> {
    return this.#run((storage) => Effect.map(storage.listAppCheckpoints(), (items) => [...items]))
  }

  retrieveLatestAppCheckpoint(): Promise<StoredAppCheckpoint | null> {
    return this.#run((storage) => Effect.map(storage.retrieveLatestAppCheckpoint(), Option.getOrNull))
  }
}
