// The README quick starts under test. Each names the README blocks it is made of — marked in the
// README with `<!-- quickstart: NAME -->` right before the fence — and what the README leaves to
// the reader ("your tools", "your model"), which fixtures/apps/<app>.ts provides. The snippet
// itself is only ever read from the README.

/** Blocks that install packages and start the control plane (`signoff serve`) for every quick start. */
export const SERVER = { readme: 'packages/server/README.md', marker: 'serve' };
/** Blocks that the reviewer's CLI commands come from. */
export const REVIEWER = { readme: 'packages/cli/README.md', marker: 'approve' };

export const QUICKSTARTS = [
  {
    name: 'root-authorize',
    title: 'root README: createSignoff + authorize',
    readme: 'README.md',
    marker: 'authorize',
    app: 'core-client',
    provides: ['sendPayment'],
    tool: 'payment.send',
  },
  {
    name: 'core-guard',
    title: 'core: createGuard (local decisions only)',
    readme: 'packages/core/README.md',
    marker: 'guard',
    install: 'install',
    app: 'core-client',
    provides: ['sendPayment'],
    // No control plane involved: a $500 payment escalates, so nothing runs and nothing is requested.
    kind: 'local',
  },
  {
    name: 'core-client',
    title: 'core: createSignoff / authorize',
    readme: 'packages/core/README.md',
    marker: 'client',
    install: 'install',
    app: 'core-client',
    provides: ['sendPayment'],
    tool: 'payment.send',
  },
  {
    name: 'langchain',
    title: 'LangChain createAgent + signoffMiddleware + wrapTool',
    readme: 'packages/langchain/README.md',
    marker: 'langchain',
    install: 'install',
    app: 'langchain',
    provides: ['sendPayment', 'sendEmail'],
    tool: 'send_payment',
    // `model: 'openai:…'` needs the provider package, as LangChain's docs say; the install line names it.
  },
  {
    name: 'ai-sdk',
    title: 'AI SDK createSignoffAiSdk',
    readme: 'packages/ai-sdk/README.md',
    marker: 'ai-sdk',
    install: 'install',
    app: 'ai-sdk',
    provides: ['model', 'tools'],
    // The README leaves the model to you; the app passes @ai-sdk/openai's, which this installs.
    extraPackages: ['@ai-sdk/openai@^4'],
    tool: 'send_payment',
  },
  {
    name: 'openai-loop',
    title: 'OpenAI raw loop (block)',
    readme: 'packages/openai/README.md',
    marker: 'openai-loop',
    install: 'install',
    app: 'openai-loop',
    provides: ['invoices', 'payments', 'schemas', 'threadId'],
    tool: 'send_payment',
  },
  {
    name: 'openai-pause',
    title: 'OpenAI raw loop (pause, save, resume in another process)',
    readme: 'packages/openai/README.md',
    marker: 'openai-pause',
    install: 'install',
    app: 'openai-pause',
    provides: ['signoff', 'tools', 'schemas', 'threadId', 'db'],
    tool: 'send_payment',
    // It saves the paused batch; its second half resumes it. The reviewer decides after the first run.
    reviewerDecides: 'after-run',
  },
  {
    name: 'openai-agents',
    title: 'OpenAI Agents SDK withSignoff + resolveInterruptions',
    readme: 'packages/openai/README.md',
    marker: 'openai-agents',
    install: 'install',
    app: 'openai-agents',
    provides: ['signoff', 'pay', 'threadId', 'db'],
    tool: 'send_payment',
    // It saves the paused run and exits; "later, in any process" resumes it.
    reviewerDecides: 'after-run',
  },
  {
    name: 'mastra',
    title: 'Mastra withSignoff + resumeWithSignoff (suspended run in LibSQL storage)',
    readme: 'packages/mastra/README.md',
    marker: 'mastra',
    install: 'install',
    app: 'mastra',
    provides: ['instructions', 'model', 'paymentTool'],
    // The README leaves the model to you; the app passes Mastra's OpenAI config pointed at the
    // scripted model (`agent.generate` calls its Responses API, not streaming), and defines the tool with zod.
    extraPackages: ['zod@^4'],
    tool: 'payment_send',
    // @mastra/core and @mastra/libsql declare Node >= 22.13: on an older Node it is skipped, with this reason.
    minNode: '22.13.0',
  },
  {
    name: 'claude-agent-sdk',
    title: 'Claude Agent SDK signoffOptions + callsAwaitingApproval + resumeWhenDecided (the real bundled Claude Code)',
    readme: 'packages/claude-agent-sdk/README.md',
    marker: 'claude-agent-sdk',
    install: 'install',
    // The snippet's `./coding.policy.yaml` is the README's policy block, written there as it stands.
    files: { 'coding.policy.yaml': 'coding-policy' },
    // `/work/repo` stands for your repository (the snippet's cwd, the policy's workspace): here a
    // fresh folder in the project, in the snippet and the policy alike. Nothing else is changed.
    yourFolders: { '/work/repo': 'repo' },
    // Claude Code plays the scripted model over ANTHROPIC_BASE_URL; its Bash tool really runs the
    // escalated `git push` command (an echo into pushes.log), which the harness reads.
    kind: 'claude',
    tool: 'Bash',
  },
  {
    name: 'mcp',
    title: 'MCP proxy (signoff-mcp in front of server-filesystem)',
    readme: 'packages/mcp/README.md',
    marker: 'mcp',
    kind: 'mcp',
    tool: 'write_file',
  },
];

/** Quick starts this harness does not follow yet, with why: printed with every summary. */
export const NOT_COVERED = [];
