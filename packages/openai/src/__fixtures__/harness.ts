import { createSignoff, type ApprovalRequest, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import OpenAI from 'openai';
import { startScriptedOpenAIServer, type ScriptedOpenAIServer } from '../testing/scripted-openai-server.js';

/** OpenAI function names cannot contain dots, so the policy names tools the way the model calls them. */
export const policy = `
version: 1
default: deny
rules:
  - id: big-payments
    tool: send_payment
    action: escalate
    when:
      args.amount: { gt: 100 }
    reason: "Payments over $100 require approval ({args.amount} to {args.to})"
    metadata: { approver_roles: [finance], approval_timeout_minutes: 5 }
  - id: small-payments
    tool: send_payment
    action: allow
    reason: "Small payments run without review"
  - id: wires
    tool: wire_transfer
    action: escalate
    reason: "Wire transfers need finance approval"
    metadata: { approver_roles: [finance], approval_timeout_minutes: 0.01 }
  - id: no-deletes
    tool: delete_account
    action: deny
    reason: "Deleting accounts is never allowed"
  - id: read-only
    tool: "get_*"
    action: allow
    reason: "Read-only tools are always allowed"
`;

export interface Harness {
  readonly controlPlane: LocalControlPlane;
  readonly model: ScriptedOpenAIServer;
  /** The official client, pointed at the scripted server. */
  readonly openai: OpenAI;
  /**
   * A fresh agent-side Signoff client, as a restarted process would create it. `traffic` collects
   * each control-plane call it makes (`POST /v1/approvals/apr_…/execution`); `fetch` replaces its fetch.
   */
  newSignoff(options?: { traffic?: string[]; fetch?: typeof fetch }): Signoff;
  /** Waits until `reviewer` has a pending request (for these args, when given) to act on, then decides it. */
  decideNext(reviewer: string, verdict: 'approve' | 'deny', extra?: { comment?: string; args?: unknown; forArgs?: Record<string, unknown> }): Promise<ApprovalRequest>;
  close(): Promise<void>;
}

/** A real control plane (fast sweeper for the timeout tests) and the scripted OpenAI server. */
export async function startHarness(): Promise<Harness> {
  const controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  const model = await startScriptedOpenAIServer();
  const newSignoff = ({ traffic, fetch: customFetch = fetch }: { traffic?: string[]; fetch?: typeof fetch } = {}): Signoff => {
    const recordingFetch: typeof fetch = async (input, init) => {
      traffic?.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return customFetch(input, init);
    };
    return createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey, fetch: recordingFetch } });
  };
  return {
    controlPlane,
    model,
    openai: new OpenAI({ baseURL: model.baseURL, apiKey: 'sk-test', maxRetries: 0 }),
    newSignoff,
    async decideNext(reviewer, verdict, { forArgs, ...extra } = {}) {
      const wanted = (request: ApprovalRequest): boolean =>
        !forArgs || Object.entries(forArgs).every(([key, value]) => (request.args as Record<string, unknown>)[key] === value);
      for (;;) {
        const next = (await controlPlane.actionable(reviewer)).find(wanted);
        if (next) return controlPlane.decide(next.id, reviewer, verdict, extra);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      await Promise.all([controlPlane.close(), model.close()]);
    },
  };
}
