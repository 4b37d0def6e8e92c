import { tool } from '@langchain/core/tools';
import { z } from 'zod';

/** A tool call that really executed (what the example and its test check). */
export interface Executed {
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

/** The payments/email agent's tools; each records its execution in `executed`. */
export function createTools(executed: Executed[]) {
  const record = (name: string, args: Record<string, unknown>) => executed.push({ tool: name, args });
  return [
    tool(
      async (args) => {
        record('get_invoice', args);
        return JSON.stringify({ id: args.id, vendor: 'acme-supplies', email: 'billing@acme-supplies.com', amount: 1250, currency: 'USD' });
      },
      { name: 'get_invoice', description: 'Look up an invoice by id', schema: z.object({ id: z.string() }) },
    ),
    tool(
      async (args) => {
        record('send_payment', args);
        return `Paid ${args.amount} ${args.currency} to ${args.to} (ref ${args.reference})`;
      },
      {
        name: 'send_payment',
        description: 'Send a payment to a vendor',
        schema: z.object({ to: z.string(), amount: z.number(), currency: z.string(), reference: z.string() }),
      },
    ),
    tool(
      async (args) => {
        record('send_email', args);
        return `Email sent to ${args.to}`;
      },
      { name: 'send_email', description: 'Send an email', schema: z.object({ to: z.string(), subject: z.string(), body: z.string() }) },
    ),
    tool(
      async (args) => {
        record('delete_vendor', args);
        return `Vendor ${args.vendor} deleted`;
      },
      { name: 'delete_vendor', description: 'Remove a vendor from the vendor list', schema: z.object({ vendor: z.string() }) },
    ),
  ];
}
