/** Entry point of the `zart-server` command (see bin/zart-server.js). */
import { main } from "./program.js";

// main() reports its own failures and chooses the exit code; the long-running commands keep the
// process alive through their open server and timers.
void main("zart-server", process.argv.slice(2));
