/**
 * Coalesces concurrent single-row INSERTs into multi-row INSERTs: one round trip (and one commit) for many
 * checkpoints, while each caller still gets its own id or its own error.
 *
 * Design (no timer of its own, no polling, so a lone caller pays nothing but one statement):
 *
 * - A caller hands its row to the batcher and waits: a callback (`submit`, what the storage's hot path and the
 *   Promise facade use) or an Effect (`Effect.async`: no fiber of its own, no Deferred). Whenever
 *   fewer than `maxInFlight` statements are running and rows are waiting, the batcher shares the oldest waiting rows
 *   among the free places (up to `maxRows` rows and `maxBytes` bytes a statement) and writes each share in one
 *   statement: straight on the driver's callback when it can (`insertNow`), else in a fiber of the storage's runtime.
 *   A lone caller's row therefore goes at once (after the current microtask), alone, as an ordinary INSERT. Under
 *   load the statements carry every row that arrived while the previous ones were in flight: batching adapts to the
 *   load with no added latency.
 * - Why straight on the driver: a fiber started, resumed by the driver's callback and ended per statement cost a lone
 *   store 50–90 µs of latency on PostgreSQL and MariaDB (a timestamp at each step of 2,000 stores: 30–40 µs from the
 *   batcher to the driver, 35–55 µs from the answer to the callers), beside the driver's 500–900 µs; the direct path
 *   made a lone store 0.84–0.89 of the raw driver's rate instead of 0.69–0.79 (interleaved rounds).
 * - Why share the rows rather than fill one statement first: a multi-row INSERT's time is mostly its commit, about
 *   the same for 32 rows as for 64 (1.6–1.7 ms here), so two statements of 32 write twice the rows of one of 64 in
 *   that time. Filled first, the 64 callers of a 64-row statement came back together and went out together, again
 *   as one statement, and the second place stayed empty: 23–24k stores/s at 64 callers against 28–29k shared, on
 *   PostgreSQL and on MariaDB (bench/profile.ts, `npm run bench`).
 * - When a statement finishes, each of its callers is resumed with its own id or error, and the next rows go.
 * - A caller that is interrupted, or whose deadline passes, while its row waits takes the row out of the queue, so
 *   it is not written. Once its statement is sent, the row's fate is the statement's (a statement cannot be taken
 *   back); the caller is not kept waiting for it.
 * - A failed multi-row INSERT is retried row by row, so a row the database refuses fails only its own caller, and
 *   every other caller gets its id.
 *
 * Why callers do not write their batches themselves (as an earlier version did, a "leader" per batch): each waiting
 * caller then needed a Deferred, an uninterruptible region and a hand-off, and the operation's deadline a fiber of
 * its own; with 64 concurrent callers that was most of the CPU a store cost (bench/profile.ts, `npm run bench`).
 *
 * The mapping of the ids of a multi-row INSERT back to its rows is the dialect's business (`insertMany`): see
 * SqlCheckpointTable, which documents why it is right on each database.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type { Deadline } from "./deadline.js"

/**
 * How a batcher writes rows and how much one statement may carry.
 *
 * @internal
 */
export interface InsertBatcherOptions<Row, E> {
  /** Inserts one row and returns its id; fails with the deadline's error once it has passed, if given one. */
  readonly insertOne: (row: Row, deadline: Deadline<E> | undefined) => Effect.Effect<string, E>
  /** Inserts the rows (two or more) in one statement, all or none, and returns their ids in the order of the rows;
   * or `undefined`, having written nothing, when this database cannot say which id each row got (then the rows are
   * written one by one). Bounded by the deadline as insertOne is. */
  readonly insertMany: (
    rows: ReadonlyArray<Row>,
    deadline: Deadline<E> | undefined
  ) => Effect.Effect<ReadonlyArray<string> | undefined, E>
  /** Writes the rows (one or more) in one statement straight on the driver, outside any fiber, and calls `done` with
   * their ids in the order of the rows, or with the failure, bounded by `statementDeadline`; returns false, having
   * written nothing, when it cannot now (no driver of its own, a transaction holds the connection, MySQL's id step
   * still unknown): the rows then go through insertOne / insertMany in a fiber. */
  readonly insertNow?: (
    rows: ReadonlyArray<Row>,
    done: (outcome: Exit.Exit<ReadonlyArray<string>, E>) => void
  ) => boolean
  /** Whether the rows of a failed multi-row INSERT may be written again one by one. Not after a lost connection: the
   * statement may have committed before the connection went, and the rows would be written twice. */
  readonly retryRowByRow: (error: E) => boolean
  /** The size of a row in bytes, counted against `maxBytes`. */
  readonly sizeOf: (row: Row) => number
  /** At most this many rows per statement (bound-parameter limits: 999 on old SQLite, 65 535 on PostgreSQL). */
  readonly maxRows: number
  /** At most this many bytes per statement (MySQL refuses a packet over max_allowed_packet); a larger row goes alone. */
  readonly maxBytes: number
  /** At most this many statements in flight at once (more only wait for a pooled connection). */
  readonly maxInFlight: number
  /** Where the statements run: the storage's runtime (its services, its logger), not a caller's fiber. */
  readonly runtime: Runtime.Runtime<never>
  /** How long one statement may hold its place in flight (the operation timeout), given to insertOne and insertMany.
   * A statement stuck on a connection that went silent then fails with `onTimeout()` (its driver call is dropped),
   * and its place goes to the rows waiting behind it, whose callers would otherwise all time out behind it. */
  readonly statementDeadline?: Deadline<E> | undefined
}

/**
 * Inserts one row, possibly together with the rows of concurrent callers.
 *
 * @internal
 */
export interface InsertBatcher<Row, E> {
  <E2 = never>(row: Row, deadline?: Deadline<E2> | undefined): Effect.Effect<string, E | E2>
  /** The same as a callback: `done` gets the row's id or failure, once. Returns what takes the row back while it
   * waits (`done` is then not called); once its statement is sent, that does nothing and the outcome is dropped. */
  readonly submit: <E2 = never>(
    row: Row,
    deadline: Deadline<E2> | undefined,
    done: (outcome: Exit.Exit<string, E | E2>) => void
  ) => () => void
}

interface Waiting<Row, E> {
  readonly row: Row
  readonly size: number
  /** Resumes the caller; called once at most (see `settle`). */
  readonly resume: (outcome: Exit.Exit<string, E>) => void
  settled: boolean
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * Builds a batcher. Its state lives in the returned function's closure: build one per table and storage.
 *
 * @internal
 */
export const makeInsertBatcher = <Row, E>(options: InsertBatcherOptions<Row, E>): InsertBatcher<Row, E> => {
  const queue: Array<Waiting<Row, E>> = []
  let inFlight = 0
  const runCallback = Runtime.runCallback(options.runtime)

  const settle = (waiting: Waiting<Row, E>, outcome: Exit.Exit<string, E>): void => {
    if (waiting.settled) return
    waiting.settled = true
    if (waiting.timer !== undefined) clearTimeout(waiting.timer)
    waiting.resume(outcome)
  }
  const leaveQueue = (waiting: Waiting<Row, E>): void => {
    const index = queue.indexOf(waiting)
    if (index >= 0) queue.splice(index, 1)
  }

  /** The rows waiting at the head of the queue that fit in one statement of at most `maxRows` rows (taken out of
   * the queue). */
  const takeBatch = (maxRows: number): Array<Waiting<Row, E>> => {
    let count = 1
    let bytes = queue[0]!.size
    while (count < queue.length && count < maxRows) {
      const next = queue[count]!
      if (bytes + next.size > options.maxBytes) break
      bytes += next.size
      count++
    }
    return queue.splice(0, count)
  }

  /** One Exit per row, in order: the multi-row INSERT, or row by row if it failed. Never fails itself. */
  const deadline = options.statementDeadline
  const writeOneByOne = (rows: ReadonlyArray<Row>): Effect.Effect<ReadonlyArray<Exit.Exit<string, E>>> =>
    Effect.forEach(rows, (row) => Effect.exit(options.insertOne(row, deadline)))
  /** Whether the rows of a multi-row INSERT that failed with `cause` (writing nothing) go again one by one. */
  const retriedRowByRow = (cause: Cause.Cause<E>): boolean => {
    const error = Cause.failureOption(cause)
    return Option.isSome(error) && options.retryRowByRow(error.value)
  }
  const writeRows = (rows: ReadonlyArray<Row>): Effect.Effect<ReadonlyArray<Exit.Exit<string, E>>> => {
    if (rows.length === 1) return Effect.map(Effect.exit(options.insertOne(rows[0]!, deadline)), (exit) => [exit])
    const oneByOne = writeOneByOne(rows)
    return Effect.flatMap(Effect.exit(options.insertMany(rows, deadline)), (exit) => {
      if (Exit.isSuccess(exit)) {
        return exit.value === undefined ? oneByOne : Effect.succeed(exit.value.map((id) => Exit.succeed(id)))
      }
      return retriedRowByRow(exit.cause) ? oneByOne : Effect.succeed(rows.map(() => Exit.failCause(exit.cause)))
    })
  }

  /** Ends a statement: each caller of the batch gets its row's outcome, and the next rows go. */
  const finish = (batch: ReadonlyArray<Waiting<Row, E>>, outcomes: (index: number) => Exit.Exit<string, E>): void => {
    inFlight--
    for (let index = 0; index < batch.length; index++) settle(batch[index]!, outcomes(index))
    pump()
  }
  /** The fiber path: the rows written in the storage's runtime, as one statement (writeRows) or one by one. */
  const writeInFiber = (
    batch: ReadonlyArray<Waiting<Row, E>>,
    write: Effect.Effect<ReadonlyArray<Exit.Exit<string, E>>>
  ): void => {
    runCallback(write, {
      // writeRows never fails; a defect or an interruption of the statement reaches every caller.
      onExit: (exit) => finish(batch, (index) => Exit.isSuccess(exit) ? exit.value[index]! : Exit.failCause(exit.cause))
    })
  }

  /** Sends the waiting rows, shared evenly among the statements that may still be in flight. */
  const pump = (): void => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const share = Math.ceil(queue.length / (options.maxInFlight - inFlight))
      const batch = takeBatch(Math.min(share, options.maxRows))
      const rows = batch.map((waiting) => waiting.row)
      inFlight++
      // Straight on the driver when it can (no fiber to start, resume and end per statement: measured 50–90 µs of a
      // lone store's latency on PostgreSQL); a failure of a multi-row INSERT goes to the fiber path, which retries
      // its rows one by one when that is safe.
      const sent = options.insertNow?.(rows, (exit) => {
        if (Exit.isSuccess(exit)) return finish(batch, (index) => Exit.succeed(exit.value[index]!))
        if (rows.length > 1 && retriedRowByRow(exit.cause)) return writeInFiber(batch, writeOneByOne(rows))
        finish(batch, () => Exit.failCause(exit.cause))
      }) ?? false
      if (!sent) writeInFiber(batch, writeRows(rows))
    }
  }

  // Callers arriving together (the fibers resumed by one finished statement store again in the same turn of the
  // scheduler) are sent together: the first one sends its row after the current microtask, not at once. Sending it
  // at once would take a free slot for a single row while the others queue behind it (measured: half the
  // statements carried one row at 64 concurrent callers).
  let pumpScheduled = false
  const schedulePump = (): void => {
    if (pumpScheduled) return
    pumpScheduled = true
    queueMicrotask(() => {
      pumpScheduled = false
      pump()
    })
  }

  const submit = <E2>(row: Row, deadline: Deadline<E2> | undefined, done: (outcome: Exit.Exit<string, E | E2>) => void) => {
    const waiting: Waiting<Row, E> = { row, size: options.sizeOf(row), resume: done, settled: false, timer: undefined }
    queue.push(waiting)
    if (deadline !== undefined) {
      waiting.timer = setTimeout(() => {
        leaveQueue(waiting)
        if (waiting.settled) return
        waiting.settled = true
        done(Exit.fail(deadline.onTimeout()))
      }, deadline.millis)
    }
    schedulePump()
    return () => {
      leaveQueue(waiting)
      waiting.settled = true
      if (waiting.timer !== undefined) clearTimeout(waiting.timer)
    }
  }
  const insert = <E2>(row: Row, deadline?: Deadline<E2>) =>
    Effect.async<string, E | E2>((resume) => Effect.sync(submit(row, deadline, resume)))
  return Object.assign(insert, { submit })
}
