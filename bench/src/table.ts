/** A table as data, rendered as Markdown for both the terminal and BENCHMARKS.md. */

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  notes?: string[];
}

export function renderTable(table: Table): string {
  const lines = [`### ${table.title}`, ""];
  if (table.rows.length === 0) {
    lines.push("(no data)");
  } else {
    lines.push(`| ${table.headers.join(" | ")} |`);
    lines.push(`|${table.headers.map(() => "---").join("|")}|`);
    for (const row of table.rows) lines.push(`| ${row.join(" | ")} |`);
  }
  for (const note of table.notes ?? []) lines.push("", note);
  return `${lines.join("\n")}\n`;
}
