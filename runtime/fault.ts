/**
 * Fault injection for the durability tests (test/e2e/fault-injection.e2e.test.ts):
 * with TANDEM_FAULT_KILL=<step> (or <step>@<round>) a node SIGKILLs itself
 * the first time an envelope of that step (and round) reaches it — a real
 * `kill -9` at an exact protocol point, which a test cannot time from
 * outside on a small dataset. Unset (always, outside tests), it does nothing.
 */
export function faultPoint(step: string, round: number): void {
  const spec = process.env['TANDEM_FAULT_KILL'];
  if (spec === undefined || spec === '') return;
  const [wantStep, wantRound] = spec.split('@');
  if (wantStep !== step || (wantRound !== undefined && Number(wantRound) !== round)) return;
  process.stderr.write(`TANDEM_FAULT_KILL: killing this process (pid ${process.pid}) at ${step}@${round}\n`);
  process.kill(process.pid, 'SIGKILL');
}
