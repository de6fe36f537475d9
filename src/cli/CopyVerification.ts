/**
 * The check at the end of `copy`: both sides hold the same checkpoints. Every checkpoint the copy read from the
 * source (its source id, its parent's source id, its fields and its state) goes into one SHA-256, in source-id
 * order; the target's checkpoints that came from it, read back through the storage and named by the source ids
 * the import reported for them, go into another. The counts and the digests must be equal. Only the target's
 * checkpoints of this source are read, so a target that also holds other checkpoints still verifies.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"

/**
 * How many checkpoints a side holds, and the digest of all of them.
 */
export interface TableDigest {
  readonly count: number
  readonly sha256: string
}

/**
 * A checkpoint as both sides read it: its id, its parent's, its state and its other fields.
 */
export interface CopiedCheckpoint {
  readonly id: string
  readonly parentId?: string | undefined
  readonly state: object
}

/**
 * The digest of one checkpoint under the ids it has in the source: its fields in the given order, and its state.
 */
export const checkpointDigest = (
  sourceId: string,
  parentSourceId: string | null,
  fields: ReadonlyArray<unknown>,
  state: object
): string =>
  Crypto.createHash("sha256").update(JSON.stringify([sourceId, parentSourceId, ...fields, state])).digest("hex")

/**
 * The digest of a side, fed with the checkpoints' digests in source-id order.
 */
export const makeTableDigest = () => {
  const hash = Crypto.createHash("sha256")
  let count = 0
  return {
    add: (digest: string): void => {
      hash.update(digest)
      hash.update("\n")
      count++
    },
    result: (): TableDigest => ({ count, sha256: hash.digest("hex") })
  }
}

/**
 * The digest of what the target holds of the copy: of its checkpoints (read in pages by `stream`), those whose id
 * `sourceIdOf` knows, their ids and parent ids replaced by the source's. A parent that did not come from the
 * source is kept as the target's id, so that it differs.
 */
export const targetDigest = <A extends CopiedCheckpoint, E>(
  stream: Stream.Stream<A, E>,
  sourceIdOf: ReadonlyMap<string, string>,
  fieldsOf: (checkpoint: A) => ReadonlyArray<unknown>
): Effect.Effect<TableDigest, E> =>
  Effect.gen(function*() {
    // The target's ids need not follow the source's order (another writer, an earlier run): sorted at the end.
    const digests: Array<readonly [sourceId: number, digest: string]> = []
    yield* Stream.runForEachChunk(stream, (chunk) =>
      Effect.sync(() => {
        for (const checkpoint of Chunk.toReadonlyArray(chunk)) {
          const sourceId = sourceIdOf.get(checkpoint.id)
          if (sourceId === undefined) continue
          const parentSourceId = checkpoint.parentId === undefined
            ? null
            : sourceIdOf.get(checkpoint.parentId) ?? `target:${checkpoint.parentId}`
          digests.push([Number(sourceId), checkpointDigest(sourceId, parentSourceId, fieldsOf(checkpoint), checkpoint.state)])
        }
      }))
    digests.sort(([a], [b]) => a - b)
    const table = makeTableDigest()
    for (const [, digest] of digests) table.add(digest)
    return table.result()
  })
