/** How the page writes times, sizes and counts. */

const pad = (n: number): string => String(n).padStart(2, "0")

/** Local date and time to the second: `2026-12-06 19:07:13`. */
export const formatTime = (epochMillis: number): string => {
  const d = new Date(epochMillis)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${
    pad(d.getSeconds())
  }`
}

/** Local time of day with milliseconds, for steps of one run that are seconds apart. */
export const formatClock = (epochMillis: number): string => {
  const d = new Date(epochMillis)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`
}

/** How long ago, roughly: `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export const formatAgo = (epochMillis: number, now: number = Date.now()): string => {
  const seconds = Math.max(0, Math.round((now - epochMillis) / 1000))
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`
  return `${Math.round(seconds / 86400)} d ago`
}

/** Duration between two times: `850 ms`, `12.4 s`, `3 min 5 s`. */
export const formatDuration = (millis: number): string => {
  if (millis < 1000) return `${millis} ms`
  if (millis < 60_000) return `${(millis / 1000).toFixed(1)} s`
  const minutes = Math.floor(millis / 60_000)
  if (minutes < 60) return `${minutes} min ${Math.round((millis % 60_000) / 1000)} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/** Bytes in the unit a person reads: `512 B`, `4.2 KB`, `1.3 MB`. */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** `1 checkpoint`, `3 checkpoints`. */
export const plural = (n: number, word: string): string => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`

/** The first characters of an id, for places where the whole one does not fit (the title shows all of it). */
export const shortId = (id: string): string => (id.length > 12 ? `${id.slice(0, 8)}…` : id)
