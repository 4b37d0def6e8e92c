export { signoffMiddleware, type SignoffMiddlewareOptions } from './signoff-middleware.js';
export { resumeWhenDecided, type ResumableAgent, type ResumeWhenDecidedOptions } from './resume-when-decided.js';
export { isSignoffInterrupt, type SignoffInterrupt, type SignoffResume } from './signoff-interrupt.js';
export { wrapTool, type WrapToolOptions } from './wrap-tool.js';
export { ToolDeniedError } from './tool-denied-error.js';
