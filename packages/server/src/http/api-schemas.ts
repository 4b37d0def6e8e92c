import * as z from 'zod';

/** Bodies and query strings of the `/v1` API; every one is strict, so a typo is a 400 naming the field. */

// Bodies come from JSON.parse, so every value is JSON already. These pass values through untouched:
// a rebuilding schema (z.record) drops own `__proto__` keys, and reviewers would approve args that
// differ from the agent's (whose hash then no longer matches).
const Json = z.custom<unknown>(() => true);
const JsonObject = z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), { error: 'expected an object' });

const Sha256 = z.string({ error: 'expected a sha256 hex digest' }).regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest (64 lowercase hex digits)');

/** Text stored in a column of its own (not inside JSON): PostgreSQL's text cannot hold U+0000, so neither store takes it. */
const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_MESSAGE = 'must not contain U+0000 (NUL)';

export const CreateApprovalBody = z.strictObject({
  tool: z.string({ error: 'expected the tool name as a string' }).min(1, 'expected a non-empty tool name').max(200).regex(NO_NUL, NO_NUL_MESSAGE),
  args: Json.default({}),
  context: JsonObject.optional(),
  reason: z.string().max(2_000).optional().describe('The agent’s own reason; the server records its policy’s reason.'),
  idempotencyKey: z.string().min(1).max(200).regex(NO_NUL, NO_NUL_MESSAGE).optional().describe('Replays with the same key return the same request.'),
  requestId: z.string().max(200).optional().describe('The client receipt id of the decision (recorded, not trusted).'),
  callbackUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  onBehalfOf: z.string().min(1).max(200).regex(NO_NUL, NO_NUL_MESSAGE).optional().describe('The user the agent acts for; they cannot approve it.'),
  reviewers: z.array(z.string().min(1).max(200)).max(50).optional().describe('Reviewer ids or roles to notify as well; never lowers the requirements.'),
});

export const DecisionBody = z.strictObject({
  verdict: z.enum(['approve', 'deny'], { error: 'expected approve or deny' }),
  comment: z.string().max(2_000).optional(),
  args: Json.optional().describe('Edited args to approve instead (decided by the policy as if the agent had sent them).'),
  argsHash: Sha256.optional().describe('approvedArgsHash as the reviewer read it: refused with 409 ARGS_CHANGED if the args changed since.'),
});

export const ClaimBody = z.strictObject({
  argsHash: Sha256.describe('sha256 of the args the agent is about to run: must be approvedArgsHash.'),
  nonce: z.string({ error: 'expected a random id of this claiming attempt' }).regex(/^[\w-]{8,100}$/, 'expected 8–100 letters, digits, _ or -').describe('Random per claiming attempt; a retry with the same nonce gets the same answer.'),
});

export const ReportBody = z.strictObject({
  nonce: z.string({ error: 'expected the nonce of the claim' }).min(1).max(100),
  outcome: z.enum(['succeeded', 'failed'], { error: 'expected succeeded or failed' }),
  detail: z.string().max(2_000).optional().describe('A short note (error message, payment id); audited.'),
});

export const ListQuery = z.strictObject({
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'executed']).optional(),
  tool: z.string().max(200).regex(NO_NUL, NO_NUL_MESSAGE).optional(),
  actionable: z.enum(['true', 'false']).optional().describe('Reviewer keys: only requests this reviewer can decide now.'),
  idempotencyKey: z.string().min(1).max(200).regex(NO_NUL, NO_NUL_MESSAGE).optional().describe('The request this key created (agents: their own).'),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
  order: z.enum(['newest', 'deadline']).optional().describe('newest first (default), or deadline: soonest expiresAt first.'),
  cursor: z.string().regex(/^[\w-]{1,400}$/, 'expected the nextCursor of an earlier page').optional().describe('Continue after the last request of an earlier page (its nextCursor).'),
});

export const WaitQuery = z.strictObject({
  timeout: z.coerce.number({ error: 'expected seconds' }).min(0).max(60).default(30),
});

export const RecordCallsBody = z.strictObject({
  calls: z
    .array(
      z.strictObject({
        id: z.string({ error: 'expected a unique id per call' }).regex(/^[\w.:-]{8,100}$/, 'expected 8–100 letters, digits, _ . : or -').describe('Unique per call; a retried report is recorded once.'),
        tool: z.string({ error: 'expected the tool name as a string' }).min(1, 'expected a non-empty tool name').max(200),
        args: Json.default({}),
        context: JsonObject.optional(),
      }),
      { error: 'expected a list of calls' },
    )
    .max(500, 'expected at most 500 calls per report'),
});
