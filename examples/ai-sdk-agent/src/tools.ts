import { tool, type Tool } from 'ai';
import { z } from 'zod';

/** A tool call that really executed (what the example and its test check). */
export interface Executed {
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

type Invoice = { id: string; vendor: string; email: string; amount: number; currency: string };

/** The tool set (spelled out: declaration emit cannot name the inferred one). */
export type PaymentTools = {
  get_invoice: Tool<{ id: string }, Invoice>;
  send_payment: Tool<{ to: string; amount: number; currency: string; reference: string }, string>;
  send_email: Tool<{ to: string; subject: string; body: string }, string>;
  delete_vendor: Tool<{ vendor: string }, string>;
};

/** The payments/email agent's tools; each records its execution in `executed`. */
export function createTools(executed: Executed[]): PaymentTools {
  const record = (name: string, args: Record<string, unknown>) => executed.push({ tool: name, args });
  return {
    get_invoice: tool({
      description: 'Look up an invoice by id',
      inputSchema: z.object({ id: z.string() }),
      execute: async (args) => {
        record('get_invoice', args);
        return { id: args.id, vendor: 'acme-supplies', email: 'billing@acme-supplies.com', amount: 1250, currency: 'USD' };
      },
    }),
    send_payment: tool({
      description: 'Send a payment to a vendor',
      inputSchema: z.object({ to: z.string(), amount: z.number(), currency: z.string(), reference: z.string() }),
      execute: async (args) => {
        record('send_payment', args);
        return `Paid ${args.amount} ${args.currency} to ${args.to} (ref ${args.reference})`;
      },
    }),
    send_email: tool({
      description: 'Send an email',
      inputSchema: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
      execute: async (args) => {
        record('send_email', args);
        return `Email sent to ${args.to}`;
      },
    }),
    delete_vendor: tool({
      description: 'Remove a vendor from the vendor list',
      inputSchema: z.object({ vendor: z.string() }),
      execute: async (args) => {
        record('delete_vendor', args);
        return `Vendor ${args.vendor} deleted`;
      },
    }),
  };
}
