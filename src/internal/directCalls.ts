/**
 * The hot operations of a storage (store, retrieve, latest, a page) as callbacks, for a caller with no fiber of its
 * own: the Promise facade. Running an operation's Effect from a Promise starts and ends a fiber per call, 12–20 µs of a
 * 90–130 µs read by id on PostgreSQL and 4 µs of a 20 µs one on SQLite (interleaved rounds); these calls run the
 * same checks, statements and decoding (SqlCheckpointTable) from the caller's stack and answer from the driver's
 * callback. The service's own Effects run them too, inside one step of the caller's fiber, when no span is collected
 * and no transaction of the caller's holds the connection (SqlCheckpointStorage `direct`).
 *
 * They are not part of the service's interface: a storage built by `make` registers them beside the service, and the
 * facade looks them up; any other implementation of the service (a test double) has none, and the facade runs its
 * Effects.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type { CheckpointStorageService } from "../services/CheckpointStorage.js"

/**
 * The operations with a direct call. The lists' is their page form (with options, the overload the input and success
 * types below pick): one statement, or two sent at once with a total.
 *
 * @internal
 */
export type HotOperation =
  | "storeAgentCheckpoint"
  | "retrieveAgentCheckpoint"
  | "retrieveLatestAgentCheckpoint"
  | "listAgentCheckpoints"
  | "storeAppCheckpoint"
  | "retrieveAppCheckpoint"
  | "retrieveLatestAppCheckpoint"
  | "listAppCheckpoints"

/** @internal */
export type HotInput<K extends HotOperation> = Parameters<CheckpointStorageService[K]>[0]

/** @internal */
export type HotSuccess<K extends HotOperation> = Effect.Effect.Success<ReturnType<CheckpointStorageService[K]>>

type Outcome<K extends HotOperation> = ReturnType<CheckpointStorageService[K]> extends Effect.Effect<infer A, infer E>
  ? Exit.Exit<A, E>
  : never

/**
 * Takes back a call that has not reached the database yet (a store still waiting in the insert batcher): its `done`
 * is then not called. Once the statement is sent it does nothing, and the outcome is dropped.
 *
 * @internal
 */
export type Withdraw = () => void

/**
 * What a call that cannot be taken back returns (a read: sent at once).
 *
 * @internal
 */
export const cannotWithdraw: Withdraw = () => {}

/**
 * Each operation with the service method's input, success and errors. `done` gets the outcome once (during the call
 * on SQLite reads). The call returns false, having done nothing and without calling `done`, when the operation must
 * run as the service's Effect (a store with a parent or retention, a connection held by a transaction).
 *
 * @internal
 */
export type DirectCalls = {
  readonly [K in HotOperation]: (
    input: HotInput<K>,
    done: (outcome: Outcome<K>) => void
  ) => Withdraw | false
}

const registered = new WeakMap<CheckpointStorageService, DirectCalls>()

/**
 * Registers the direct calls of a service; returns the service.
 *
 * @internal
 */
export const withDirectCalls = (service: CheckpointStorageService, calls: DirectCalls): CheckpointStorageService => {
  registered.set(service, calls)
  return service
}

/**
 * The direct calls of a service, if it has them.
 *
 * @internal
 */
export const directCallsOf = (service: CheckpointStorageService): DirectCalls | undefined => registered.get(service)
