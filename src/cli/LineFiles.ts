/**
 * Files of lines, read and written a chunk at a time so memory stays flat whatever their size. A file is written
 * under a temporary name and renamed when complete, so an interrupted export never looks finished.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import * as Readline from "node:readline"
import type { Writable } from "node:stream"
import { CommandFailedError } from "./CliError.js"

const failure = (reason: string) => (cause: unknown) =>
  new CommandFailedError({ reason: `${reason}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/**
 * Where lines go.
 */
/**
 * Whether writing failed because the reader closed the pipe (`ecs export | head`): a command stops writing then,
 * quietly, as other command-line tools do.
 */
export const isClosedPipe = (error: CommandFailedError): boolean =>
  typeof error.cause === "object" && error.cause !== null && "code" in error.cause && error.cause.code === "EPIPE"

export interface LineSink {
  /** Writes the text, waiting while the destination is full (backpressure). */
  readonly write: (text: string) => Effect.Effect<void, CommandFailedError>
  /** Flushes and, for a file, gives it its final name. */
  readonly commit: Effect.Effect<void, CommandFailedError>
}

// An error of the destination (EPIPE when a reader such as `head` goes away) may come after a write that seemed to
// succeed: it is kept by a listener that stays for the stream's life, and fails the next write.
const writeTo = (stream: Writable, what: string) => {
  let failed: { readonly error: unknown } | undefined
  stream.on("error", (error) => (failed = { error }))
  return (text: string) =>
    Effect.async<void, CommandFailedError>((resume) => {
      if (failed !== undefined) return resume(Effect.fail(failure(`Cannot write ${what}`)(failed.error)))
      const onError = (error: unknown) => {
        stream.off("drain", onDrain)
        resume(Effect.fail(failure(`Cannot write ${what}`)(error)))
      }
      const onDrain = () => {
        stream.off("error", onError)
        resume(Effect.void)
      }
      if (stream.write(text)) return resume(Effect.void)
      stream.once("error", onError)
      stream.once("drain", onDrain)
    })
}

/**
 * Lines to a file (written as `FILE.partial`, renamed to FILE by `commit`; removed if the scope closes before it),
 * or to stdout when no path is given.
 */
export const openLineSink = (path: Option.Option<string>): Effect.Effect<LineSink, CommandFailedError, Scope.Scope> =>
  Option.match(path, {
    onNone: () => Effect.succeed({ write: writeTo(process.stdout, "stdout"), commit: Effect.void }),
    onSome: (file) => {
      const partial = `${file}.partial`
      return Effect.gen(function*() {
        let committed = false
        const stream = yield* Effect.acquireRelease(
          Effect.try({
            try: () => Fs.createWriteStream(partial, { flags: "w" }),
            catch: failure(`Cannot create ${partial}`)
          }),
          (stream) =>
            Effect.sync(() => {
              if (committed) return
              stream.destroy()
              Fs.rmSync(partial, { force: true })
            })
        )
        const commit = Effect.async<void, CommandFailedError>((resume) => {
          stream.end(() => {
            try {
              Fs.renameSync(partial, file)
              committed = true
              resume(Effect.void)
            } catch (error) {
              resume(Effect.fail(failure(`Cannot rename ${partial} to ${file}`)(error)))
            }
          })
        })
        return { write: writeTo(stream, file), commit }
      })
    }
  })

/**
 * The lines of a file (or of stdin when no path is given), read as a stream.
 */
export const readLines = (path: Option.Option<string>): Stream.Stream<string, CommandFailedError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const input = yield* Effect.acquireRelease(
      Option.match(path, {
        onNone: () => Effect.succeed<NodeJS.ReadableStream>(process.stdin),
        onSome: (file) =>
          Effect.try({
            try: () => {
              Fs.accessSync(file, Fs.constants.R_OK)
              return Fs.createReadStream(file) as NodeJS.ReadableStream
            },
            catch: failure(`Cannot read ${file}`)
          })
      }),
      (stream) =>
        Effect.sync(() => {
          if ("destroy" in stream && typeof stream.destroy === "function") stream.destroy()
        })
    )
    const lines = Readline.createInterface({ input, crlfDelay: Infinity })
    return Stream.fromAsyncIterable(lines, failure("Cannot read the input"))
  }))

/**
 * How many lines a file has (a fast pass over its bytes), to size the progress bar.
 */
export const countLines = (file: string): Effect.Effect<number, CommandFailedError> =>
  Effect.async<number, CommandFailedError>((resume) => {
    let count = 0
    let last = 10
    const stream = Fs.createReadStream(file)
    stream.on("data", (chunk) => {
      const bytes = chunk as Buffer
      for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) count++
      if (bytes.length > 0) last = bytes[bytes.length - 1] ?? 10
    })
    stream.on("error", (error) => resume(Effect.fail(failure(`Cannot read ${file}`)(error))))
    stream.on("end", () => resume(Effect.succeed(last === 10 ? count : count + 1)))
    return Effect.sync(() => stream.destroy())
  })
