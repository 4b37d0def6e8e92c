/** A person who may approve requests, from the server config. */
export interface Reviewer {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly email?: string;
  /** Mail this reviewer one digest per this many ms (`email: { digest_minutes }`) instead of one mail per request. */
  readonly emailDigestMs?: number;
  readonly slackUserId?: string;
}
