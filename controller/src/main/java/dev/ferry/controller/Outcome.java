package dev.ferry.controller;

import java.time.Duration;

/** What a reconcile asks of the work queue. */
sealed interface Outcome
    permits Outcome.Done, Outcome.RequeueAfter, Outcome.Failed, Outcome.Conflict {

  Outcome DONE = new Done();

  /** Nothing more to do until something changes. */
  record Done() implements Outcome {}

  /** Look again after {@code delay}, without counting a failure (throttling, conflicts). */
  record RequeueAfter(Duration delay) implements Outcome {}

  /** Retry with the key's exponential backoff (5 s doubling to 300 s by default). */
  record Failed(String reason) implements Outcome {}

  /**
   * A write met a newer version of the object (409): retry soon, but back off when it keeps
   * happening (200 ms doubling to the backoff's ceiling), so a fight with another writer is no hot
   * loop.
   */
  record Conflict(String reason) implements Outcome {}
}
