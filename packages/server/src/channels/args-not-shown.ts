import type { ApprovalRequest } from '@signoff/core';

/** The `decision.refused` code of an Approve from a channel that could not show the args whole. */
export const ARGS_NOT_SHOWN = 'ARGS_NOT_SHOWN';

export interface ArgsNotShownInput {
  readonly verdict: 'approve' | 'deny';
  /** The hash of the args the button or form says it showed (what the engine will bind the decision to). */
  readonly argsHash: string | undefined;
  /** Whether this channel shows these args whole: the same test its rendering used to offer Approve. */
  readonly showsWhole: (args: unknown) => boolean;
  /** Where the reviewer was, for the reason: `this Slack message`, `the email confirm page`. */
  readonly where: string;
}

/**
 * Why an Approve must be refused because its channel could not show the args it would approve —
 * or `undefined` when it may go on to the approval engine. Channels render no Approve for such
 * requests; this is the server-side half, for a forged click or a crafted form. Denials always
 * pass (denying what you could not read whole is safe), and so do hashes naming args the request
 * no longer has: the engine refuses those itself (`ARGS_CHANGED`) in the decision's transaction,
 * which also binds an approval that passes here to exactly the args checked here.
 *
 * @example
 * const reason = argsNotShown(request, { verdict, argsHash, showsWhole: slackShowsArgsWhole, where: 'this Slack message' });
 * if (reason) await service.recordRefusal({ type: 'decision.refused', requestId: request.id, actor: reviewer.id, channel: 'slack', detail: { verdict, code: ARGS_NOT_SHOWN, reason } });
 */
export function argsNotShown(request: ApprovalRequest, input: ArgsNotShownInput): string | undefined {
  if (input.verdict !== 'approve' || request.status !== 'pending') return undefined;
  const named =
    input.argsHash === undefined || input.argsHash === request.approvedArgsHash
      ? { args: request.approvedArgs }
      : input.argsHash === request.argsHash
        ? { args: request.args }
        : undefined;
  if (!named || input.showsWhole(named.args)) return undefined;
  return `the args are too long for ${input.where} to show whole, so it cannot approve them; read them whole in the inbox (or the API or CLI) and approve there`;
}
