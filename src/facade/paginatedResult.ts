/**
 * A page of the service as Token Ring's `PaginatedResult`, the one rule of both facades.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import { type CheckpointPage, DEFAULT_PAGE_SIZE } from "../schema/CheckpointQuery.js"
import type { PaginatedResult } from "./TokenRing.js"

/**
 * The page of a list asked for with `includeTotal` (and the `limit`/`offset` the caller gave), each item mapped:
 * `hasMore` when rows beyond this page match, `limit` and `offset` as they applied (defaults filled).
 *
 * @since 0.1.0
 */
export const toPaginatedResult = <A, B>(
  options: { readonly limit?: number | undefined; readonly offset?: number | undefined },
  page: CheckpointPage<A>,
  item: (a: A) => B
): PaginatedResult<B> => {
  const offset = options.offset ?? 0
  const total = Option.getOrElse(page.total, () => offset + page.items.length)
  return {
    items: page.items.map(item),
    total,
    hasMore: offset + page.items.length < total,
    limit: options.limit ?? DEFAULT_PAGE_SIZE,
    offset
  }
}
