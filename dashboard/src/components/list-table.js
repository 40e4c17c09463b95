// @ts-check
/** The table of a list page (tasks, workers, schedules) in each of its states. */
import { html } from "../html.js";
import { LoadError, Loading } from "./notice.js";

/**
 * The load's error if any; "loading" before the first answer; `empty` when there are no items; else a
 * table with these column heads (a head's `num` right-aligns it; an empty label is read as "Actions")
 * and `row(item)` for each item.
 * @template T
 * @param {{ items: T[] | null, error: unknown, what: string, empty: unknown, className: string,
 *   columns: Array<{ label: string, num?: boolean }>, row: (item: T) => unknown }} props
 */
export function ListTable({ items, error, what, empty, className, columns, row }) {
  return html`
    <${LoadError} error=${error} what=${what} />
    ${
      items === null
        ? error
          ? null
          : html`<${Loading} />`
        : items.length === 0
          ? html`<p class="empty">${empty}</p>`
          : html`<div class="table-wrap">
              <table class=${`list ${className}`}>
                <thead>
                  <tr>
                    ${columns.map(
                      (c) =>
                        html`<th scope="col" class=${c.num ? "num" : undefined}>${c.label || html`<span class="sr-only">Actions</span>`}</th>`,
                    )}
                  </tr>
                </thead>
                <tbody>
                  ${items.map(row)}
                </tbody>
              </table>
            </div>`
    }
  `;
}
