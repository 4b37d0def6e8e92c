export { signoffHooks, signoffOptions, approvalKey, type SignoffHooksOptions, type SignoffOptionsOptions, type SignoffQueryOptions } from './signoff-hooks.js';
export { resumeWhenDecided, type ResumeWhenDecidedOptions } from './resume-when-decided.js';
export { assertSupportedSdkVersion, SUPPORTED_SDK_RANGE } from './assert-supported-sdk-version.js';
export { callsAwaitingApproval, type CallAwaitingApproval } from './calls-awaiting-approval.js';
