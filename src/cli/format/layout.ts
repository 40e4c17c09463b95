/**
 * Aligned text: tables with a header row, and label/value blocks. Widths are measured on the plain
 * text; colour is applied after padding, so escape codes never skew the columns.
 */
import type { Palette } from "./palette.js";

export interface Cell {
  text: string;
  paint?: (text: string) => string;
}

export type CellInput = string | number | Cell;

const GAP = "  ";

function toCell(input: CellInput): Cell {
  return typeof input === "object" ? input : { text: String(input) };
}

function width(text: string): number {
  return Array.from(text).length;
}

/** A column's header; `right` aligns the column to the right (counts). */
export type Column = string | { header: string; right: true };

/** Columns separated by two spaces; no line ends in blanks. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly CellInput[])[], palette: Palette): string {
  const headers = columns.map((column) => (typeof column === "string" ? column : column.header));
  const right = columns.map((column) => typeof column !== "string");
  const cells = rows.map((row) => row.map(toCell));
  const widths = headers.map((header, i) => Math.max(width(header), ...cells.map((row) => width(row[i]?.text ?? ""))));
  const line = (row: readonly Cell[]) =>
    row
      .map((cell, i) => {
        const blanks = " ".repeat((widths[i] ?? 0) - width(cell.text));
        const padded = right[i] ? blanks + cell.text : i === row.length - 1 ? cell.text : cell.text + blanks;
        return cell.paint ? cell.paint(padded) : padded;
      })
      .join(GAP)
      .trimEnd();
  return [line(headers.map((text) => ({ text, paint: palette.bold }))), ...cells.map(line)].join("\n");
}

/** `label  value` lines with the values aligned; rows whose value is `undefined` are left out. */
export function renderFields(fields: ReadonlyArray<readonly [string, string | undefined]>, indent = "  "): string {
  const shown = fields.filter((field): field is readonly [string, string] => field[1] !== undefined);
  const labelWidth = Math.max(0, ...shown.map(([label]) => width(label)));
  return shown.map(([label, value]) => `${indent}${label}${" ".repeat(labelWidth - width(label))}${GAP}${value}`).join("\n");
}

/** Pretty JSON, indented under a heading. */
export function renderJsonBlock(value: unknown, indent = "  "): string {
  const text = JSON.stringify(value, null, 2) ?? "null";
  return text
    .split("\n")
    .map((line) => indent + line)
    .join("\n");
}
