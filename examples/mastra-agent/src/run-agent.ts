import { fileURLToPath } from 'node:url';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { InMemoryStore } from '@mastra/core/storage';
import { createTool } from '@mastra/core/tools';
import { createSignoff } from '@signoff/core';
import { resumeWithSignoff, withSignoff } from '@signoff/mastra';
import { startLocalControlPlane } from '@signoff/server';
import { z } from 'zod';
import { scriptedModel } from '@signoff/ai-sdk/testing';

const policyFile = fileURLToPath(new URL('../policy.yaml', import.meta.url));

/** What the run did: the payments really sent, and the agent's last answer. */
export interface AgentRun {
  readonly sent: Array<{ to: string; amount: number }>;
  readonly text: string;
}

/**
 * A payments agent on Mastra with Signoff: $50 runs, $50,000 is refused, $500 and $900 suspend the
 * run until reviewer Ana (played here through the control plane's API) approves the first and
 * denies the second. Each approved call runs once.
 */
export async function runAgent(log: (line: string) => void = console.log): Promise<AgentRun> {
  const controlPlane = await startLocalControlPlane({ policy: policyFile });
  try {
    const signoff = createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const sent: Array<{ to: string; amount: number }> = [];
    const payment_send = createTool({
      id: 'payment_send',
      description: 'Send a payment',
      inputSchema: z.object({ to: z.string(), amount: z.number() }),
      execute: async (payment) => {
        sent.push(payment);
        log(`  💸 sent $${payment.amount} to ${payment.to}`);
        return { ok: true };
      },
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { id: 'call_1', name: 'payment_send', input: { to: 'coffee', amount: 50 } },
          { id: 'call_2', name: 'payment_send', input: { to: 'acme', amount: 500 } },
          { id: 'call_3', name: 'payment_send', input: { to: 'globex', amount: 900 } },
          { id: 'call_4', name: 'payment_send', input: { to: 'initech', amount: 50_000 } },
        ],
      },
      { text: 'Paid coffee and acme; globex was denied; initech is never paid by an agent.' },
    ]);
    const payer = new Agent({ id: 'payer', name: 'Payer', instructions: 'You pay invoices.', model: model as never, tools: withSignoff({ payment_send }, signoff) });
    const agent = new Mastra({ agents: { payer }, storage: new InMemoryStore(), logger: false }).getAgent('payer');

    // Ana reviews whatever is pending: approves acme, denies globex.
    const reviewer = setInterval(async () => {
      for (const request of await controlPlane.actionable('ana').catch(() => [])) {
        const approve = (request.args as { to: string }).to === 'acme';
        log(`  👩 Ana ${approve ? 'approves' : 'denies'} ${request.tool} ${JSON.stringify(request.args)}`);
        await controlPlane.decide(request.id, 'ana', approve ? 'approve' : 'deny', { comment: approve ? 'known vendor' : 'unknown vendor' }).catch(() => undefined);
      }
    }, 100);
    try {
      let output = await agent.generate('Pay this week’s invoices');
      while (output.finishReason === 'suspended') {
        const { toolCallId, args } = output.suspendPayload as { toolCallId: string; args: unknown };
        log(`⏸  suspended on ${toolCallId} ${JSON.stringify(args)}`);
        const resumed = await resumeWithSignoff(agent, signoff, { runId: output.runId! });
        log(`▶  ${resumed.status}: ${resumed.reason}`);
        if (resumed.status !== 'approved' && resumed.status !== 'declined') break;
        output = resumed.output;
      }
      log(`🤖 ${output.text}`);
      return { sent, text: output.text };
    } finally {
      clearInterval(reviewer);
    }
  } finally {
    await controlPlane.close();
  }
}
