/**
 * Migration 6: an event delivery that also ends the execution it resumes. Never edit once released.
 *
 * When the process that delivers an event parked the execution itself, it knows the steps and can run the
 * resumed workflow before the delivery is written (docs/engine.md, "Eager resume"). A run that then ends
 * without a step is written with the delivery in one transaction: `deliver_event` (delivery and claim), and,
 * if the claim left the row with the fencing token the caller expected (nobody claimed it since it parked,
 * so the caller's steps were current), the final status in the same call. Otherwise the row stays claimed
 * by the caller and the caller runs it from the returned steps, as after any eager resume.
 */
import type { MigrationContext } from "../migrations.js";

export function deliverAndFinish({ s }: MigrationContext): string {
  return `
CREATE FUNCTION ${s}.deliver_and_finish(eid text, event_name text, payload text, now_ms bigint, check_schema boolean,
  checked_schema text, claim_worker text, claim_lease bigint, claim_tasks text[],
  expect_token bigint, fin_status text, fin_output text, fin_error text, fin_steps integer, fin_at bigint)
RETURNS TABLE (outcome text, task_name text, wait_schema text, claimed json, claimed_steps json, finished boolean)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  d record;
BEGIN
  SELECT * INTO d FROM ${s}.deliver_event(eid, event_name, payload, now_ms, check_schema, checked_schema,
    claim_worker, claim_lease, claim_tasks);
  IF d.outcome = 'delivered' AND d.claimed IS NOT NULL AND (d.claimed->>'lease_token')::bigint = expect_token THEN
    UPDATE ${s}.executions SET status = fin_status,
      output = CASE WHEN fin_status = 'completed' THEN fin_output ELSE output END,
      error = CASE WHEN fin_status = 'failed' THEN fin_error ELSE error END,
      completed_at = fin_at, runnable_at = NULL, current_step = NULL, waiting_for_event = NULL,
      steps_completed = fin_steps, lease_owner = NULL, updated_at = fin_at
    WHERE id = eid;
    INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (d.task_name, 'running', -1), (d.task_name, fin_status, 1);
    RETURN QUERY SELECT d.outcome, d.task_name, d.wait_schema, d.claimed, d.claimed_steps, true;
    RETURN;
  END IF;
  RETURN QUERY SELECT d.outcome, d.task_name, d.wait_schema, d.claimed, d.claimed_steps, false;
END $$;
`;
}
