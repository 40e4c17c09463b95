/** Entry point of the `zart` command (see bin/zart.js). */
import { main } from "./program.js";

// main() reports its own failures and chooses the exit code; the long-running commands keep the
// process alive through their open server and timers.
void main("zart", process.argv.slice(2));
