/**
 * Coalesces concurrent single-row INSERTs into multi-row INSERTs: one round trip (and one commit) for many
 * checkpoints, while each caller still gets its own id or its own error.
 *
 * A scoped service with one method, `insert(row)`, that callers wait on like on any Effect. No timer and no polling:
 * once the callers of the current turn have handed in their rows (a microtask after the first), and whenever a
 * statement finishes, the waiting rows are shared among the free places (fewer than `maxInFlight` statements
 * running; up to `maxRows` rows and `maxBytes` bytes a statement) and each share is written by one statement in a
 * fiber of the batcher's scope. A lone caller's row therefore goes at once, alone, as an ordinary INSERT; under
 * load each statement carries every row that arrived while the previous ones were in flight, so batching follows
 * the load with no added latency.
 *
 * Why share the rows rather than fill one statement first: a multi-row INSERT's time is mostly its commit, about the
 * same for 32 rows as for 64, so two statements of 32 write twice the rows of one of 64 in that time.
 *
 * - A caller interrupted while its row waits (its operation timed out, its fiber was interrupted) takes the row out
 *   of the queue: it is not written. Once its statement is sent the row's fate is the statement's.
 * - A failed multi-row INSERT is retried row by row when `retryRowByRow` allows it, so a row the database refuses
 *   fails only its own caller. Not after a lost connection: the statement may have committed.
 * - A statement is bounded by `boundStatement` (the operation timeout), so that one stuck on a connection that went
 *   silent gives its place to the rows waiting behind it.
 * - Closing the scope interrupts the statements in flight and every caller still waiting; an insert after that is
 *   interrupted at once.
 * - With `carryTrace`, a statement runs under the tracer and inside the span of the first caller it carries, so that
 *   its spans (the client's statement spans) belong to that caller's trace.
 *
 * Which id each row of a multi-row INSERT got is the dialect's business (`insertMany`): see CheckpointInserts.ts.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"

/**
 * How a batcher writes rows and how much one statement may carry.
 *
 * @internal
 */
export interface InsertBatcherOptions<Row, E> {
  /** Inserts one row and returns its id. */
  readonly insertOne: (row: Row) => Effect.Effect<string, E>
  /** Inserts the rows (two or more) in one statement, all or none, and returns their ids in the order of the rows;
   * or `undefined`, having written nothing, when this database cannot say which id each row got (the rows are then
   * written one by one). */
  readonly insertMany: (rows: ReadonlyArray<Row>) => Effect.Effect<ReadonlyArray<string> | undefined, E>
  /** Whether the rows of a failed multi-row INSERT may be written again one by one. */
  readonly retryRowByRow: (error: E) => boolean
  /** The size of a row in bytes, counted against `maxBytes`. */
  readonly sizeOf: (row: Row) => number
  /** At most this many rows per statement (bound-parameter limits: 999 on old SQLite, 65 535 on PostgreSQL). */
  readonly maxRows: number
  /** At most this many bytes per statement (MySQL refuses a packet over max_allowed_packet); a larger row goes alone. */
  readonly maxBytes: number
  /** At most this many statements in flight at once (more would only wait for a pooled connection). */
  readonly maxInFlight: number
  /** Bounds one statement (the operation timeout). */
  readonly boundStatement: <A>(statement: Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** Run each statement in the trace of the first caller it carries (see above). Default false. */
  readonly carryTrace?: boolean | undefined
}

/**
 * Inserts one row, possibly together with the rows of concurrent callers.
 *
 * @internal
 */
export interface InsertBatcher<Row, E> {
  readonly insert: (row: Row) => Effect.Effect<string, E>
}

interface Waiting<Row, E> {
  readonly row: Row
  readonly size: number
  readonly resume: (outcome: Exit.Exit<string, E>) => void
  /** The caller's tracer and span, with `carryTrace`. */
  readonly trace: CallerTrace | undefined
  /** Set once its statement takes it: from then on it cannot be taken back. */
  sent: boolean
}

interface CallerTrace {
  readonly tracer: Tracer.Tracer
  readonly span: Option.Option<Tracer.AnySpan>
}

const callerTrace: Effect.Effect<CallerTrace> = Effect.zipWith(
  Effect.tracer,
  Effect.option(Effect.currentSpan),
  (tracer, span) => ({ tracer, span })
)

const inTrace = (trace: CallerTrace | undefined) => <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  if (trace === undefined) return effect
  const traced = Effect.withTracer(effect, trace.tracer)
  return Option.isSome(trace.span) ? Effect.withParentSpan(traced, trace.span.value) : traced
}

/**
 * Builds a batcher whose statements run in fibers of the current scope; closing the scope interrupts them.
 *
 * @internal
 */
export const makeInsertBatcher = <Row, E>(
  options: InsertBatcherOptions<Row, E>
): Effect.Effect<InsertBatcher<Row, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runFork = yield* FiberSet.makeRuntime<never, void, never>()
    const queue: Array<Waiting<Row, E>> = []
    let inFlight = 0
    let pumpScheduled = false
    let closed = false
    const interrupted = Exit.interrupt(FiberId.none)
    // Runs before the fiber set's own finalizer (finalizers run in reverse order): nothing new is sent, the waiting
    // callers are let go, then the statements in flight are interrupted (and let their callers go, see write).
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        for (const waiting of queue.splice(0)) waiting.resume(interrupted)
      })
    )

    // The oldest waiting rows, up to `count` and the statement's limits (at least one row).
    const takeBatch = (count: number): Array<Waiting<Row, E>> => {
      const batch: Array<Waiting<Row, E>> = []
      let bytes = 0
      while (queue.length > 0 && batch.length < count) {
        const next = queue[0]!
        if (batch.length > 0 && bytes + next.size > options.maxBytes) break
        queue.shift()
        next.sent = true
        bytes += next.size
        batch.push(next)
      }
      return batch
    }

    const writeOne = (waiting: Waiting<Row, E>) =>
      Effect.map(Effect.exit(options.boundStatement(options.insertOne(waiting.row))), (exit) => waiting.resume(exit))

    const writeOneByOne = (batch: ReadonlyArray<Waiting<Row, E>>) => Effect.forEach(batch, writeOne, { discard: true })

    const writeAll = (batch: ReadonlyArray<Waiting<Row, E>>): Effect.Effect<void> => {
      if (batch.length === 1) return writeOne(batch[0]!)
      return Effect.flatMap(
        Effect.exit(options.boundStatement(options.insertMany(batch.map((waiting) => waiting.row)))),
        (exit) => {
          if (Exit.isSuccess(exit)) {
            const ids = exit.value
            if (ids === undefined) return writeOneByOne(batch)
            return Effect.sync(() => batch.forEach((waiting, index) => waiting.resume(Exit.succeed(ids[index]!))))
          }
          const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
          if (failure !== undefined && options.retryRowByRow(failure)) return writeOneByOne(batch)
          return Effect.sync(() => batch.forEach((waiting) => waiting.resume(exit as Exit.Exit<never, E>)))
        }
      )
    }
    // A batch interrupted with the scope lets its callers go (resuming one already answered does nothing).
    const write = (batch: ReadonlyArray<Waiting<Row, E>>) =>
      Effect.onInterrupt(
        inTrace(batch[0]!.trace)(writeAll(batch)),
        () => Effect.sync(() => batch.forEach((waiting) => waiting.resume(interrupted)))
      )

    const pump = (): void => {
      pumpScheduled = false
      while (!closed && inFlight < options.maxInFlight && queue.length > 0) {
        const share = Math.min(options.maxRows, Math.ceil(queue.length / (options.maxInFlight - inFlight)))
        const batch = takeBatch(share)
        inFlight++
        runFork(Effect.ensuring(
          write(batch),
          Effect.sync(() => {
            inFlight--
            schedulePump()
          })
        ))
      }
    }
    // After the current turn: the callers resumed by a statement, or started together, hand in their rows first.
    const schedulePump = (): void => {
      if (pumpScheduled || queue.length === 0) return
      pumpScheduled = true
      queueMicrotask(pump)
    }

    const enqueue = (row: Row, trace: CallerTrace | undefined): Effect.Effect<string, E> =>
      Effect.async<string, E>((resume) => {
        if (closed) return resume(interrupted)
        const waiting: Waiting<Row, E> = { row, size: options.sizeOf(row), resume, trace, sent: false }
        queue.push(waiting)
        schedulePump()
        return Effect.sync(() => {
          if (waiting.sent) return
          const index = queue.indexOf(waiting)
          if (index >= 0) queue.splice(index, 1)
        })
      })

    const insert = options.carryTrace === true
      ? (row: Row) => Effect.flatMap(callerTrace, (trace) => enqueue(row, trace))
      : (row: Row) => enqueue(row, undefined)

    return { insert }
  })
