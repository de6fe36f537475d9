/**
 * The one way this page makes elements. Everything the API returns is untrusted (a state can hold any text), so text
 * only ever reaches the document through `textContent` and attribute values through `setAttribute`; the page never
 * parses HTML. Inline `style` attributes are refused by the server's CSP, so looks come from classes.
 */

export type Child = Node | string | null | undefined | false

export interface ElementOptions {
  readonly class?: string | undefined
  readonly attrs?: Readonly<Record<string, string | undefined>> | undefined
  readonly text?: string | undefined
}

const append = (parent: Node, children: ReadonlyArray<Child>): void => {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child)
  }
}

const configure = (element: Element, options: ElementOptions | undefined, children: ReadonlyArray<Child>): void => {
  if (options?.class !== undefined) element.setAttribute("class", options.class)
  for (const [name, value] of Object.entries(options?.attrs ?? {})) {
    // `style` and event-handler attributes would be a way around the CSP and textContent; the page sets neither.
    if (value === undefined || name === "style" || name.toLowerCase().startsWith("on")) continue
    element.setAttribute(name, value)
  }
  if (options?.text !== undefined) element.textContent = options.text
  append(element, children)
}

/** An HTML element with a class, attributes, text and children. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options?: ElementOptions,
  ...children: ReadonlyArray<Child>
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  configure(element, options, children)
  return element
}

const SVG_NS = "http://www.w3.org/2000/svg"

/** An SVG element; geometry goes in attributes (x, y, width), which the CSP allows. */
export const svg = <K extends keyof SVGElementTagNameMap>(
  tag: K,
  options?: ElementOptions,
  ...children: ReadonlyArray<Child>
): SVGElementTagNameMap[K] => {
  const element = document.createElementNS(SVG_NS, tag)
  configure(element, options, children)
  return element
}

/** Replaces an element's children. */
export const replaceChildren = (parent: Element, ...children: ReadonlyArray<Child>): void => {
  parent.replaceChildren()
  append(parent, children)
}
