/**
 * The span of one storage operation, made only when somebody collects spans.
 *
 * Why: a span costs about 9 µs per call (`Effect.fn`, which also captures a stack trace per call, about 12 µs),
 * more than half of what better-sqlite3 takes to read a checkpoint; measured with `bench/profile.ts`. Effect's
 * default tracer keeps its spans to itself: nothing exports or prints them. So an operation is traced when the
 * fiber's tracer is another one (OpenTelemetry through `@effect/opentelemetry`, the DevTools, a test's own tracer),
 * and costs nothing otherwise.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"

// The tracer of a runtime nobody gave another one (Effect's native tracer), read on first use.
let defaultTracer: Tracer.Tracer | undefined

const spanOptions = { captureStackTrace: false } as const

/**
 * Whether the fiber's spans are collected: its tracer is not Effect's native one, and tracing is on.
 *
 * @internal
 */
export const collectsSpans = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean => {
  defaultTracer ??= Effect.runSync(Effect.tracer)
  return Context.get(fiber.currentDefaultServices, Tracer.Tracer) !== defaultTracer &&
    fiber.getFiberRef(FiberRef.currentTracerEnabled)
}

/**
 * Wraps `effect` in a span named `name` when the fiber's tracer collects spans.
 *
 * @internal
 */
export const withOperationSpan = (name: string) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) => collectsSpans(fiber) ? Effect.withSpan(effect, name, spanOptions) : effect)
