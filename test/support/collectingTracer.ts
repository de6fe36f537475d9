import { Effect, Tracer } from "effect"

/** A tracer that keeps every span it is asked for: Effect's own spans, whose names, parents and status can be read. */
export const collectingTracer = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args: Parameters<Tracer.Tracer["span"]>) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    },
    context: base.context
  })
  return { spans, tracer }
})
