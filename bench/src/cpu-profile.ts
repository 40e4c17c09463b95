/**
 * A V8 CPU profile of part of a probe's run (the measured part alone, not its setup), taken through the
 * inspector in this process. Read it with profile-summary.ts.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/** Starts profiling; `stop` writes the profile to `file`. Sampling every `intervalUs` microseconds. */
export async function startProfile(file: string, intervalUs = 1000): Promise<{ stop(): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}
