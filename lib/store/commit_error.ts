/**
 * The one failure a decision store answers with: nothing of the request's group was kept, or it
 * could not be decided in time. Worth one retry (the hook answers 503 + Retry-After). Both the
 * serving thread and the database worker import it; it imports nothing.
 */
export class CommitError extends Error {
  override name = "CommitError";
}
