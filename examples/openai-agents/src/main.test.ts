import { describe, expect, it } from 'vitest';
import { runAgent } from './run-agent.js';

describe('pnpm start (scripted model, scripted reviewers)', () => {
  it('runs the allowed tool, refuses the denied one, interrupts on escalations and resumes from a restored RunState', async () => {
    const lines: string[] = [];
    const outcome = await runAgent({ print: (line) => lines.push(line) });

    expect(outcome.executed).toEqual([
      { tool: 'get_invoice', args: { id: 'inv_1042' } },
      { tool: 'send_payment', args: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' } },
    ]);
    expect(outcome.refused).toEqual([
      { tool: 'delete_vendor', output: 'Tool call denied: Vendors are removed by finance, never by an agent' },
      { tool: 'send_email', output: 'Tool call denied: Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent' },
    ]);
    expect(outcome.approvals.map(({ tool, status, requirements }) => ({ tool, status, requiredApprovals: requirements.requiredApprovals }))).toEqual([
      { tool: 'send_payment', status: 'executed', requiredApprovals: 2 },
      { tool: 'send_email', status: 'denied', requiredApprovals: 1 },
    ]);
    expect(outcome.approvals[0]!.execution).toMatchObject({ claimedBy: 'agent', claimedAt: expect.any(String) });
    // The same stored RunState resumed again runs nothing: the payment's approval was used.
    expect(outcome.replayed).toEqual([
      { tool: 'send_payment', output: expect.stringMatching(/^Tool call denied: approval apr_\S+ was already used at \S+; an approval runs its call once$/) },
      { tool: 'send_email', output: 'Tool call denied: Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent' },
    ]);
    expect(outcome.answer).toBe('send_payment: Paid 1250 USD to acme-supplies (ref inv_1042)\nsend_email: not done — Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent');

    const output = lines.join('\n');
    expect(output).toContain('⏸  interrupted: 2 tool call(s) wait for approval');
    expect(output).toContain('Payments over $100 require human approval (1250 to acme-supplies) — needs 2 approval(s) from finance + engineering-lead');
    expect(output).toMatch(/▶ {2}restored \d+ characters of RunState; approved 1, rejected 1/);
    expect(output).toMatch(/✗ {2}refused send_payment: Tool call denied: approval apr_\S+ was already used at/);
  });
});
