import { describe, expect, it } from 'vitest';
import { runAgent } from './run-agent.js';

describe('pnpm start (scripted model, scripted reviewers)', () => {
  it('runs the allowed call, refuses the denied one, pauses the escalations, resumes with the reviewers’ verdicts, and runs nothing twice on a second resume', async () => {
    const lines: string[] = [];
    const outcome = await runAgent({ print: (line) => lines.push(line) });

    expect(outcome.executed).toEqual([
      { tool: 'get_invoice', args: { id: 'inv_1042' } },
      { tool: 'send_payment', args: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' } },
    ]);
    expect(outcome.refused).toEqual([
      { tool: 'delete_vendor', reason: 'Vendors are removed by finance, never by an agent' },
      { tool: 'send_email', reason: 'Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent' },
    ]);
    expect(outcome.approvals.map(({ tool, status, requirements }) => ({ tool, status, requiredApprovals: requirements.requiredApprovals, approverRoles: requirements.approverRoles }))).toEqual([
      { tool: 'send_payment', status: 'executed', requiredApprovals: 2, approverRoles: ['finance', 'engineering-lead'] },
      { tool: 'send_email', status: 'denied', requiredApprovals: 1, approverRoles: [] },
    ]);
    const [payment] = outcome.approvals;
    expect(payment!.execution).toMatchObject({ claimedBy: 'agent', outcome: 'succeeded' });
    // The same saved state resumed again (a webhook delivered twice): nothing more ran (see `executed` above).
    expect(outcome.replayed).toEqual([
      { tool: 'send_payment', reason: `approval ${payment!.id} was already used at ${payment!.execution!.claimedAt}; an approval runs its call once` },
      { tool: 'send_email', reason: 'Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent' },
    ]);
    expect(outcome.answer).toContain('send_payment: Paid 1250 USD to acme-supplies');
    expect(outcome.answer).toContain('send_email: not done — Denied by Sam Okafor');

    const output = lines.join('\n');
    expect(output).toContain('⏸  paused: 2 tool call(s) wait for approval');
    expect(output).toContain('Payments over $100 require human approval (1250 to acme-supplies) — needs 2 approval(s) from finance + engineering-lead');
    expect(output).toContain('▶  resumed with approved, denied');
    expect(output).toContain('↻  resumed the same saved state again (a webhook delivered twice)');
  });
});
