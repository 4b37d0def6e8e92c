import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Agent, OpenAIResponsesModel, run, RunState, setTracingDisabled, type Model, type RunItem } from '@openai/agents';
import { createSignoff, type ApprovalRequest, type Signoff } from '@signoff/core';
import { resolveInterruptions, withSignoff, type SignoffAgentsOptions } from '@signoff/openai';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import OpenAI from 'openai';
import { startScriptedOpenAIServer, toolResults, type ScriptedOpenAIServer } from '@signoff/openai/testing';
import { createTools, type Executed } from './tools.js';

export const POLICY_FILE = fileURLToPath(new URL('../policy.yaml', import.meta.url));
export const REQUEST = 'Pay invoice inv_1042, email the remittance advice to the vendor, and remove the old vendor globex.';

/** What the run context carries: the run id that namespaces the approvals' idempotency keys. */
interface PaymentsContext {
  readonly runId: string;
}

export interface RunAgentOptions {
  /** A model name for the SDK's default OpenAI client (needs OPENAI_API_KEY); default: the offline scripted server. */
  readonly model?: string;
  /** Print how to decide (curl) and wait for a human instead of the scripted reviewers. */
  readonly manual?: boolean;
  readonly print?: (line: string) => void;
}

export interface RunOutcome {
  readonly executed: readonly Executed[];
  /** Tool calls that were not run, with what the model was told. */
  readonly refused: ReadonlyArray<{ readonly tool: string; readonly output: string }>;
  /** Every approval request, as the control plane finally decided it (a used one is `executed`). */
  readonly approvals: readonly ApprovalRequest[];
  readonly answer: string;
  /** What the escalated calls answered when the stored RunState was resumed once more (a retried webhook): nothing ran again. */
  readonly replayed: ReadonlyArray<{ readonly tool: string; readonly output: string }>;
}

const signoffOptions: SignoffAgentsOptions<PaymentsContext> = { runId: ({ context }) => context.runId };

/**
 * Runs the payments/email agent against a local control plane: the allowed tool runs, the denied one
 * is refused by Signoff's tool input guardrail, escalated ones become interruptions; reviewers
 * decide; the run state is stored as a string, restored in a "restarted" process with
 * `RunState.fromString`, and `resolveInterruptions` approves or rejects from the verdicts. Then the
 * same stored string is resumed once more, as a retried webhook would: the payment does not run
 * again — the wrapped tool claims its approval before it runs, and an approval runs its call once.
 */
export async function runAgent(options: RunAgentOptions = {}): Promise<RunOutcome> {
  const print = options.print ?? console.log;
  const controlPlane = await startLocalControlPlane({ policy: POLICY_FILE });
  const scripted = options.model ? undefined : await startScriptedOpenAIServer();
  try {
    let model: string | Model = options.model ?? 'scripted';
    if (scripted) {
      scriptTheModel(scripted);
      setTracingDisabled(true); // offline: nothing to export traces to
      model = new OpenAIResponsesModel(new OpenAI({ baseURL: scripted.baseURL, apiKey: 'offline', maxRetries: 0 }), 'scripted');
    }
    const executed: Executed[] = [];
    const connect = (): Signoff => createSignoff({ policy: POLICY_FILE, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    // Each "process" builds its own client and agent; the tools are the same, wrapped with Signoff.
    const createAgent = (signoff: Signoff) =>
      new Agent<PaymentsContext>({
        name: 'Payments',
        instructions: 'You pay vendor invoices and email vendors. Use the tools; when a tool call is refused, say why and move on.',
        model,
        tools: createTools(executed).map((each) => withSignoff(each, signoff, signoffOptions)),
      });

    print(`control plane ${controlPlane.url} · policy ${POLICY_FILE}`);
    print(`user: ${REQUEST}`);
    let signoff = connect();
    let agent = createAgent(signoff);
    const context: PaymentsContext = { runId: randomUUID() };
    let result = await run(agent, REQUEST, { context });
    const seen = new Set<string>();
    const refused = report(result.newItems, seen, print);
    const approvalIds: string[] = [];
    let stored: string | undefined;
    while (result.interruptions.length > 0) {
      const paused = await resolveInterruptions(result, signoff, signoffOptions); // creates the approval requests
      print(`⏸  interrupted: ${paused.pending.length} tool call(s) wait for approval`);
      for (const approval of Object.values(paused.approvals)) {
        approvalIds.push(approval.id);
        const { requiredApprovals, approverRoles } = approval.requirements;
        print(`   ${approval.id}  ${approval.tool} ${JSON.stringify(approval.args)}`);
        print(`     ${approval.reason} — needs ${requiredApprovals} approval(s) from ${approverRoles.length > 0 ? approverRoles.join(' + ') : 'any reviewer'}`);
        if (options.manual) printHowToDecide(controlPlane, approval, print);
        else await scriptedReview(controlPlane, approval, print);
      }
      if (options.manual) print('   waiting for the decisions (long-poll)…');

      // A paused run is a string: store it, "restart" with a new client and agent, restore, resolve, run.
      stored = paused.state.toString();
      signoff = connect();
      agent = createAgent(signoff);
      const state = await RunState.fromString<PaymentsContext, typeof agent>(agent, stored);
      const resolved = await resolveInterruptions(state, signoff, { ...signoffOptions, wait: true });
      print(`▶  restored ${stored.length} characters of RunState; approved ${resolved.approved.length}, rejected ${resolved.rejected.length}`);
      result = await run(agent, resolved.state);
      refused.push(...report(result.newItems, seen, print));
    }
    const answer = String(result.finalOutput ?? '');
    print(`agent: ${answer}`);
    const replayed = stored === undefined ? [] : await replay(stored, connect(), createAgent, print);
    const approvals = await Promise.all(approvalIds.map((id) => signoff.getApproval(id)));
    return { executed, refused, approvals, answer, replayed };
  } finally {
    await Promise.all([controlPlane.close(), scripted?.close()]);
  }
}

/** Restores, resolves and runs the same stored RunState again, with a new client and agent, as a retried webhook would. */
async function replay(
  stored: string,
  signoff: Signoff,
  createAgent: (signoff: Signoff) => Agent<PaymentsContext>,
  print: (line: string) => void,
): Promise<RunOutcome['replayed']> {
  print('↺  restoring the same stored RunState again (a retried webhook, a second worker)');
  const agent = createAgent(signoff);
  const state = await RunState.fromString<PaymentsContext, typeof agent>(agent, stored);
  const interrupted = new Set(state.getInterruptions().flatMap((item) => (item.rawItem.type === 'function_call' ? [item.rawItem.callId] : [])));
  const result = await run(agent, (await resolveInterruptions(state, signoff, signoffOptions)).state);
  // Print only the calls that were waiting for approval; the earlier ones were answered before the pause.
  const earlier = new Set(result.newItems.flatMap((item) => (item.type === 'tool_call_output_item' && item.rawItem.type === 'function_call_result' && !interrupted.has(item.rawItem.callId) ? [item.rawItem.callId] : [])));
  return report(result.newItems, earlier, print);
}

/** Prints each tool output once; returns the refused ones (Signoff's answers start with "Tool call"). */
function report(items: readonly RunItem[], seen: Set<string>, print: (line: string) => void): Array<{ tool: string; output: string }> {
  const refused: Array<{ tool: string; output: string }> = [];
  for (const item of items) {
    if (item.type !== 'tool_call_output_item' || item.rawItem.type !== 'function_call_result' || seen.has(item.rawItem.callId)) continue;
    seen.add(item.rawItem.callId);
    const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output);
    const isRefusal = /^Tool (call|execution)/.test(output);
    if (isRefusal) refused.push({ tool: item.rawItem.name, output });
    print(`${isRefusal ? '✗  refused' : '✓  ran    '} ${item.rawItem.name}: ${output}`);
  }
  return refused;
}

/** The reviewers of this story: finance and the engineering lead approve the payment; security turns the email down. */
async function scriptedReview(controlPlane: LocalControlPlane, approval: ApprovalRequest, print: (line: string) => void): Promise<void> {
  const verdicts: Array<[reviewer: string, verdict: 'approve' | 'deny', comment?: string]> =
    approval.tool === 'send_payment' ? [['ana', 'approve'], ['lee', 'approve']] : [['sam', 'deny', 'Remittance advice goes out from the billing system, not from the agent']];
  for (const [reviewer, verdict, comment] of verdicts) {
    await controlPlane.decide(approval.id, reviewer, verdict, comment ? { comment } : {});
    print(`     reviewer ${reviewer}: ${verdict}${comment ? ` ("${comment}")` : ''}`);
  }
}

function printHowToDecide(controlPlane: LocalControlPlane, approval: ApprovalRequest, print: (line: string) => void): void {
  const roles = approval.requirements.approverRoles;
  for (const reviewer of controlPlane.reviewers.filter((each) => roles.length === 0 || each.roles.some((role) => roles.includes(role)))) {
    print(`     as ${reviewer.id}: curl -s -X POST ${controlPlane.url}/v1/approvals/${approval.id}/decision \\`);
    print(`       -H 'authorization: Bearer ${controlPlane.reviewerKey(reviewer.id)}' -H 'content-type: application/json' -d '{"verdict":"approve"}'`);
  }
}

/** The offline model: reads the invoice and tries to delete a vendor, then pays and emails in one turn, then sums up. */
function scriptTheModel(server: ScriptedOpenAIServer): void {
  server.script(
    { toolCalls: [{ name: 'get_invoice', arguments: { id: 'inv_1042' } }, { name: 'delete_vendor', arguments: { vendor: 'globex' } }] },
    {
      toolCalls: [
        { name: 'send_payment', arguments: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' } },
        { name: 'send_email', arguments: { to: 'billing@acme-supplies.com', subject: 'Remittance advice for inv_1042', body: 'We paid 1250 USD for inv_1042.' } },
      ],
    },
    {
      text: (request) =>
        toolResults(request)
          .slice(2)
          .map(({ name, output }) => `${name}: ${output.replace(/^Tool call denied: /, 'not done — ')}`)
          .join('\n'),
    },
  );
}
