import { describe, expect, it } from 'vitest';
import { runLoop } from './run-loop.js';

describe.each(['chat', 'responses'] as const)('pnpm start (%s, scripted model, scripted reviewers)', (api) => {
  it('runs the allowed call, refuses the denied one, pauses the escalations and resumes after a restart', async () => {
    const lines: string[] = [];
    const outcome = await runLoop({ api, print: (line) => lines.push(line) });

    expect(outcome.executed).toEqual([
      { tool: 'get_invoice', args: { id: 'inv_1042' } },
      { tool: 'send_payment', args: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' } },
    ]);
    expect(outcome.refused).toEqual([
      { tool: 'delete_vendor', reason: 'Vendors are removed by finance, never by an agent' },
      { tool: 'send_email', reason: 'Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent' },
    ]);
    expect(outcome.approvals.map(({ tool, status, requirements }) => ({ tool, status, requiredApprovals: requirements.requiredApprovals }))).toEqual([
      { tool: 'send_payment', status: 'executed', requiredApprovals: 2 },
      { tool: 'send_email', status: 'denied', requiredApprovals: 1 },
    ]);
    expect(outcome.approvals[0]!.execution).toMatchObject({ claimedBy: 'agent', claimedAt: expect.any(String) });
    // The same stored state resumed again runs nothing: the payment's approval was used.
    expect(outcome.replayed).toEqual([
      { tool: 'send_payment', status: 'denied', reason: expect.stringMatching(/^approval apr_\S+ was already used at \S+; an approval runs its call once$/) },
      { tool: 'send_email', status: 'denied', reason: 'Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent' },
    ]);
    expect(outcome.answer).toBe('send_payment: Paid 1250 USD to acme-supplies (ref inv_1042)\nsend_email: not done — Denied by Sam Okafor: Remittance advice goes out from the billing system, not from the agent');

    const output = lines.join('\n');
    expect(output).toContain('⏸  paused: 2 tool call(s) wait for approval');
    expect(output).toContain('Payments over $100 require human approval (1250 to acme-supplies) — needs 2 approval(s) from finance + engineering-lead');
    expect(output).toMatch(/▶ {2}resuming from \d+ bytes of JSON with a new Signoff client/);
    expect(output).toMatch(/✗ {2}refused send_payment: approval apr_\S+ was already used at/);
  });
});
