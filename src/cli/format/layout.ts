/**
 * Aligned text: tables with a header row, and label/value blocks. Widths are measured on the plain
 * text; colour is applied after padding, so escape codes never skew the columns. The text of every
 * cell and value is made printable ({@link printable}) before it is measured: a control character or
 * line break from the server can neither act on the terminal nor break a row.
 */
import stringWidth from "string-width";
import type { Palette } from "./palette.js";
import { printable, printableJson } from "./printable.js";

export interface Cell {
  text: string;
  paint?: (text: string) => string;
}

export type CellInput = string | number | Cell;

const GAP = "  ";

function toCell(input: CellInput): Cell {
  return typeof input === "object" ? { text: printable(input.text), paint: input.paint } : { text: printable(String(input)) };
}

/** The columns `text` takes on a terminal: wide (East Asian, emoji) characters two, combining marks none. */
function width(text: string): number {
  return stringWidth(text);
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
export function renderFields(fields: ReadonlyArray<readonly [string, CellInput | undefined]>, indent = "  "): string {
  const shown = fields.flatMap(([label, value]) => (value === undefined ? [] : [[label, toCell(value)] as const]));
  const labelWidth = Math.max(0, ...shown.map(([label]) => width(label)));
  return shown
    .map(
      ([label, cell]) => `${indent}${label}${" ".repeat(labelWidth - width(label))}${GAP}${cell.paint ? cell.paint(cell.text) : cell.text}`,
    )
    .join("\n");
}

/** Pretty JSON, indented under a heading. */
export function renderJsonBlock(value: unknown, indent = "  "): string {
  const text = printableJson(JSON.stringify(value, null, 2) ?? "null");
  return text
    .split("\n")
    .map((line) => indent + line)
    .join("\n");
}
