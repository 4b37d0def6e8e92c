export { signoffHooks, approvalKey, type SignoffHooksOptions } from './signoff-hooks.js';
export { resumeWhenDecided, type ResumeWhenDecidedOptions } from './resume-when-decided.js';
export { assertSupportedSdkVersion, SUPPORTED_SDK_RANGE } from './assert-supported-sdk-version.js';
