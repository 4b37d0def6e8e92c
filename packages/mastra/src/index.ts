export { assertSupportedMastraVersion, SUPPORTED_MASTRA_RANGE } from './assert-supported-mastra-version.js';
export {
  isSignoffRefusal,
  isSignoffTool,
  withSignoff,
  type SignoffMastraCall,
  type SignoffMastraOptions,
  type SignoffMastraTools,
  type SignoffRefusal,
} from './with-signoff.js';
export { resumeWithSignoff, type ResumeWithSignoffOptions, type ResumeWithSignoffResult } from './resume-with-signoff.js';
