/**
 * Coalesces concurrent single-row INSERTs into multi-row INSERTs: one round trip (and one commit) for many
 * checkpoints, while each caller still gets its own id or its own error.
 *
 * Design (no background fiber, no timer, so a lone caller pays nothing):
 *
 * - Every caller arrives with one row. If fewer than `maxInFlight` inserts are running, the caller becomes a
 *   *leader*: it inserts its own row at once, together with whatever rows are waiting in the queue (up to
 *   `maxRows` rows and `maxBytes` bytes). A lone caller therefore runs exactly one single-row INSERT, as before.
 * - Otherwise the caller queues its row and waits. When a leader's INSERT finishes, it completes the callers whose
 *   rows it wrote and hands the leadership to the oldest waiting caller, who then inserts its own row plus the
 *   rows queued behind it. Under load each round trip therefore carries every row that arrived while the previous
 *   one was in flight: batching adapts to the load with no added latency.
 * - A leader runs its INSERT uninterruptibly (a statement sent to the database cannot be taken back). A waiting
 *   caller that is interrupted takes its row out of the queue, so it is not written; if it had just been handed the
 *   leadership, it passes it on.
 * - A failed multi-row INSERT is retried row by row, so a row the database refuses fails only its own caller, and
 *   every other caller gets its id.
 *
 * The mapping of the ids of a multi-row INSERT back to its rows is the dialect's business (`insertMany`): see
 * SqlCheckpointTable, which documents why it is right on each database.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"

/**
 * How a batcher writes rows and how much one statement may carry.
 *
 * @internal
 */
export interface InsertBatcherOptions<Row, E> {
  /** Inserts one row and returns its id. */
  readonly insertOne: (row: Row) => Effect.Effect<string, E>
  /** Inserts the rows (two or more) in one statement, all or none, and returns their ids in the order of the rows;
   * or `undefined`, having written nothing, when this database cannot say which id each row got (then the rows are
   * written one by one). */
  readonly insertMany: (rows: ReadonlyArray<Row>) => Effect.Effect<ReadonlyArray<string> | undefined, E>
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
}

/**
 * Inserts one row, possibly together with the rows of concurrent callers.
 *
 * @internal
 */
export type InsertBatcher<Row, E> = (row: Row) => Effect.Effect<string, E>

interface Waiting<Row, E> {
  readonly row: Row
  readonly size: number
  /** Completed with the row's id (or error) by the leader that wrote it, or with `undefined` to make it lead. */
  readonly signal: Deferred.Deferred<Exit.Exit<string, E> | undefined>
  /** Set (before the signal) when this caller was handed the leadership. */
  leads: boolean
}

/**
 * Builds a batcher. Its state lives in the returned function's closure: build one per table and storage.
 *
 * @internal
 */
export const makeInsertBatcher = <Row, E>(options: InsertBatcherOptions<Row, E>): InsertBatcher<Row, E> => {
  const queue: Array<Waiting<Row, E>> = []
  let leaders = 0

  /** The rows waiting at the head of the queue that fit in one statement after `first` (taken out of the queue). */
  const takeBatch = (firstSize: number): Array<Waiting<Row, E>> => {
    let count = 0
    let bytes = firstSize
    while (count < queue.length && count + 1 < options.maxRows) {
      const next = queue[count]!
      if (bytes + next.size > options.maxBytes) break
      bytes += next.size
      count++
    }
    return queue.splice(0, count)
  }

  /** One Exit per row, in order: the multi-row INSERT, or row by row if it failed. Never fails itself. */
  const writeRows = (rows: ReadonlyArray<Row>): Effect.Effect<ReadonlyArray<Exit.Exit<string, E>>> => {
    if (rows.length === 1) return Effect.map(Effect.exit(options.insertOne(rows[0]!)), (exit) => [exit])
    const oneByOne = Effect.forEach(rows, (row) => Effect.exit(options.insertOne(row)))
    return Effect.flatMap(Effect.exit(options.insertMany(rows)), (exit) => {
      if (Exit.isSuccess(exit)) {
        return exit.value === undefined ? oneByOne : Effect.succeed(exit.value.map((id) => Exit.succeed(id)))
      }
      const error = Cause.failureOption(exit.cause)
      return Option.isSome(error) && options.retryRowByRow(error.value)
        ? oneByOne
        : Effect.succeed(rows.map(() => Exit.failCause(exit.cause)))
    })
  }

  /** Hands the leadership to the oldest waiting caller, or gives the leader's place up if nobody waits. */
  const handOff = (): void => {
    const next = queue.shift()
    if (next === undefined) {
      leaders--
      return
    }
    next.leads = true
    Deferred.unsafeDone(next.signal, Exit.succeed(undefined))
  }

  /** Writes `own` with the rows queued behind it, completes their callers, hands off, and returns own's Exit. */
  const lead = (own: Row, ownSize: number): Effect.Effect<Exit.Exit<string, E>> => {
    const others = takeBatch(ownSize)
    return Effect.map(
      Effect.ensuring(
        writeRows(others.length === 0 ? [own] : [own, ...others.map((waiting) => waiting.row)]),
        Effect.sync(handOff)
      ),
      (exits) => {
        for (let index = 0; index < others.length; index++) {
          Deferred.unsafeDone(others[index]!.signal, Exit.succeed(exits[index + 1]!))
        }
        return exits[0]!
      }
    )
  }

  return (row) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const size = options.sizeOf(row)
        if (leaders < options.maxInFlight) {
          leaders++
          // Nobody waiting: the row goes alone, as an ordinary INSERT; only the hand-off is added (it runs also if
          // the caller is interrupted, so the leadership is never lost).
          if (queue.length === 0) return Effect.ensuring(restore(options.insertOne(row)), Effect.sync(handOff))
          return Effect.flatten(lead(row, size))
        }
        const waiting: Waiting<Row, E> = {
          row,
          size,
          signal: Deferred.unsafeMake<Exit.Exit<string, E> | undefined>(FiberId.none),
          leads: false
        }
        queue.push(waiting)
        return restore(Deferred.await(waiting.signal)).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              const index = queue.indexOf(waiting)
              if (index >= 0) queue.splice(index, 1)
              else if (waiting.leads) handOff()
            })
          ),
          Effect.flatMap((result) => result === undefined ? Effect.flatten(lead(row, size)) : result)
        )
      })
    )
}
