/** The options every driver call takes. */
export interface CallOptions {
  signal?: AbortSignal;
}
