/**
 * Progress of a long command (export, import, copy, prune) on stderr, so that stdout stays the command's output:
 * a bar with the rate and the time left when stderr is a terminal, a plain line now and then when it is not
 * (a log file, a CI job).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"

/**
 * One task's progress.
 */
export interface Progress {
  /** `n` more items are done. */
  readonly advance: (n: number) => Effect.Effect<void>
  /** The task is over: the final line, with the count, the time and the rate. */
  readonly finish: Effect.Effect<void>
}

/** How often the bar is redrawn, and how often a plain line is written at most. */
const BAR_INTERVAL_MILLIS = 100
const LINE_INTERVAL_MILLIS = 2_000

const rate = (done: number, millis: number): number => (millis <= 0 ? 0 : (done * 1000) / millis)

const formatRate = (perSecond: number): string => `${Math.round(perSecond).toLocaleString("en-US")}/s`

const formatDuration = (millis: number): string => {
  const seconds = Math.max(0, Math.round(millis / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  return minutes < 60
    ? `${minutes}m${String(seconds % 60).padStart(2, "0")}s`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
}

const bar = (fraction: number, width: number): string => {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`
}

/**
 * Whether progress is drawn as a bar: stderr is a terminal.
 */
export const isTerminal = (): boolean => process.stderr.isTTY === true

/**
 * Starts reporting the progress of `label` towards `total` items (when known).
 */
export const makeProgress = (label: string, total: Option.Option<number>): Effect.Effect<Progress> =>
  Effect.gen(function*() {
    const terminal = isTerminal()
    const start = yield* Clock.currentTimeMillis
    const state = yield* Ref.make({ done: 0, lastDrawn: 0 })
    const write = (text: string) => Effect.sync(() => process.stderr.write(text))

    const describe = (done: number, now: number): string => {
      const elapsed = now - start
      const perSecond = rate(done, elapsed)
      return Option.match(total, {
        onNone: () => `${label}: ${done.toLocaleString("en-US")} ${formatRate(perSecond)}`,
        onSome: (all) => {
          const fraction = all === 0 ? 1 : done / all
          const eta = perSecond > 0 ? formatDuration(((all - done) * 1000) / perSecond) : "?"
          return terminal
            ? `${label} ${bar(fraction, 24)} ${Math.floor(fraction * 100)}% ${done}/${all} ${formatRate(perSecond)} ETA ${eta}`
            : `${label}: ${done}/${all} (${Math.floor(fraction * 100)}%), ${formatRate(perSecond)}, ETA ${eta}`
        }
      })
    }

    const advance = (n: number) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const { done, lastDrawn } = yield* Ref.updateAndGet(state, (s) => ({ ...s, done: s.done + n }))
        if (now - lastDrawn < (terminal ? BAR_INTERVAL_MILLIS : LINE_INTERVAL_MILLIS)) return
        yield* Ref.update(state, (s) => ({ ...s, lastDrawn: now }))
        yield* write(terminal ? `\r\x1b[K${describe(done, now)}` : `${describe(done, now)}\n`)
      })

    const finish = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { done } = yield* Ref.get(state)
      const summary = `${label}: ${done} done in ${formatDuration(now - start)} (${formatRate(rate(done, now - start))})`
      yield* write(terminal ? `\r\x1b[K${summary}\n` : `${summary}\n`)
    })

    return { advance, finish }
  })
