/** The client commands of `zart`, which talk to a running server through the client SDK only. */
import type { Command } from "commander";
import { addCancelCommand, addRerunCommand, addRetryCommand, addSendCommand } from "./control.js";
import { addPruneCommand, addStatsCommand, addTasksCommand, addWorkersCommand } from "./fleet.js";
import { addGetCommand, addListCommand, addStepsCommand, addWaitCommand } from "./inspect.js";
import { addSchedulesCommand } from "./schedules.js";
import { addStartCommand } from "./start.js";

export function addClientCommands(program: Command): void {
  for (const add of [
    addStartCommand,
    addGetCommand,
    addStepsCommand,
    addWaitCommand,
    addListCommand,
    addCancelCommand,
    addRetryCommand,
    addRerunCommand,
    addSendCommand,
    addTasksCommand,
    addWorkersCommand,
    addStatsCommand,
    addSchedulesCommand,
    addPruneCommand,
  ]) {
    add(program);
  }
}
