import { inboxRequestUrl } from './inbox/inbox-channel.js';

/** Where to read args too long for a channel, and approve them. */
export interface ReviewElsewhere {
  /** The request's inbox page, when the server serves the inbox at a known public URL. */
  readonly url: string | undefined;
  /** One sentence saying where, for text parts (the URL included when there is one). */
  readonly text: string;
}

/**
 * The pointer a channel shows instead of Approve when it cannot show the args whole: the inbox
 * request page (which shows them whole) when `inboxBaseUrl` is set, else the CLI and the API.
 *
 * @example
 * reviewElsewhere(request.id, 'https://signoff.example.com').url; // https://signoff.example.com/inbox/requests/apr_…
 */
export function reviewElsewhere(requestId: string, inboxBaseUrl: string | undefined): ReviewElsewhere {
  if (inboxBaseUrl) {
    const url = inboxRequestUrl(inboxBaseUrl, requestId);
    return { url, text: `Review the whole args in the inbox, and approve there: ${url}` };
  }
  return {
    url: undefined,
    text: `Review the whole args in the Signoff inbox, with \`signoff approvals show ${requestId}\`, or at GET /v1/approvals/${requestId}, and approve there.`,
  };
}
