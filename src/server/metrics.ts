/**
 * Prometheus metrics on a private Registry (never prom-client's global one, so two servers in one
 * process, or a host application's own metrics, do not collide). It implements the engine's
 * `EngineMetrics` hook (created before the engine, which receives it at start) and records HTTP
 * request durations; queue depth and open long-polls are read when Prometheus scrapes, not kept up
 * to date per request.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { EXECUTION_STATUSES } from "../core/types.js";
import type { ZartApi } from "../engine/api.js";
import type { EngineMetrics } from "../engine/metrics.js";

export interface MetricsSources {
  api: ZartApi;
  openLongPolls: () => number;
}

export class ServerMetrics implements EngineMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources | null = null;
  private readonly httpDuration: Histogram<"route" | "method" | "status">;
  private readonly httpChildren = new Map<string, { observe(seconds: number): void }>();
  private readonly scheduledTotal: Counter<"task">;
  private readonly startedTotal: Counter<"task">;
  private readonly runs: Counter<"task" | "outcome">;
  private readonly completed: Counter<"task">;
  private readonly failed: Counter<"task">;
  private readonly stepDuration: Histogram<"task" | "outcome">;
  private readonly steps: Counter<"task" | "outcome">;
  private readonly stepRetries: Counter<"task">;
  private readonly prunedTotal: Counter;
  private readonly claimLatency: Histogram;
  private readonly scheduleTicks: Counter<"schedule" | "outcome">;

  constructor() {
    const registers = [this.registry];
    const self = this;
    // prom-client's own names already start with process_ or nodejs_: zart_process_cpu_seconds_total.
    collectDefaultMetrics({ register: this.registry, prefix: "zart_" });
    this.httpDuration = new Histogram({
      name: "zart_http_request_duration_seconds",
      help: "HTTP request durations by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers,
    });
    const byTask = (name: string, help: string) => new Counter({ name, help, labelNames: ["task"], registers });
    this.scheduledTotal = byTask("zart_executions_scheduled_total", "Executions created through this process, by task");
    this.startedTotal = byTask("zart_executions_started_total", "Runs of executions begun by this process's workers, by task");
    this.completed = byTask("zart_executions_completed_total", "Executions completed by this process's workers, by task");
    this.failed = byTask("zart_executions_failed_total", "Executions failed in this process's workers, by task");
    this.runs = new Counter({
      name: "zart_execution_runs_total",
      help: "Runs (claims) of executions started by this process's workers, by task and how the run ended",
      labelNames: ["task", "outcome"],
      registers,
    });
    this.stepDuration = new Histogram({
      name: "zart_step_duration_seconds",
      help: "Durations of step attempts run by this process, by task and outcome",
      labelNames: ["task", "outcome"],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    this.steps = new Counter({
      name: "zart_steps_total",
      help: "Steps run by this process that ended, by task and outcome (completed, or failed after their retries)",
      labelNames: ["task", "outcome"],
      registers,
    });
    this.stepRetries = byTask("zart_step_retries_total", "Failed step attempts that this process's workers retry, by task");
    this.prunedTotal = new Counter({
      name: "zart_executions_pruned_total",
      help: "Finished executions deleted by prunes run in this process",
      registers,
    });
    this.claimLatency = new Histogram({
      name: "zart_claim_duration_seconds",
      help: "Duration of claim queries by this process's workers",
      buckets: [0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 1],
      registers,
    });
    this.scheduleTicks = new Counter({
      name: "zart_schedule_ticks_total",
      help: "Schedule ticks this process applied, by schedule and outcome (started, skipped, held, failed)",
      labelNames: ["schedule", "outcome"],
      registers,
    });
    new Gauge({
      name: "zart_http_open_long_polls",
      help: "Open GET /executions/:id/wait requests",
      registers,
      collect() {
        this.set(self.sources?.openLongPolls() ?? 0);
      },
    });
    new Gauge({
      name: "zart_store_pending_inserts",
      help: "New executions waiting for their insert, queued or in a statement (beyond limits.queuedInserts queued, POSTs are refused with 503)",
      registers,
      collect() {
        this.set(self.sources?.api.pendingInserts() ?? 0);
      },
    });
    new Gauge({
      name: "zart_executions",
      help: "Stored executions by status",
      labelNames: ["status"],
      registers,
      async collect() {
        if (!self.sources) return;
        const counts = await self.sources.api.stats();
        for (const status of EXECUTION_STATUSES) this.set({ status }, counts[status]);
      },
    });
    new Gauge({
      name: "zart_task_unserved_pending",
      help: "Pending executions of tasks that no live worker serves (they wait until one starts), by task",
      labelNames: ["task"],
      registers,
      async collect() {
        this.reset();
        if (!self.sources) return;
        for (const { task, pending } of await self.sources.api.unservedTasks()) this.set({ task }, pending);
      },
    });
    new Gauge({
      name: "zart_queue_depth",
      help: "Executions waiting for a worker (status pending)",
      registers,
      async collect() {
        if (self.sources) this.set((await self.sources.api.stats()).pending);
      },
    });
  }

  /** Connects the scrape-time gauges to the running engine and server. */
  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    // One labelled child per (route, method, status), kept. Routes are patterns, so few children. What
    // this costs against observing with a label object: docs/decisions/017-metrics-label-children.md.
    const key = `${method} ${status} ${route}`;
    let child = this.httpChildren.get(key);
    if (child === undefined) {
      child = this.httpDuration.labels({ route, method, status: String(status) });
      this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  // ── EngineMetrics ───────────────────────────────────────────────────────────
  scheduled(task: string): void {
    this.scheduledTotal.inc({ task });
  }
  started(task: string): void {
    this.startedTotal.inc({ task });
  }
  finished(task: string, outcome: string): void {
    this.runs.inc({ task, outcome });
    if (outcome === "completed") this.completed.inc({ task });
    else if (outcome === "failed") this.failed.inc({ task });
  }
  stepFinished(task: string, _step: string, ms: number, ok: boolean): void {
    // The step name stays out of the labels: names like `charge-${i}` would explode cardinality.
    this.stepDuration.observe({ task, outcome: ok ? "completed" : "failed" }, ms / 1000);
  }
  stepOutcome(task: string, _step: string, outcome: "completed" | "failed" | "retried"): void {
    if (outcome === "retried") this.stepRetries.inc({ task });
    else this.steps.inc({ task, outcome });
  }
  pruned(count: number): void {
    if (count > 0) this.prunedTotal.inc(count);
  }
  claimed(_count: number, ms: number): void {
    this.claimLatency.observe(ms / 1000);
  }
  scheduleTicked(scheduleId: string, outcome: string): void {
    this.scheduleTicks.inc({ schedule: scheduleId, outcome });
  }

  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
