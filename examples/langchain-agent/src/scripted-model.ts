import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';

/**
 * What a tool-calling model would do with the example's request, scripted so the example runs
 * offline: look up the invoice and (wrongly) try to delete a vendor, then pay and email in parallel,
 * then report what happened (twice: the example replays its last resume).
 */
export function createScriptedModel() {
  return fakeModel()
    .respondWithTools([
      { name: 'get_invoice', args: { id: 'inv_1042' }, id: 'call_invoice' },
      { name: 'delete_vendor', args: { vendor: 'globex' }, id: 'call_delete' },
    ])
    .respondWithTools([
      { name: 'send_payment', args: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' }, id: 'call_pay' },
      {
        name: 'send_email',
        args: { to: 'billing@acme-supplies.com', subject: 'Remittance advice inv_1042', body: 'We paid invoice inv_1042 (1250 USD).' },
        id: 'call_email',
      },
    ])
    .respond(report)
    .respond(report); // the replayed resume asks the model once more
}

/** Reports the last two tool results (the payment and the email). */
function report(messages: BaseMessage[]): AIMessage {
  const results = messages.filter((message): message is ToolMessage => ToolMessage.isInstance(message)).slice(-2);
  return new AIMessage(results.map((result) => `${result.name}: ${result.status === 'error' ? 'not done — ' : ''}${result.content}`).join('\n'));
}
