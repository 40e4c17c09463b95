/**
 * Bearer-token checks. Tokens are compared as SHA-256 digests with `timingSafeEqual`, so the
 * comparison takes the same time whatever the token's length or how much of it matches, and every
 * configured token is tried (no early exit that would reveal which one nearly matched).
 */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class TokenChecker {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Whether an `Authorization` header value carries one of the configured tokens. */
  accepts(header: string | undefined): boolean {
    if (header === undefined) return false;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) return false;
    const candidate = digest(match[1] as string);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(candidate, known) || ok;
    return ok;
  }
}

/** Which paths need a token when tokens are configured. */
export function requiresToken(path: string, metricsPublic: boolean): boolean {
  if (path.startsWith("/api/")) return true;
  if (path === "/metrics") return !metricsPublic;
  return false;
}
