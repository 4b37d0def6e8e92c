import { randomUUID } from 'node:crypto';
import { createSignoff, type ApprovalRequest, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { tool, type Tool } from 'ai';
import { z } from 'zod';

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
  - id: wire-transfers
    tool: wire_transfer
    action: escalate
    reason: "Wire transfers need a quick yes"
    metadata:
      approval_timeout_minutes: 0.01
  - id: small-payments
    tool: payment_send
    action: allow
    reason: "Small payments run without review"
  - id: no-deletes
    tool: record_delete
    action: deny
    reason: "Deleting records is not allowed"
  - id: read-only
    tool: balance_get
    action: allow
    reason: "Read-only tools are always allowed"
`;

export interface PaymentsWorld {
  readonly controlPlane: LocalControlPlane;
  readonly signoff: Signoff;
  /** Every tool execution, in order. */
  readonly executed: Array<{ tool: string; input: unknown }>;
  readonly tools: PaymentTools;
}

type Recorded = { ok: boolean; tool: string };
export type PaymentTools = {
  readonly payment_send: Tool<{ to: string; amount: number }, Recorded>;
  readonly wire_transfer: Tool<{ iban: string; amount: number }, Recorded>;
  readonly record_delete: Tool<{ id: string }, Recorded>;
  readonly balance_get: Tool<Record<string, never>, { balance: number }>;
};

/** A real control plane in-process, a Signoff client for it, and tools that record their runs. */
export async function startPaymentsWorld(): Promise<PaymentsWorld> {
  const controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
  const executed: Array<{ tool: string; input: unknown }> = [];
  return { controlPlane, signoff, executed, tools: paymentTools(executed) };
}

export function paymentTools(executed: Array<{ tool: string; input: unknown }>): PaymentTools {
  const record = (name: string) => (input: unknown) => {
    executed.push({ tool: name, input });
    return { ok: true, tool: name };
  };
  return {
    payment_send: tool({
      description: 'Send a payment',
      inputSchema: z.object({ to: z.string(), amount: z.number() }),
      execute: record('payment_send'),
    }),
    wire_transfer: tool({
      description: 'Wire money abroad',
      inputSchema: z.object({ iban: z.string(), amount: z.number() }),
      execute: record('wire_transfer'),
    }),
    record_delete: tool({
      description: 'Delete a record',
      inputSchema: z.object({ id: z.string() }),
      execute: record('record_delete'),
    }),
    balance_get: tool({
      description: 'Read the balance',
      inputSchema: z.object({}),
      execute: (input: Record<string, never>) => {
        executed.push({ tool: 'balance_get', input });
        return { balance: 1200 };
      },
    }),
  };
}

/** The control plane's pending request for an idempotency key, as reviewer ana sees it. */
export async function pendingRequest(world: PaymentsWorld, idempotencyKey: string): Promise<ApprovalRequest> {
  const request = (await world.controlPlane.actionable('ana')).find((candidate) => candidate.idempotencyKey === idempotencyKey);
  if (!request) throw new Error(`no pending request with key ${idempotencyKey}`);
  return request;
}

/** A fresh tool call id, so tests sharing one control plane never replay each other's requests. */
export function callId(label: string): string {
  return `${label}-${randomUUID()}`;
}

/** The tool results (as the model receives them) in the last prompt the model saw. */
export function lastToolResults(prompts: readonly unknown[]): Array<{ toolCallId: string; output: { type: string; reason?: string; value?: unknown } }> {
  const prompt = (prompts.at(-1) ?? []) as Array<{ role: string; content: unknown }>;
  return prompt
    .filter((message) => message.role === 'tool')
    .flatMap((message) => message.content as Array<{ type: string; toolCallId: string; output: { type: string; reason?: string } }>)
    .filter((part) => part.type === 'tool-result');
}

/** A new Signoff client for the world's control plane, as a restarted process builds it; `fetch` sees its HTTP calls. */
export function connect(world: PaymentsWorld, fetchImpl?: typeof fetch): Signoff {
  return createSignoff({ policy, controlPlane: { url: world.controlPlane.url, apiKey: world.controlPlane.agentKey, ...(fetchImpl ? { fetch: fetchImpl } : {}) } });
}

/** The control plane's current state of a request (read with a fresh client). */
export async function currentRequest(world: PaymentsWorld, id: string): Promise<ApprovalRequest> {
  return connect(world).getApproval(id);
}
