import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { resolveApprovals, signoffToolApproval, withSignoff, type PendingApproval, type SignoffAiSdkOptions } from '@signoff/ai-sdk';
import { createSignoff, type ApprovalRequest } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { generateText, stepCountIs, type LanguageModel, type ModelMessage } from 'ai';
import { createScriptedModel } from './scripted-model.js';
import { createTools, type Executed } from './tools.js';

export const POLICY_FILE = fileURLToPath(new URL('../policy.yaml', import.meta.url));
export const REQUEST = 'Pay invoice inv_1042, email the remittance advice to the vendor, and remove the old vendor globex.';

export interface RunAgentOptions {
  /** A tool-calling model; default: the offline scripted one. */
  readonly model?: LanguageModel;
  /** Print how to decide (curl) and wait for a human instead of the scripted reviewers. */
  readonly manual?: boolean;
  readonly print?: (line: string) => void;
}

export interface RunOutcome {
  /** Tool calls that really executed, in order, with the args they ran with. */
  readonly executed: readonly Executed[];
  /** Tool calls that were not run, with the reason the model was given. */
  readonly refused: ReadonlyArray<{ readonly tool: string; readonly reason: string }>;
  /** Every approval request, as the control plane finally decided it (`executed` once its call ran). */
  readonly approvals: readonly ApprovalRequest[];
  /** What the model was told when the same saved state was resumed a second time (a webhook delivered twice). */
  readonly replayed: ReadonlyArray<{ readonly tool: string; readonly reason: string }>;
  /** The agent's final answer. */
  readonly answer: string;
}

/**
 * Runs the payments/email agent against a local control plane: allowed calls run, the denied one is
 * refused, escalated ones pause as AI SDK tool approvals; reviewers decide; `resolveApprovals`
 * turns their verdicts into `tool-approval-response` parts and the next `generateText` resumes,
 * where the wrapped tools claim each approval before they run. Resuming the same saved state again
 * then runs nothing: an approval runs its call once.
 */
export async function runAgent(options: RunAgentOptions = {}): Promise<RunOutcome> {
  const print = options.print ?? console.log;
  const controlPlane = await startLocalControlPlane({ policy: POLICY_FILE });
  try {
    const connect = () => createSignoff({ policy: POLICY_FILE, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const runId = randomUUID();
    const signoffOptions: SignoffAiSdkOptions = { idempotencyKey: (toolCall) => `${runId}:${toolCall.toolCallId}` };
    const executed: Executed[] = [];
    const tools = createTools(executed);
    const model = options.model ?? createScriptedModel();
    let signoff = connect();
    // The recommended setup: toolApproval pauses; the wrapped tools are the last gate (they re-decide, claim, run the approved args).
    const generate = (messages: ModelMessage[]) =>
      generateText({
        model,
        tools: withSignoff(tools, signoff, { ...signoffOptions, wait: false }),
        instructions: 'You pay vendor invoices and email vendors. Use the tools; when a tool call is refused, say why and move on.',
        messages,
        toolApproval: signoffToolApproval(signoff, signoffOptions),
        stopWhen: stepCountIs(10),
      });

    print(`control plane ${controlPlane.url} · policy ${POLICY_FILE}`);
    print(`user: ${REQUEST}`);
    let messages: ModelMessage[] = [{ role: 'user', content: REQUEST }];
    let result = await generate(messages);
    messages = [...messages, ...result.responseMessages];
    printToolResults(result.responseMessages, print);
    const approvalIds: string[] = [];
    let saved: string | undefined;
    for (;;) {
      const { pending } = await resolveApprovals(messages, signoff, signoffOptions);
      if (pending.length === 0) break;
      print(`⏸  paused: ${pending.length} tool call(s) wait for approval`);
      for (const call of pending) {
        approvalIds.push(call.approval.id);
        const { requiredApprovals, approverRoles } = call.approval.requirements;
        print(`   ${call.approval.id}  ${call.toolCall.toolName} ${JSON.stringify(call.toolCall.input)}`);
        print(`     ${call.approval.reason} — needs ${requiredApprovals} approval(s) from ${approverRoles.length > 0 ? approverRoles.join(' + ') : 'any reviewer'}`);
        if (options.manual) printHowToDecide(controlPlane, call, print);
        else await scriptedReview(controlPlane, call, print);
      }
      if (options.manual) print('   waiting for the decisions (long-poll)…');

      // The paused run is nothing but the message JSON: store it, "restart" with a new client, resume.
      saved = JSON.stringify(messages);
      signoff = connect();
      const resolved = await resolveApprovals(JSON.parse(saved) as ModelMessage[], signoff, { ...signoffOptions, wait: true });
      print(`▶  resumed with ${resolved.responses.map((response) => (response.approved ? 'approved' : 'denied')).join(', ')}`);
      result = await generate(resolved.messages);
      messages = [...resolved.messages, ...result.responseMessages];
      printToolResults(result.responseMessages, print);
    }
    print(`agent: ${result.text}`);
    const refused = deniedResults(messages);

    // The webhook that triggered the resume is delivered again: the same saved state is resumed once more.
    let replayed: RunOutcome['replayed'] = [];
    if (saved) {
      signoff = connect();
      const again = await resolveApprovals(JSON.parse(saved) as ModelMessage[], signoff, signoffOptions);
      const replay = await generate(again.messages);
      print('↻  resumed the same saved state again (a webhook delivered twice)');
      printToolResults(replay.responseMessages, print);
      replayed = deniedResults(replay.responseMessages);
    }
    const approvals = await Promise.all(approvalIds.map((id) => signoff.getApproval(id)));
    return { executed, refused, approvals, answer: result.text, replayed };
  } finally {
    await controlPlane.close();
  }
}

/** The reviewers of this story: finance and the engineering lead approve the payment; security turns the email down. */
async function scriptedReview(controlPlane: LocalControlPlane, call: PendingApproval, print: (line: string) => void): Promise<void> {
  const verdicts: Array<[reviewer: string, verdict: 'approve' | 'deny', comment?: string]> =
    call.toolCall.toolName === 'send_payment' ? [['ana', 'approve'], ['lee', 'approve']] : [['sam', 'deny', 'Remittance advice goes out from the billing system, not from the agent']];
  for (const [reviewer, verdict, comment] of verdicts) {
    await controlPlane.decide(call.approval.id, reviewer, verdict, comment ? { comment } : {});
    print(`     reviewer ${reviewer}: ${verdict}${comment ? ` ("${comment}")` : ''}`);
  }
}

function printHowToDecide(controlPlane: LocalControlPlane, call: PendingApproval, print: (line: string) => void): void {
  const roles = call.approval.requirements.approverRoles;
  const eligible = controlPlane.reviewers.filter((reviewer) => roles.length === 0 || reviewer.roles.some((role) => roles.includes(role)));
  for (const reviewer of eligible) {
    print(`     as ${reviewer.id}: curl -s -X POST ${controlPlane.url}/v1/approvals/${call.approval.id}/decision \\`);
    print(`       -H 'authorization: Bearer ${controlPlane.reviewerKey(reviewer.id)}' -H 'content-type: application/json' -d '{"verdict":"approve"}'`);
  }
}

function deniedResults(messages: readonly ModelMessage[]): Array<{ tool: string; reason: string }> {
  return toolResults(messages)
    .filter((part) => part.output.type === 'execution-denied')
    .map((part) => ({ tool: part.toolName, reason: (part.output as { reason?: string }).reason ?? '' }));
}

function toolResults(messages: readonly ModelMessage[]) {
  return messages.flatMap((message) => (message.role === 'tool' ? message.content : [])).filter((part) => part.type === 'tool-result');
}

function printToolResults(messages: readonly ModelMessage[], print: (line: string) => void): void {
  for (const part of toolResults(messages)) {
    const output = part.output;
    if (output.type === 'execution-denied') print(`✗  refused ${part.toolName}: ${output.reason ?? 'denied'}`);
    else print(`✓  ran     ${part.toolName}: ${output.type === 'text' ? output.value : JSON.stringify('value' in output ? output.value : output)}`);
  }
}
