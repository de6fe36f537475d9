/**
 * What the Promise facades share: a ManagedRuntime of a storage layer, built by `start()` (or lazily by the first
 * call) and released by `stop()`, on which each method runs one CheckpointStorage operation.
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
import { CheckpointStorage, type CheckpointStorageService } from "../services/CheckpointStorage.js"

// The next page of a pulled stream, or undefined at its end (where a pull fails with None).
const nextPage = <A, E, R>(
  pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>, R>
): Effect.Effect<Chunk.Chunk<A> | undefined, E, R> =>
  Effect.catchAll(pull, Option.match({ onNone: () => Effect.succeed(undefined), onSome: Effect.fail }))

interface StartedRuntime<I, S> {
  readonly managed: ManagedRuntime.ManagedRuntime<I, StorageLayerError>
  readonly runtime: Runtime.Runtime<I>
  readonly storage: S
}

/**
 * A rejection is the typed error itself (an Error with `_tag` and its fields), never a FiberFailure wrapper.
 *
 * @since 0.1.0
 */
export const rejection = (cause: Cause.Cause<unknown>): Error => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * The storage of a Promise facade: its runtime, started once and stopped on demand.
 *
 * @since 0.1.0
 */
export class StorageRuntime<I = CheckpointStorage, S = CheckpointStorageService> {
  readonly #layer: Layer.Layer<I, StorageLayerError>
  readonly #tag: Context.Tag<I, S>
  #runtime: ManagedRuntime.ManagedRuntime<I, StorageLayerError>
  /** The built runtime and the service, once the ManagedRuntime they belong to has started. */
  #started: StartedRuntime<I, S> | undefined

  /** The runtime of `layer`, whose methods run operations of the service `tag`. */
  constructor(layer: Layer.Layer<I, StorageLayerError>, tag: Context.Tag<I, S>) {
    this.#layer = layer
    this.#tag = tag
    this.#runtime = ManagedRuntime.make(layer)
  }

  /**
   * Runs one operation. Once started, it runs on the built runtime directly, started at once (`immediate`): one that
   * finishes synchronously (SQLite reads) settles without a trip through the scheduler, the others as runPromise
   * would.
   */
  run<A>(operation: (storage: S) => Effect.Effect<A, unknown>): Promise<A> {
    const started = this.#started
    if (started === undefined || started.managed !== this.#runtime) {
      const managed = this.#runtime
      return managed.runPromiseExit(Effect.flatMap(this.#tag, operation)).then((exit) => {
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

  #remember(managed: ManagedRuntime.ManagedRuntime<I, StorageLayerError>): void {
    if (this.#started?.managed === managed) return
    managed.runtime().then((runtime) => {
      if (this.#runtime === managed) {
        this.#started = { managed, runtime, storage: Context.get(runtime.context, this.#tag) }
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
  async *iterate<A>(stream: (storage: S) => Stream.Stream<A, unknown>): AsyncGenerator<A> {
    await this.start()
    const run = Runtime.runPromiseExit(await this.#runtime.runtime())
    const scope = Effect.runSync(Scope.make())
    // How the scope ends: interrupted unless the stream ended or failed, that is when the consumer stopped early.
    let outcome: Exit.Exit<unknown, unknown> = Exit.interrupt(FiberId.none)
    try {
      const items: Stream.Stream<A, unknown, I> = Stream.unwrap(Effect.map(this.#tag, stream))
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
   * Connects and applies the migrations. Calling it again is harmless. If it fails (the database is down, the config
   * is invalid) it rejects with the typed error, and the next call tries again.
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
}
