package dev.ferry.controller;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A queue of keys with the guarantees a controller needs: a key waiting is queued once however
 * often it is added; one key is reconciled by at most one worker at a time (a key added while in
 * flight runs again right after); failures back off per key, exponentially with jitter; a success
 * forgets the key's failures.
 */
final class WorkQueue implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkQueue.class);

  private static final IntervalFunction CONFLICT_BACKOFF =
      IntervalFunction.ofExponentialBackoff(Duration.ofMillis(200), 2.0, Duration.ofSeconds(300));

  private final Function<String, Outcome> reconcile;
  private final IntervalFunction backoff;
  private final int workers;
  private final BlockingQueue<String> ready = new LinkedBlockingQueue<>();
  private final Set<String> queued = new HashSet<>();
  private final Set<String> inFlight = new HashSet<>();
  private final Set<String> dirty = new HashSet<>();
  private final Map<String, Integer> failures = new HashMap<>();
  private final ScheduledExecutorService timer;
  private ExecutorService pool;
  private volatile int generation; // workers of an earlier start() leave when it moves on
  private volatile boolean closed;

  /**
   * @param backoff the delay for the n-th consecutive failure of a key (n from 1)
   */
  WorkQueue(Function<String, Outcome> reconcile, int workers, IntervalFunction backoff) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1");
    }
    this.reconcile = reconcile;
    this.workers = workers;
    this.backoff = backoff;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("ferry-queue-timer").daemon().factory());
  }

  /** Upstream's per-item backoff: 5 s doubling to 300 s, with ±20 % jitter. */
  static IntervalFunction defaultBackoff() {
    return IntervalFunction.ofExponentialRandomBackoff(
        Duration.ofSeconds(5), 2.0, 0.2, Duration.ofSeconds(300));
  }

  synchronized void start() {
    if (pool != null) {
      return;
    }
    // Virtual workers: a reconcile waits on the API server and on the provider's call, itself on a
    // virtual thread (GuardedProvider), so a worker hands over to it on the same carrier instead
    // of waking another OS thread and sleeping itself (at 0 ms per cloud call, a node change over
    // 1,000 Services reached its last call in 0.04-0.05 s instead of 0.06 s; a create burst's CPU
    // did not move). Ferry's own code never waits while holding a monitor, which before JDK 24
    // pins a carrier for the wait; libraries do (fabric8's leader election), hence the image's
    // Java 25 and the cluster tier's pin watch (NoPinnedCarriers).
    pool =
        Executors.newFixedThreadPool(
            workers, Thread.ofVirtual().name("ferry-worker-", 0).factory());
    int mine = generation;
    for (int i = 0; i < workers; i++) {
      pool.execute(() -> work(mine));
    }
  }

  /**
   * Stops the workers (a reconcile in flight is interrupted and finishes); keys keep being queued,
   * and {@link #start} runs them again.
   */
  void stop() {
    ExecutorService p;
    synchronized (this) {
      p = pool;
      pool = null;
      generation++;
    }
    if (p != null) {
      p.shutdownNow();
      try {
        p.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Queues {@code key} now. */
  void add(String key) {
    synchronized (this) {
      if (closed) {
        return;
      }
      if (inFlight.contains(key)) {
        dirty.add(key);
        return;
      }
      if (!queued.add(key)) {
        return;
      }
    }
    ready.add(key);
  }

  /** Queues {@code key} after {@code delay}. */
  void addAfter(String key, Duration delay) {
    if (delay.isZero() || delay.isNegative()) {
      add(key);
    } else if (!closed) {
      timer.schedule(() -> add(key), delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  int depth() {
    return ready.size();
  }

  private void work(int mine) {
    while (!closed && generation == mine) {
      String key;
      try {
        key = ready.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      synchronized (this) {
        queued.remove(key);
        inFlight.add(key);
      }
      if (generation != mine) {
        synchronized (this) {
          inFlight.remove(key);
        }
        add(key); // stopped meanwhile: leave it for the next start
        return;
      }
      Outcome outcome;
      try {
        outcome = reconcile.apply(key);
      } catch (Throwable e) { // an Error must not kill the worker nor leave the key in flight
        log.error("reconcile of {} failed unexpectedly", key, e);
        outcome = new Outcome.Failed(e.toString());
      }
      boolean again;
      synchronized (this) {
        inFlight.remove(key);
        again = dirty.remove(key);
      }
      settle(key, outcome);
      if (again) {
        add(key);
      }
    }
  }

  private void settle(String key, Outcome outcome) {
    switch (outcome) {
      case Outcome.Done d -> forget(key);
      case Outcome.RequeueAfter r -> {
        forget(key);
        addAfter(key, r.delay());
      }
      case Outcome.Failed f -> retry(key, backoff, f.reason());
      case Outcome.Conflict c -> retry(key, CONFLICT_BACKOFF, c.reason());
    }
  }

  private void retry(String key, IntervalFunction delays, String reason) {
    int attempt;
    synchronized (this) {
      attempt = failures.merge(key, 1, Integer::sum);
    }
    Duration delay = Duration.ofMillis(delays.apply(attempt));
    log.info("{} not done (attempt {}), again in {}: {}", key, attempt, delay, reason);
    addAfter(key, delay);
  }

  private synchronized void forget(String key) {
    failures.remove(key);
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    stop();
  }
}
