/**
 * CPU time from /proc, for the probes (Linux; run them on the database's machine). Clock ticks are 1/100 s.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10;

/** utime + stime of one process in ms (`which`: one of the two), 0 once it has ended. */
export function processCpuMs(pid: number, which: "both" | "user" | "system" = "both"): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    return (which === "user" ? user : which === "system" ? system : user + system) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms of every local process named postgres (backends, WAL writer, checkpointer…). */
export function postgresCpuMs(): number {
  let ms = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres") ms += processCpuMs(Number(pid));
    } catch {
      // The process ended while being read.
    }
  }
  return ms;
}

/** Idle time (idle + iowait) of the whole machine so far, in ms summed over its cores. */
export function machineIdleMs(): number {
  const cpu = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/);
  return (Number(cpu[4]) + Number(cpu[5])) * TICK_MS;
}

/** Read and write system calls one process has made so far. */
export function syscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  return Number(/syscr: (\d+)/.exec(io)?.[1]) + Number(/syscw: (\d+)/.exec(io)?.[1]);
}
