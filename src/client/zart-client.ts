/** The client: one method per route of the HTTP API a program or an operator needs. */
import type {
  AnyEventName,
  AnyEventPayload,
  DataOf,
  EventMap,
  EventName,
  EventsOf,
  OutputOf,
  PayloadArg,
  TaskName,
  TaskNamed,
  UntypedTask,
} from "../core/task-types.js";
import type {
  CancelResult,
  EventDelivery,
  Execution,
  ExecutionRef,
  ListOptions,
  ListPage,
  RerunRequest,
  RerunResult,
  ScheduledExecution,
  ScheduleOptions,
  Stats,
  WaitResult,
} from "./execution-types.js";
import type { TaskList, WorkerList } from "./fleet-types.js";
import { SchedulesApi } from "./schedules-api.js";
import type { ExecutionSteps } from "./step-types.js";
import { type ClientOptions, HttpTransport, segment } from "./transport.js";

/**
 * `POST /api/v1/admin/prune` answer: how many finished executions (with their steps, attempts and
 * events) were deleted.
 */
export interface PruneResult {
  pruned: number;
}

const MAX_WAIT_REQUEST_S = 240;
/** The server's wait when the request names none (http-api.md). */
const SERVER_DEFAULT_WAIT_S = 30;

function idOf(execution: string | ExecutionRef): string {
  return typeof execution === "string" ? execution : execution.execution_id;
}

/**
 * `T`: the tasks the server runs, for types only, e.g. `ZartClient<typeof import("./tasks.js")>` (a task
 * module's exports), an array type of task definitions, or one task's. Then task names, data, outputs and
 * event names and payloads are checked by the compiler. Without it, any name and JSON object data goes.
 */
export class ZartClient<T = UntypedTask> {
  /** Cron schedules: list, get, create, delete, pause, resume. */
  readonly schedules: SchedulesApi;
  private readonly http: HttpTransport;

  constructor(options: ClientOptions) {
    this.http = new HttpTransport(options);
    this.schedules = new SchedulesApi(this.http);
  }

  /** The server root this client talks to (as given, without trailing slashes). */
  get baseUrl(): string {
    return this.http.root;
  }

  schedule<N extends TaskName<T>>(
    task: N,
    data: DataOf<TaskNamed<T, N>>,
    options: ScheduleOptions = {},
  ): Promise<ScheduledExecution<OutputOf<TaskNamed<T, N>>, EventsOf<TaskNamed<T, N>>>> {
    const body: Record<string, unknown> = { task, data };
    const idempotencyKey = options.idempotency_key ?? options.idempotencyKey;
    if (idempotencyKey !== undefined) body.idempotency_key = idempotencyKey;
    const startAt = options.start_at;
    if (startAt !== undefined) body.start_at = startAt instanceof Date ? startAt.toISOString() : startAt;
    if (options.priority !== undefined) body.priority = options.priority;
    if (options.concurrency_key !== undefined) body.concurrency_key = options.concurrency_key;
    const headers = options.traceparent === undefined ? undefined : { traceparent: options.traceparent };
    return this.http.call("POST", "/executions", JSON.stringify(body), undefined, headers);
  }

  async get<O = unknown>(execution: string | ExecutionRef<O>): Promise<Execution<O>> {
    return this.http.call("GET", `/executions/${segment(idOf(execution))}`);
  }

  /** Every step, sleep, event wait and child start the execution reached, with every attempt. */
  async steps(id: string): Promise<ExecutionSteps> {
    return this.http.call("GET", `/executions/${segment(id)}/steps`);
  }

  list(options: ListOptions = {}): Promise<ListPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) if (value !== undefined) query.set(key, String(value));
    const text = query.toString();
    return this.http.call("GET", `/executions${text ? `?${text}` : ""}`);
  }

  /**
   * Long-polls until the execution ends or `timeoutSeconds` pass (server default 30 s). Long waits are
   * split into requests of at most 4 minutes, because fetch implementations give up on a response
   * whose headers take longer than about 5 minutes (undici's default `headersTimeout`).
   */
  async wait<O = unknown>(
    execution: string | ExecutionRef<O>,
    options: { timeoutSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<WaitResult<O>> {
    const id = idOf(execution);
    let remaining = options.timeoutSeconds;
    for (;;) {
      const chunk = remaining === undefined ? undefined : Math.min(remaining, MAX_WAIT_REQUEST_S);
      const result = await this.waitOnce<O>(id, chunk, options.signal);
      if (result.done || remaining === undefined || chunk === undefined || remaining - chunk <= 0) return result;
      remaining -= chunk;
    }
  }

  private async waitOnce<O>(id: string, timeoutSeconds: number | undefined, signal?: AbortSignal): Promise<WaitResult<O>> {
    const query = timeoutSeconds === undefined ? "" : `?timeout=${Math.max(0, Math.floor(timeoutSeconds))}`;
    const path = `/executions/${segment(id)}/wait${query}`;
    const holdMs = (timeoutSeconds ?? SERVER_DEFAULT_WAIT_S) * 1000;
    return this.http.exchange("GET", path, { signal, holdMs }, async (response) => {
      const body = await this.http.readJson<Record<string, unknown>>(response, path);
      return { ...body, done: response.status === 200 } as WaitResult<O>;
    });
  }

  async cancel(id: string): Promise<CancelResult> {
    return this.http.call("POST", `/executions/${segment(id)}/cancel`);
  }

  /** Resumes a `failed` or `cancelled` execution in place (`attempt` + 1); resolves with its status body. */
  async retry(id: string): Promise<Execution> {
    return this.http.call("POST", `/executions/${segment(id)}/retry`);
  }

  /** Starts a new execution of the same task, from scratch or from `from_step` (see {@link RerunRequest}). */
  async rerun(id: string, request: RerunRequest = {}): Promise<RerunResult> {
    return this.http.call("POST", `/executions/${segment(id)}/rerun`, JSON.stringify(request));
  }

  /**
   * Delivers an event; `payload` may be any JSON value (undefined sends an empty body: the payload null).
   * Given what `schedule` answered, the name and payload are checked against that task's event types;
   * given an id, against those of all the client's tasks.
   */
  sendEvent<E extends EventMap, N extends EventName<E>>(
    execution: ExecutionRef<unknown, E>,
    eventName: N,
    ...payload: PayloadArg<E[N]>
  ): Promise<EventDelivery>;
  sendEvent<N extends AnyEventName<T>>(id: string, eventName: N, payload?: AnyEventPayload<T, N>): Promise<EventDelivery>;
  async sendEvent(execution: string | ExecutionRef, eventName: string, payload?: unknown): Promise<EventDelivery> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    return this.http.call("POST", `/events/${segment(idOf(execution))}/${segment(eventName)}`, body);
  }

  stats(): Promise<Stats> {
    return this.http.call("GET", "/stats");
  }

  /** Tasks that a live worker serves or that have executions. */
  tasks(): Promise<TaskList> {
    return this.http.call("GET", "/tasks");
  }

  /** Workers heard from within two lease periods. */
  workers(): Promise<WorkerList> {
    return this.http.call("GET", "/workers");
  }

  /**
   * Deletes, once, the `completed`, `failed` and `cancelled` executions that ended longer ago than
   * `olderThan` (a duration such as `"30d"` or `"12h"`): `POST /admin/prune` `{ "older_than": … }`.
   */
  prune(olderThan: string): Promise<PruneResult> {
    return this.http.call("POST", "/admin/prune", JSON.stringify({ older_than: olderThan }));
  }
}
