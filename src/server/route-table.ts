/**
 * Which methods each registered path pattern accepts, filled from fastify's `onRoute` hook, so a
 * request to a known path with another method gets `405` and an `Allow` header instead of a 404.
 */
interface Pattern {
  regex: RegExp;
  methods: Set<string>;
}

export class RouteTable {
  private readonly byUrl = new Map<string, Pattern>();

  add(url: string, method: string | string[]): void {
    let pattern = this.byUrl.get(url);
    if (!pattern) {
      const source = url
        .split("/")
        .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      pattern = { regex: new RegExp(`^${source}$`), methods: new Set() };
      this.byUrl.set(url, pattern);
    }
    for (const m of Array.isArray(method) ? method : [method]) pattern.methods.add(m.toUpperCase());
    if (pattern.methods.has("GET")) pattern.methods.add("HEAD");
  }

  /** The methods accepted at `path`; empty when no route matches it. */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const pattern of this.byUrl.values()) {
      if (pattern.regex.test(path)) for (const m of pattern.methods) methods.add(m);
    }
    return [...methods].sort();
  }
}
