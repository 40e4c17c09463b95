/** One end check of a chaos run: whether it held and, when not, the first few offenders. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const few = (items: readonly unknown[]) => (items.length === 0 ? "" : `${items.length}: ${JSON.stringify(items.slice(0, 5))}`);

/** Holds when there are no offenders, unless `ok` says otherwise. */
export function check(name: string, offenders: readonly unknown[], ok = offenders.length === 0, detail = few(offenders)): Check {
  return { name, ok, detail };
}
