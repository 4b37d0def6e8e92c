import type { ToolHandlers } from '@signoff/openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { FunctionTool } from 'openai/resources/responses/responses';

/** A tool call that really executed (what the example and its test check). */
export interface Executed {
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

const string = { type: 'string' } as const;
const object = (properties: Record<string, unknown>) => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false });

/** The functions the model may call, as JSON schemas (strict mode). */
const definitions = {
  get_invoice: { description: 'Look up an invoice by id', parameters: object({ id: string }) },
  send_payment: { description: 'Send a payment to a vendor', parameters: object({ to: string, amount: { type: 'number' }, currency: string, reference: string }) },
  send_email: { description: 'Send an email', parameters: object({ to: string, subject: string, body: string }) },
  delete_vendor: { description: 'Remove a vendor from the vendor list', parameters: object({ vendor: string }) },
};

/** For `chat.completions.create({ tools })`. */
export const chatTools: ChatCompletionTool[] = Object.entries(definitions).map(([name, { description, parameters }]) => ({
  type: 'function',
  function: { name, description, parameters, strict: true },
}));

/** For `responses.create({ tools })`. */
export const responsesTools: FunctionTool[] = Object.entries(definitions).map(([name, { description, parameters }]) => ({
  type: 'function',
  name,
  description,
  parameters,
  strict: true,
}));

/** The implementations, by function name; each records its execution in `executed`. */
export function createHandlers(executed: Executed[]): ToolHandlers {
  return {
    get_invoice: async (args: { id: string }) => {
      executed.push({ tool: 'get_invoice', args });
      return { id: args.id, vendor: 'acme-supplies', email: 'billing@acme-supplies.com', amount: 1250, currency: 'USD' };
    },
    send_payment: async (args: { to: string; amount: number; currency: string; reference: string }) => {
      executed.push({ tool: 'send_payment', args });
      return `Paid ${args.amount} ${args.currency} to ${args.to} (ref ${args.reference})`;
    },
    send_email: async (args: { to: string; subject: string; body: string }) => {
      executed.push({ tool: 'send_email', args });
      return `Email sent to ${args.to}`;
    },
    delete_vendor: async (args: { vendor: string }) => {
      executed.push({ tool: 'delete_vendor', args });
      return `Vendor ${args.vendor} deleted`;
    },
  };
}
