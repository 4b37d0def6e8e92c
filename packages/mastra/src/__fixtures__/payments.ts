import { randomUUID } from 'node:crypto';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import type { MastraCompositeStore } from '@mastra/core/storage';
import { InMemoryStore } from '@mastra/core/storage';
import { createTool } from '@mastra/core/tools';
import { createSignoff, type ApprovalRequest, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { z } from 'zod';
import { withSignoff, type SignoffMastraOptions } from '../with-signoff.js';
import { scriptedModel, type ScriptedTurn } from '@signoff/ai-sdk/testing';

/** Tool names use `_`: providers such as OpenAI refuse dots in function names. */
export const policy = `
version: 1
default: deny
rules:
  - id: huge-payments
    tool: payment_send
    action: deny
    when:
      args.amount: { gt: 10000 }
    reason: "Payments over $10,000 are never made by an agent"
  - id: big-payments
    tool: payment_send
    action: escalate
    when:
      args.amount: { gt: 100 }
    reason: "Payments over $100 require approval ({args.amount} to {args.to})"
    metadata:
      approver_roles: [finance]
  - id: small-payments
    tool: payment_send
    action: allow
    reason: "Small payments run without review"
  - id: read-only
    tool: balance_get
    action: allow
    reason: "Read-only tools are always allowed"
`;

/**
 * Mastra declares Node >= 22.13. CI runs these tests on Node 22 and 24; on an older Node they are
 * skipped unless SIGNOFF_MASTRA_ON_OLD_NODE=1 (they passed on Node 20.20 when last tried).
 */
export const mastraUnsupportedNode = (() => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 13) || process.env.SIGNOFF_MASTRA_ON_OLD_NODE === '1') return false;
  console.warn(`@signoff/mastra tests skipped: @mastra/core needs Node >= 22.13 and this is Node ${process.versions.node} (CI runs them on Node 22 and 24; SIGNOFF_MASTRA_ON_OLD_NODE=1 runs them anyway)`);
  return true;
})();

export interface World {
  readonly controlPlane: LocalControlPlane;
  readonly signoff: Signoff;
}

/** A real control plane in-process and a Signoff client for it. */
export async function startWorld(): Promise<World> {
  const controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  return { controlPlane, signoff: connect(controlPlane) };
}

/** A Signoff client as a (restarted) agent process builds it. */
export function connect(controlPlane: { readonly url: string; readonly agentKey: string }): Signoff {
  return createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
}

/** Every real tool execution, in order. */
export type Executions = Array<{ tool: string; input: unknown }>;

export function paymentTools(executed: Executions) {
  return {
    payment_send: createTool({
      id: 'payment_send',
      description: 'Send a payment',
      inputSchema: z.object({ to: z.string(), amount: z.number() }),
      execute: async (input) => {
        executed.push({ tool: 'payment_send', input });
        return { ok: true, paid: input.amount };
      },
    }),
    balance_get: createTool({
      id: 'balance_get',
      description: 'Read the balance',
      inputSchema: z.object({}),
      execute: async (input) => {
        executed.push({ tool: 'balance_get', input });
        return { balance: 1200 };
      },
    }),
  };
}

export interface Payer {
  readonly agent: Agent;
  readonly executed: Executions;
  readonly model: ReturnType<typeof scriptedModel>;
}

/** A Mastra agent whose payment tools are gated by Signoff, registered on a Mastra with `storage`. */
export function startPayer(signoff: Signoff, turns: readonly ScriptedTurn[], options: { storage?: MastraCompositeStore; signoffOptions?: SignoffMastraOptions } = {}): Payer {
  const executed: Executions = [];
  const model = scriptedModel(turns);
  const agent = new Agent({ id: 'payer', name: 'Payer', instructions: 'You pay invoices.', model: model as never, tools: withSignoff(paymentTools(executed), signoff, options.signoffOptions) });
  const mastra = new Mastra({ agents: { payer: agent }, storage: options.storage ?? new InMemoryStore(), logger: false });
  return { agent: mastra.getAgent('payer'), executed, model };
}

/** The control plane's pending request for an idempotency key, as reviewer ana sees it. */
export async function pendingRequest(controlPlane: LocalControlPlane, idempotencyKey: string): Promise<ApprovalRequest> {
  const request = (await controlPlane.actionable('ana')).find((candidate) => candidate.idempotencyKey === idempotencyKey);
  if (!request) throw new Error(`no pending request with key ${idempotencyKey}`);
  return request;
}

/** Waits until the control plane holds a pending request for the key (the resume helper files it). */
export async function eventuallyPending(controlPlane: LocalControlPlane, idempotencyKey: string): Promise<ApprovalRequest> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await pendingRequest(controlPlane, idempotencyKey);
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A fresh tool call id, so tests sharing one control plane never replay each other's requests. */
export function callId(label: string): string {
  return `${label}-${randomUUID()}`;
}

/** The tool results the model saw in its last prompt, by tool call id. */
export function lastToolResults(prompts: readonly unknown[]): Record<string, unknown> {
  const prompt = (prompts.at(-1) ?? []) as Array<{ role: string; content: unknown }>;
  const results: Record<string, unknown> = {};
  for (const message of prompt.filter((candidate) => candidate.role === 'tool')) {
    for (const part of message.content as Array<{ type: string; toolCallId: string; output: { type: string; value: unknown } }>) {
      if (part.type === 'tool-result') results[part.toolCallId] = part.output.value;
    }
  }
  return results;
}

export const payAcme = (id: string, amount = 500): ScriptedTurn => ({ toolCalls: [{ id, name: 'payment_send', input: { to: 'acme', amount } }] });
