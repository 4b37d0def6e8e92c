export { assertSupportedAiVersion, SUPPORTED_AI_RANGE } from './assert-supported-ai-version.js';
export {
  getToolCallVerdict,
  type GetToolCallVerdictOptions,
  type SignoffAiSdkOptions,
  type SignoffToolCall,
  type ToolCallVerdict,
  type WaitOption,
} from './get-tool-call-verdict.js';
export { signoffToolApproval, type SignoffToolApproval, type SignoffToolApprovalInput } from './signoff-tool-approval.js';
export { resolveApprovals, type PendingApproval, type ResolveApprovalsOptions, type ResolvedApprovals } from './resolve-approvals.js';
export { withSignoff, type SignoffDeniedOutput, type SignoffTools, type WithSignoffOptions } from './with-signoff.js';
export { createSignoffAiSdk, type SignoffAiSdk } from './create-signoff-ai-sdk.js';
