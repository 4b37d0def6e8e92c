/** A person who may approve requests, from the server config. */
export interface Reviewer {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly email?: string;
  readonly slackUserId?: string;
}
