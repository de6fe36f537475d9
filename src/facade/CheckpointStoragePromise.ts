/**
 * The Promise facade: Token Ring's storage classes as thin adapters over one ManagedRuntime of a storage layer.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { StorageLayerError } from "../internal/clientLayer.js"
import type {
  AgentCheckpointListItem,
  NamedAgentCheckpoint,
  StoredAgentCheckpoint
} from "../schema/AgentCheckpoint.js"
import type { AppSessionCheckpoint, AppSessionListItem, StoredAppCheckpoint } from "../schema/AppCheckpoint.js"
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"
import {
  type AgentCheckpointChanges,
  type AgentCheckpointFilter,
  type AgentCheckpointListOptions,
  type AgentCheckpointSelector,
  type AppCheckpointChanges,
  type AppCheckpointFilter,
  type AppCheckpointListOptions,
  type AppCheckpointSelector,
  type CheckpointPage,
  type CheckpointStreamOptions,
  DEFAULT_PAGE_SIZE,
  type PrunePlan,
  type PruneResult,
  type RetentionPolicy,
  type SessionStatistics,
  type TableStatistics
} from "../schema/CheckpointQuery.js"
import type {
  AgentCheckpointStorage,
  AppCheckpointStorage,
  CheckpointListOptions,
  PaginatedResult,
  TokenRingService
} from "./TokenRing.js"

/**
 * A page with a keyset cursor, for Promise callers.
 *
 * @since 0.1.0
 */
export interface CursorPage<A> {
  readonly items: Array<A>
  readonly nextCursor: string | null
  readonly total: number | null
}

/**
 * Table statistics with `null` for the times of an empty table.
 *
 * @since 0.1.0
 */
export interface PlainTableStatistics {
  readonly count: number
  readonly totalBytes: number
  readonly largestBytes: number
  readonly oldestCreatedAt: number | null
  readonly newestCreatedAt: number | null
}

const toCursorPage = <A>(page: CheckpointPage<A>): CursorPage<A> => ({
  items: [...page.items],
  nextCursor: Option.getOrNull(page.nextCursor),
  total: Option.getOrNull(page.total)
})

const toPaginated = (options: CheckpointListOptions) => <A>(page: CheckpointPage<A>): PaginatedResult<A> => ({
  items: [...page.items],
  total: Option.getOrElse(page.total, () => page.items.length),
  hasMore: Option.isSome(page.nextCursor),
  limit: options.limit ?? DEFAULT_PAGE_SIZE,
  offset: options.offset ?? 0
})

const toPlainStatistics = (statistics: TableStatistics): PlainTableStatistics => ({
  ...statistics,
  oldestCreatedAt: Option.getOrNull(statistics.oldestCreatedAt),
  newestCreatedAt: Option.getOrNull(statistics.newestCreatedAt)
})

// The next page of a pulled stream, or undefined at its end (where a pull fails with None).
const nextPage = <A, E, R>(
  pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>, R>
): Effect.Effect<Chunk.Chunk<A> | undefined, E, R> =>
  Effect.catchAll(pull, Option.match({ onNone: () => Effect.succeed(undefined), onSome: Effect.fail }))

interface StartedRuntime {
  readonly managed: ManagedRuntime.ManagedRuntime<CheckpointStorage, StorageLayerError>
  readonly runtime: Runtime.Runtime<CheckpointStorage>
  readonly storage: CheckpointStorageService
}

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

  /** The built runtime and the service, once the ManagedRuntime they belong to has started. */
  #started: StartedRuntime | undefined

  // Once started, an operation runs on the built runtime directly, started at once (`immediate`): one that finishes
  // synchronously (SQLite reads) settles without a trip through the scheduler, the others as runPromise would.
  #run<A>(operation: (storage: CheckpointStorageService) => Effect.Effect<A, unknown>): Promise<A> {
    const started = this.#started
    if (started === undefined || started.managed !== this.#runtime) {
      const managed = this.#runtime
      return managed.runPromiseExit(Effect.flatMap(CheckpointStorage, operation)).then((exit) => {
        if (Exit.isFailure(exit)) return Promise.reject(rejection(exit.cause))
        this.#remember(managed)
        return exit.value
      })
    }
    const fiber = Runtime.runFork(started.runtime)(operation(started.storage), { immediate: true })
    const done = fiber.unsafePoll()
    if (done !== null) return Exit.isSuccess(done) ? Promise.resolve(done.value) : Promise.reject(rejection(done.cause))
    return new Promise((resolve, reject) =>
      fiber.addObserver((exit) => Exit.isSuccess(exit) ? resolve(exit.value) : reject(rejection(exit.cause)))
    )
  }

  #remember(managed: ManagedRuntime.ManagedRuntime<CheckpointStorage, StorageLayerError>): void {
    if (this.#started?.managed === managed) return
    managed.runtime().then((runtime) => {
      if (this.#runtime === managed) {
        this.#started = { managed, runtime, storage: Context.get(runtime.context, CheckpointStorage) }
      }
    }, () => {})
  }

  // A stream as an async iterable, pulled a page (one chunk) at a time: one Effect run per page, and the next page is
  // read only once the consumer has taken every item of this one. Not Stream.toAsyncIterableRuntime: it runs a fiber
  // step, a latch and a Promise per item, about 5.6 KiB of garbage each (625 MiB to list 100k rows, against 61 for the
  // stream itself). The scavenges that garbage triggers promote the page in flight to the old generation, freed only
  // by a full GC: peak RSS reached 96 MiB above the baseline where the stream took 50 (bench/worker.ts `memory`); the
  // two are now alike. `for…of` with `yield`, not `yield*`, which wraps a synchronous iterable in an async one (more
  // Promises per item).
  // It fails with the typed error itself, like the methods; leaving a `for await` early (return()) runs `finally`,
  // which closes the stream's scope.
  async *#iterate<A>(stream: (storage: CheckpointStorageService) => Stream.Stream<A, unknown>): AsyncGenerator<A> {
    await this.start()
    const run = Runtime.runPromiseExit(await this.#runtime.runtime())
    const scope = Effect.runSync(Scope.make())
    // How the scope ends: interrupted unless the stream ended or failed, that is when the consumer stopped early.
    let outcome: Exit.Exit<unknown, unknown> = Exit.interrupt(FiberId.none)
    try {
      const items: Stream.Stream<A, unknown, CheckpointStorage> = Stream.unwrap(Effect.map(CheckpointStorage, stream))
      const opened = await run(Effect.map(Scope.extend(Stream.toPull(items), scope), nextPage))
      if (Exit.isFailure(opened)) {
        outcome = opened
        throw rejection(opened.cause)
      }
      while (true) {
        const page = await run(opened.value)
        if (Exit.isFailure(page)) {
          outcome = page
          throw rejection(page.cause)
        }
        if (page.value === undefined) {
          outcome = Exit.void
          return
        }
        for (const item of Chunk.toReadonlyArray(page.value)) yield item
      }
    } finally {
      // A failing finalizer rejects only a stream that ended well: it must not hide the stream's own error, and a
      // consumer that stopped early is no longer listening.
      const closed = await run(Scope.close(scope, outcome))
      if (Exit.isFailure(closed) && Exit.isSuccess(outcome)) throw rejection(closed.cause)
    }
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
    this.#remember(runtime)
  }

  /** Closes every connection so that the process can exit. The storage can be started again afterwards. */
  async stop(): Promise<void> {
    const runtime = this.#runtime
    this.#runtime = ManagedRuntime.make(this.#layer)
    this.#started = undefined
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

  /**
   * Without options: every agent checkpoint, newest first (Token Ring's list). With Token Ring's paginated options
   * (`{ sessionId, limit, offset, … }`): a `PaginatedResult`.
   */
  listAgentCheckpoints(): Promise<Array<AgentCheckpointListItem>>
  listAgentCheckpoints(options: CheckpointListOptions): Promise<PaginatedResult<AgentCheckpointListItem>>
  listAgentCheckpoints(
    options?: CheckpointListOptions
  ): Promise<Array<AgentCheckpointListItem> | PaginatedResult<AgentCheckpointListItem>> {
    if (options === undefined) {
      return this.#run((storage) => Effect.map(storage.listAgentCheckpoints(), (items) => [...items]))
    }
    const { hostname: _, projectDirectory: __, ...query } = options
    return this.#run((storage) => Effect.map(storage.listAgentCheckpoints({ ...query, includeTotal: true }), toPaginated(options)))
  }

  storeAppCheckpoint(checkpoint: AppSessionCheckpoint): Promise<string> {
    return this.#run((storage) => storage.storeAppCheckpoint(checkpoint))
  }

  retrieveAppCheckpoint(id: string): Promise<StoredAppCheckpoint | null> {
    return this.#run((storage) => Effect.map(storage.retrieveAppCheckpoint(id), Option.getOrNull))
  }

  /** Without options: every app checkpoint, newest first. With options: a `PaginatedResult`. */
  listAppCheckpoints(): Promise<Array<AppSessionListItem>>
  listAppCheckpoints(options: CheckpointListOptions): Promise<PaginatedResult<AppSessionListItem>>
  listAppCheckpoints(
    options?: CheckpointListOptions
  ): Promise<Array<AppSessionListItem> | PaginatedResult<AppSessionListItem>> {
    if (options === undefined) {
      return this.#run((storage) => Effect.map(storage.listAppCheckpoints(), (items) => [...items]))
    }
    const { agentId: _, agentType: __, ...query } = options
    return this.#run((storage) => Effect.map(storage.listAppCheckpoints({ ...query, includeTotal: true }), toPaginated(options)))
  }

  /** The newest app checkpoint, of those matching the filter if one is given, or null. */
  retrieveLatestAppCheckpoint(filter?: AppCheckpointFilter): Promise<StoredAppCheckpoint | null> {
    return this.#run((storage) => Effect.map(storage.retrieveLatestAppCheckpoint(filter), Option.getOrNull))
  }

  // --- Beyond Token Ring's interfaces: the same operations as the Effect service ---------------------------------

  /** One page with a keyset cursor: pass `nextCursor` back as `cursor` for the next page (null on the last). */
  listAgentCheckpointPage(options: AgentCheckpointListOptions): Promise<CursorPage<AgentCheckpointListItem>> {
    return this.#run((storage) => Effect.map(storage.listAgentCheckpoints(options), toCursorPage))
  }

  listAppCheckpointPage(options: AppCheckpointListOptions): Promise<CursorPage<AppSessionListItem>> {
    return this.#run((storage) => Effect.map(storage.listAppCheckpoints(options), toCursorPage))
  }

  /** Every matching agent checkpoint, read a page at a time (`for await … of`). */
  streamAgentCheckpoints(
    options: AgentCheckpointFilter & CheckpointStreamOptions & { readonly includeState: true }
  ): AsyncIterable<StoredAgentCheckpoint>
  streamAgentCheckpoints(options?: AgentCheckpointFilter & CheckpointStreamOptions): AsyncIterable<AgentCheckpointListItem>
  streamAgentCheckpoints(
    options?: AgentCheckpointFilter & CheckpointStreamOptions
  ): AsyncIterable<AgentCheckpointListItem | StoredAgentCheckpoint> {
    return this.#iterate((storage) => storage.streamAgentCheckpoints(options))
  }

  streamAppCheckpoints(
    options: AppCheckpointFilter & CheckpointStreamOptions & { readonly includeState: true }
  ): AsyncIterable<StoredAppCheckpoint>
  streamAppCheckpoints(options?: AppCheckpointFilter & CheckpointStreamOptions): AsyncIterable<AppSessionListItem>
  streamAppCheckpoints(
    options?: AppCheckpointFilter & CheckpointStreamOptions
  ): AsyncIterable<AppSessionListItem | StoredAppCheckpoint> {
    return this.#iterate((storage) => storage.streamAppCheckpoints(options))
  }

  /** The newest agent checkpoint matching the filter (`{ sessionId }`, `{ agentId }`, …), or null. */
  retrieveLatestAgentCheckpoint(filter?: AgentCheckpointFilter): Promise<StoredAgentCheckpoint | null> {
    return this.#run((storage) => Effect.map(storage.retrieveLatestAgentCheckpoint(filter), Option.getOrNull))
  }

  /** Deletes one agent checkpoint; resolves to the number of rows removed (0 or 1). */
  deleteAgentCheckpoint(id: string): Promise<number> {
    return this.#run((storage) => storage.deleteAgentCheckpoint(id))
  }

  deleteAppCheckpoint(id: string): Promise<number> {
    return this.#run((storage) => storage.deleteAppCheckpoint(id))
  }

  /** Erases every agent checkpoint of a session and/or an agent; resolves to the number of rows removed. */
  deleteAgentCheckpoints(selector: AgentCheckpointSelector): Promise<number> {
    return this.#run((storage) => storage.deleteAgentCheckpoints(selector))
  }

  deleteAppCheckpoints(selector: AppCheckpointSelector): Promise<number> {
    return this.#run((storage) => storage.deleteAppCheckpoints(selector))
  }

  /** Applies a retention policy now; resolves to the rows removed per table. */
  prune(policy: RetentionPolicy, options?: { readonly batchSize?: number | undefined }): Promise<PruneResult> {
    return this.#run((storage) => storage.prune(policy, options))
  }

  /** What `prune` would delete now, per table: how many, their bytes, and the first `sampleSize` (default 10). */
  planPrune(
    policy: RetentionPolicy,
    options?: { readonly sampleSize?: number | undefined }
  ): Promise<PrunePlan<AgentCheckpointListItem, AppSessionListItem>> {
    return this.#run((storage) => storage.planPrune(policy, options))
  }

  /** Per session, the sessions with the newest checkpoints first (at most `limit`, default 20), per table. */
  sessionStatistics(options?: { readonly limit?: number | undefined }): Promise<{
    readonly agentCheckpoints: ReadonlyArray<SessionStatistics>
    readonly appCheckpoints: ReadonlyArray<SessionStatistics>
  }> {
    return this.#run((storage) => storage.sessionStatistics(options))
  }

  /** Count, total and largest state size, oldest and newest createdAt (null when empty), per table. */
  statistics(): Promise<{ readonly agentCheckpoints: PlainTableStatistics; readonly appCheckpoints: PlainTableStatistics }> {
    return this.#run((storage) =>
      Effect.map(storage.statistics(), (statistics) => ({
        agentCheckpoints: toPlainStatistics(statistics.agentCheckpoints),
        appCheckpoints: toPlainStatistics(statistics.appCheckpoints)
      }))
    )
  }

  /** The agent checkpoint and its ancestors, back to the root. */
  async listAgentLineage(id: string): Promise<Array<AgentCheckpointListItem>> {
    return [...await this.#run((storage) => storage.listAgentLineage(id))]
  }

  async listAppLineage(id: string): Promise<Array<AppSessionListItem>> {
    return [...await this.#run((storage) => storage.listAppLineage(id))]
  }

  /** Stores a new agent checkpoint continuing from `id`, with the changes applied; resolves to its id. */
  forkAgentCheckpoint(id: string, changes?: AgentCheckpointChanges): Promise<string> {
    return this.#run((storage) => storage.forkAgentCheckpoint(id, changes))
  }

  forkAppCheckpoint(id: string, changes?: AppCheckpointChanges): Promise<string> {
    return this.#run((storage) => storage.forkAppCheckpoint(id, changes))
  }
}
