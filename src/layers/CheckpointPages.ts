/**
 * Pages of one table with keyset cursors, their totals, and streams read a page at a time.
 *
 * A cursor is tied to the query it came from (every filter field and the order): given to another query it is
 * refused, so a page never continues a different list.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { type CursorPosition, decodeCursor, encodeCursor } from "../internal/cursor.js"
import { decodeInput } from "../internal/decodeInput.js"
import {
  type CheckpointPage,
  type CheckpointStreamOptions,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE
} from "../schema/CheckpointQuery.js"
import {
  CheckpointValidationError,
  type StorageConnectionError,
  type StorageQueryError
} from "../services/CheckpointStorageError.js"
import type { CheckpointStatements, FilterFields } from "./CheckpointStatements.js"
import type { CheckpointTable } from "./CheckpointTables.js"

/**
 * What a page request may hold (the table's list options, once validated).
 *
 * @since 0.1.0
 */
export interface PageRequest extends FilterFields {
  readonly orderBy?: "createdAt" | "id" | undefined
  readonly orderDir?: "ASC" | "DESC" | undefined
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
  readonly offset?: number | undefined
  readonly includeTotal?: boolean | undefined
}

interface Item {
  readonly id: string
  readonly createdAt: number
}

type ToItems<A, E> = (rows: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<A>, E>

/**
 * The pages of one table.
 *
 * @since 0.1.0
 */
export type CheckpointPages<T extends CheckpointTable> = ReturnType<typeof makeCheckpointPages<T>>

/**
 * @since 0.1.0
 */
export const makeCheckpointPages = <T extends CheckpointTable>(statements: CheckpointStatements<T>) => {
  const { sql, table, tableName } = statements
  const subject = `${table.name} list options`
  const validateListOptions = decodeInput(table.listOptions, subject)
  const invalid = (path: string, message: string) => new CheckpointValidationError({ subject, issues: [{ path, message }] })

  /** How many rows match a filter, compiled once per filter shape. */
  const count = (operation: string, filter: FilterFields) =>
    Effect.map(
      statements.run(
        operation,
        statements.compiledOnce(`count:${statements.filterShape(filter)}`, statements.filterValues(filter), () =>
          sql`SELECT COUNT(*) AS ${sql("n")} FROM ${tableName} ${statements.where(statements.filterClauses(filter))}`)
      ),
      (rows) => Number((rows[0] as { readonly n?: unknown } | undefined)?.n ?? 0)
    )

  /** One page of a validated request: list items, or full rows (`withState`, for a stream with states). */
  const readPage = <A, E>(
    operation: string,
    page: PageRequest,
    withState: boolean,
    toItems: ToItems<A, E>
  ) =>
    Effect.suspend((): Effect.Effect<
      CheckpointPage<A>,
      E | CheckpointValidationError | StorageConnectionError | StorageQueryError
    > => {
      const orderBy = page.orderBy ?? "createdAt"
      const orderDir = page.orderDir ?? "DESC"
      const limit = page.limit ?? DEFAULT_PAGE_SIZE
      if (page.cursor !== undefined && page.offset !== undefined) {
        return Effect.fail(invalid("cursor", "cannot be combined with offset"))
      }
      // What a cursor is tied to: the filter (every key, null when absent, in this order) and the order.
      const filter: Record<string, unknown> = {}
      for (const key of statements.filterKeys) filter[key] = (page as Record<string, unknown>)[key] ?? null
      const query = { filter, orderBy, orderDir }
      let position: CursorPosition | undefined
      if (page.cursor !== undefined) {
        const decoded = decodeCursor(query, page.cursor)
        if (Either.isLeft(decoded)) return Effect.fail(invalid("cursor", decoded.left))
        position = decoded.right
      }
      const values = statements.filterValues(page)
      if (position !== undefined) values.push(...statements.positionValues(orderBy, position))
      const shape = `page:${withState ? "rows" : "items"}:${statements.filterShape(page)}:${orderBy}:${orderDir}:${limit}:${
        page.offset ?? 0
      }:${position === undefined ? "first" : "after"}`
      // One row more than the page holds: its presence says there is a next page.
      const statement = statements.compiledOnce(shape, values, () => {
        const clauses = statements.filterClauses(page)
        if (position !== undefined) clauses.push(statements.afterPosition(orderBy, orderDir, position))
        return sql`SELECT ${withState ? statements.rowColumns : statements.listColumns} FROM ${tableName} ${
          statements.where(clauses)
        } ${statements.orderClause(orderBy, orderDir)} ${statements.limitClause(limit + 1, page.offset)}`
      })
      const items = Effect.flatMap(statements.run(operation, statement), (rows) => {
        const more = rows.length > limit
        return Effect.map(toItems(more ? rows.slice(0, limit) : rows), (items): CheckpointPage<A> => {
          // Every row of both tables has these (its list row Schema reads them).
          const last = items.at(-1) as Item | undefined
          const nextCursor = more && last !== undefined
            ? Option.some(encodeCursor(query, {
              sortValue: orderBy === "id" ? Number(last.id) : last.createdAt,
              id: Number(last.id)
            }))
            : Option.none<string>()
          return { items, nextCursor, total: Option.none<number>() }
        })
      })
      return page.includeTotal === true
        ? Effect.zipWith(items, count(operation, page), (found, total) => ({ ...found, total: Option.some(total) }))
        : items
    })

  /** One page of list items, the options validated first. */
  const listPage = (operation: string, options: unknown) =>
    Effect.flatMap(validateListOptions(options), (page) =>
      readPage(operation, page as PageRequest, false, statements.toListItems(operation)))

  /** Every row matching the options, read a page (one statement) at a time. */
  const streamPages = <A, E>(
    operation: string,
    options: (FilterFields & CheckpointStreamOptions) | undefined,
    withState: boolean,
    toItems: ToItems<A, E>
  ) => {
    const { includeState: _, pageSize, ...rest } = options ?? {}
    return Stream.unwrap(Effect.map(
      validateListOptions({ ...rest, limit: pageSize ?? Math.min(1000, MAX_PAGE_SIZE) }),
      (first) =>
        Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
          Effect.map(
            readPage(operation, cursor === undefined ? first : { ...first, cursor }, withState, toItems),
            (page) => [Chunk.fromIterable(page.items), Option.map(page.nextCursor, (next): string | undefined => next)] as const
          ))
    ))
  }

  /** A stream of list items, or of full checkpoints with `includeState: true`. */
  const stream = (operation: string, options: (FilterFields & CheckpointStreamOptions) | undefined) =>
    options?.includeState === true
      ? streamPages(operation, options, true, statements.toStored(operation))
      : streamPages(operation, options, false, statements.toListItems(operation))

  return { count, listPage, stream }
}
