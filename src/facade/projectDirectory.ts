/**
 * The app checkpoints' directory as the older generation of Token Ring names it. drizzle-storage called it
 * `projectDirectory`; Token Ring (and the service, and its table since migration 5) call it `workspaceDirectory`. The
 * older facade classes speak the old name at their boundary, so that both generations work on one database.
 *
 * @since 0.1.0
 */

/**
 * `T` with its `workspaceDirectory` called `projectDirectory`.
 *
 * @since 0.1.0
 */
export type WithProjectDirectory<T> = T extends { readonly workspaceDirectory: infer D }
  ? Omit<T, "workspaceDirectory"> & { readonly projectDirectory: D }
  : T extends { readonly workspaceDirectory?: infer D } ? Omit<T, "workspaceDirectory"> & { readonly projectDirectory?: D }
  : T

/**
 * `T` with its `projectDirectory` called `workspaceDirectory`.
 *
 * @since 0.1.0
 */
export type WithWorkspaceDirectory<T> = T extends { readonly projectDirectory: infer D }
  ? Omit<T, "projectDirectory"> & { readonly workspaceDirectory: D }
  : T extends { readonly projectDirectory?: infer D } ? Omit<T, "projectDirectory"> & { readonly workspaceDirectory?: D }
  : T

const rename = (value: object, from: string, to: string): object => {
  if (!(from in value)) return value
  const { [from]: directory, ...rest } = value as Record<string, unknown>
  return directory === undefined ? rest : { ...rest, [to]: directory }
}

/**
 * What the service returns, as the older generation reads it.
 *
 * @since 0.1.0
 */
export const toProjectDirectory = <T extends object>(value: T): WithProjectDirectory<T> =>
  rename(value, "workspaceDirectory", "projectDirectory") as WithProjectDirectory<T>

/**
 * What the older generation passes, as the service takes it. Anything else (a value the service will refuse) is
 * passed through as it is.
 *
 * @since 0.1.0
 */
export const toWorkspaceDirectory = <T>(value: T): WithWorkspaceDirectory<T> =>
  (typeof value === "object" && value !== null
    ? rename(value, "projectDirectory", "workspaceDirectory")
    : value) as WithWorkspaceDirectory<T>
