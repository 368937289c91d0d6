package dev.ferry.controller;

import java.time.Duration;

/** What a reconcile asks of the work queue. */
sealed interface Outcome permits Outcome.Done, Outcome.RequeueAfter, Outcome.Failed {

  Outcome DONE = new Done();

  /** Nothing more to do until something changes. */
  record Done() implements Outcome {}

  /** Look again after {@code delay}, without counting a failure (throttling, conflicts). */
  record RequeueAfter(Duration delay) implements Outcome {}

  /** Retry with the key's exponential backoff. */
  record Failed(String reason) implements Outcome {}
}
