/**
 * The records an execution has made, as a replay sees them: by name, with the order in which the run
 * reaches them. Every `ctx` call goes through `reach`, which enforces the rules that make a replay
 * trustworthy: names are valid and used once per run, and a recorded name is reached by the same kind of
 * call that recorded it (changed workflow code is detected, not silently fed another kind's result).
 */
import { WorkflowDefinitionError } from "../core/errors.js";
import { isStorableText, STORABLE_TEXT_RULE } from "../core/stored-text.js";
import { FINAL_STEP_STATES, type StepKind, type StepRecord } from "../core/types.js";

export class ReplayRecords {
  private readonly byName: Map<string, StepRecord>;
  /** Names reached in this run; created by the first call (a run without ctx calls needs none). */
  private reached: Set<string> | null = null;
  private nextSeq: number;
  /** Records in a final state (completed or failed): the execution's `steps_completed`. */
  private final: number;
  /** Event waits stored open when the run began: the only ones a run can leave unreached. Usually none. */
  private readonly loadedWaits: string[] = [];

  constructor(steps: readonly StepRecord[]) {
    this.byName = new Map();
    let maxSeq = 0;
    let final = 0;
    for (const s of steps) {
      this.byName.set(s.name, s);
      if (s.seq > maxSeq) maxSeq = s.seq;
      if (FINAL_STEP_STATES.has(s.state)) final += 1;
      if (s.kind === "event" && s.state === "waiting") this.loadedWaits.push(s.name);
    }
    this.nextSeq = maxSeq + 1;
    this.final = final;
  }

  get stepsCompleted(): number {
    return this.final;
  }

  /**
   * The record of `name` (if any) for a call of `kind`, and the order number a new record of it gets.
   * Throws WorkflowDefinitionError for a bad or repeated name, and for a record of another kind.
   */
  reach(name: string, kind: StepKind): { record: StepRecord | undefined; seq: number } {
    checkName(name, kind);
    this.reached ??= new Set();
    const reached = this.reached;
    if (reached.has(name)) {
      throw new WorkflowDefinitionError(
        "duplicate_step_name",
        `Step name "${name}" is used twice in this execution; names must be unique (use e.g. \`charge-\${i}\` in loops)`,
      );
    }
    reached.add(name);
    const record = this.byName.get(name);
    if (record && record.kind !== kind) {
      throw new WorkflowDefinitionError(
        "nondeterminism",
        `The workflow reached "${name}" as ${withArticle(callName(kind))}, but this execution recorded it as ${withArticle(callName(record.kind))}: ` +
          "its code changed in a way that does not replay (see docs/versioning.md)",
      );
    }
    return { record, seq: record?.seq ?? this.nextSeq++ };
  }

  get(name: string): StepRecord | undefined {
    return this.byName.get(name);
  }

  /** A record written (or about to be): later reads see it, and a newly final one counts. */
  set(record: StepRecord): void {
    const before = this.byName.get(record.name);
    if (FINAL_STEP_STATES.has(record.state) && !(before && FINAL_STEP_STATES.has(before.state))) this.final += 1;
    if (before && FINAL_STEP_STATES.has(before.state) && !FINAL_STEP_STATES.has(record.state)) this.final -= 1;
    this.byName.set(record.name, record);
  }

  /**
   * Event waits recorded open that this run has not reached: once the run is quiescent or done, its code
   * no longer waits for them (a deploy renamed or removed them), so they are closed rather than left to
   * accept events nothing will read.
   */
  unreachedWaits(): StepRecord[] {
    const unreached: StepRecord[] = [];
    for (const name of this.loadedWaits) {
      const record = this.byName.get(name);
      if (record?.kind === "event" && record.state === "waiting" && !this.reached?.has(name)) unreached.push(record);
    }
    return unreached;
  }

  all(): StepRecord[] {
    return [...this.byName.values()];
  }
}

/** Names are stored as text keys on both stores: 1-255 characters that both keep as given (core/stored-text.ts). */
function checkName(name: unknown, kind: StepKind): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > 255 || !isStorableText(name)) {
    throw new WorkflowDefinitionError(
      "invalid_step_name",
      `The name of ${withArticle(callName(kind))} must be a string of 1-255 characters ${STORABLE_TEXT_RULE}, got ${JSON.stringify(name)?.slice(0, 80)}`,
    );
  }
}

function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}`;
}

function callName(kind: StepKind): string {
  switch (kind) {
    case "step":
      return "step";
    case "sleep":
      return "sleep";
    case "event":
      return "event wait";
    case "child":
      return "child execution";
  }
}
