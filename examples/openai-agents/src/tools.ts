import { tool, type FunctionTool } from '@openai/agents';
import { z } from 'zod';

/** A tool call that really executed (what the example and its test check). */
export interface Executed {
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

/** The payments/email agent's tools; each records its execution in `executed`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createTools(executed: Executed[]): FunctionTool<any, any, any>[] {
  return [
    tool({
      name: 'get_invoice',
      description: 'Look up an invoice by id',
      parameters: z.object({ id: z.string() }),
      execute: async (args) => {
        executed.push({ tool: 'get_invoice', args });
        return JSON.stringify({ id: args.id, vendor: 'acme-supplies', email: 'billing@acme-supplies.com', amount: 1250, currency: 'USD' });
      },
    }),
    tool({
      name: 'send_payment',
      description: 'Send a payment to a vendor',
      parameters: z.object({ to: z.string(), amount: z.number(), currency: z.string(), reference: z.string() }),
      execute: async (args) => {
        executed.push({ tool: 'send_payment', args });
        return `Paid ${args.amount} ${args.currency} to ${args.to} (ref ${args.reference})`;
      },
    }),
    tool({
      name: 'send_email',
      description: 'Send an email',
      parameters: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
      execute: async (args) => {
        executed.push({ tool: 'send_email', args });
        return `Email sent to ${args.to}`;
      },
    }),
    tool({
      name: 'delete_vendor',
      description: 'Remove a vendor from the vendor list',
      parameters: z.object({ vendor: z.string() }),
      execute: async (args) => {
        executed.push({ tool: 'delete_vendor', args });
        return `Vendor ${args.vendor} deleted`;
      },
    }),
  ];
}
