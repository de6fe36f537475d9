/**
 * Token Ring's number ids over the service's ids (the decimal text of the row's integer): the one mapping of both.
 *
 * @since 0.1.0
 */

/**
 * The service's id of a number id, or undefined for a number that cannot be an id (not a positive safe integer):
 * such an id finds nothing.
 *
 * @since 0.1.0
 */
export const toServiceId = (id: number): string | undefined =>
  typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? String(id) : undefined

/**
 * The number id of a service's id.
 *
 * @since 0.1.0
 */
export const fromServiceId = (id: string): number => Number(id)

/**
 * A stored checkpoint or list item with its number id. The service's `parentId` (its lineage) is not part of Token
 * Ring's shapes and is left out.
 *
 * @since 0.1.0
 */
export const withNumberId = <T extends { readonly id: string; readonly parentId?: string | undefined }>(
  item: T
): Omit<T, "id" | "parentId"> & { readonly id: number } => {
  const { id, parentId: _, ...rest } = item
  return { ...rest, id: fromServiceId(id) }
}
