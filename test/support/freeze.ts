/**
 * Freezing a child process (SIGSTOP) so a test can look at the state it leaves behind, then thawing
 * (SIGCONT) or killing it. `kill()` only queues the signal: the child, on another core, may run on for a
 * moment, and a test that reads the database in that moment races the child's last writes. So `freeze`
 * returns only once the kernel reports the process stopped.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as pause } from "node:timers/promises";

/** The state letter of /proc/<pid>/stat (`T` stopped, `R` running, `S` sleeping, ...), or null. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces: the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/**
 * SIGSTOPs `child` and resolves once it is stopped. Node offers no event for a child stopping (that is
 * waitpid with WUNTRACED), so this polls /proc with a 2 ms pause, for at most `timeoutMs`. Without /proc
 * (not Linux) it cannot check and resolves after the signal is sent.
 */
export async function freeze(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) throw new Error("freeze: the process has no pid (it never started)");
  child.kill("SIGSTOP");
  if (!existsSync("/proc/self/stat")) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = processState(pid);
    if (state === "T" || state === "t") return;
    if (state === null || state === "Z" || state === "X") throw new Error(`freeze: process ${pid} exited instead of stopping`);
    if (Date.now() > deadline) throw new Error(`freeze: process ${pid} still in state ${state} ${timeoutMs} ms after SIGSTOP`);
    await pause(2);
  }
}

export function thaw(child: ChildProcess): void {
  child.kill("SIGCONT");
}
