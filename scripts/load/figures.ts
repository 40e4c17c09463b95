/** Small statistics for the load scripts: nearest-rank percentiles and least-squares slopes. */

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

/** The least-squares slope of y over x (NaN with fewer than two distinct x). */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const usable = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const n = usable.length;
  if (n < 2) return Number.NaN;
  const mx = usable.reduce((sum, [x]) => sum + x, 0) / n;
  const my = usable.reduce((sum, [, y]) => sum + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of usable) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

export function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** A fixed-width text table, first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
