package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WorkQueueTest {

  @Test
  @DisplayName("a key added many times while waiting is reconciled once")
  void dedup() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<String> seen = new CopyOnWriteArrayList<>();
    try (WorkQueue q =
        new WorkQueue(
            k -> {
              if (k.equals("blocker")) {
                awaitLatch(release);
              }
              seen.add(k);
              return Outcome.DONE;
            },
            1,
            IntervalFunction.of(Duration.ofMillis(10)))) {
      q.start();
      q.add("blocker");
      await().atMost(Duration.ofSeconds(5)).until(() -> q.depth() == 0);
      for (int i = 0; i < 50; i++) {
        q.add("a/x");
      }
      assertThat(q.depth()).isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
      assertThat(seen).containsExactly("blocker", "a/x");
    }
  }

  @Test
  @DisplayName(
      "one key is never reconciled by two workers at once; an add in flight runs again after")
  void oneInFlightPerKey() {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    try (WorkQueue q =
        new WorkQueue(
            k -> {
              maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
              if (runs.get() == 0) {
                awaitLatch(release); // hold the key in flight while it is added again
              }
              running.decrementAndGet();
              runs.incrementAndGet();
              return Outcome.DONE;
            },
            4,
            IntervalFunction.of(Duration.ofMillis(10)))) {
      q.start();
      q.add("ns/same");
      await().atMost(Duration.ofSeconds(5)).until(() -> running.get() == 1);
      for (int i = 0; i < 20; i++) {
        q.add("ns/same");
      }
      assertThat(q.depth()).isZero(); // parked as dirty, not handed to an idle worker
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 2 && running.get() == 0);
      assertThat(maxRunning.get()).isEqualTo(1);
    }
  }

  @Test
  @DisplayName("failures back off per key with growing delays; success forgets them")
  void backoff() {
    ConcurrentHashMap<Integer, Long> at = new ConcurrentHashMap<>();
    AtomicInteger attempt = new AtomicInteger();
    try (WorkQueue q =
        new WorkQueue(
            k -> {
              int n = attempt.incrementAndGet();
              at.put(n, System.nanoTime());
              return n < 4 ? new Outcome.Failed("boom") : Outcome.DONE;
            },
            1,
            IntervalFunction.ofExponentialBackoff(Duration.ofMillis(100), 2.0))) {
      q.start();
      q.add("k");
      await().atMost(Duration.ofSeconds(10)).until(() -> attempt.get() == 4);
      long first = TimeUnit.NANOSECONDS.toMillis(at.get(2) - at.get(1));
      long third = TimeUnit.NANOSECONDS.toMillis(at.get(4) - at.get(3));
      assertThat(first).isGreaterThanOrEqualTo(90);
      assertThat(third).isGreaterThanOrEqualTo(380).isGreaterThan(first);
    }
  }

  @Test
  @DisplayName("the default backoff starts near 5 s and stops growing at 300 s")
  void defaultBackoff() {
    IntervalFunction f = WorkQueue.defaultBackoff();
    assertThat(f.apply(1)).isBetween(4000L, 6000L);
    assertThat(f.apply(30)).isLessThanOrEqualTo(300_000L).isGreaterThanOrEqualTo(240_000L);
  }

  @Test
  @DisplayName(
      "an Error thrown by a reconcile kills no worker and leaves no key in flight; it is retried")
  void errorDoesNotKillWorker() {
    AtomicInteger calls = new AtomicInteger();
    List<String> done = new CopyOnWriteArrayList<>();
    try (WorkQueue q =
        new WorkQueue(
            k -> {
              if (k.equals("a/x") && calls.incrementAndGet() == 1) {
                throw new StackOverflowError("a plugin recursed");
              }
              done.add(k);
              return Outcome.DONE;
            },
            1,
            IntervalFunction.of(Duration.ofMillis(10)))) {
      q.start();
      q.add("a/x");
      await().atMost(Duration.ofSeconds(5)).until(() -> done.contains("a/x"));
      q.add("a/y");
      await().atMost(Duration.ofSeconds(5)).until(() -> done.contains("a/y"));
      assertThat(calls.get()).isEqualTo(2);
    }
  }

  @Test
  @DisplayName("write conflicts back off, doubling from 200 ms, instead of retrying every 200 ms")
  void conflictsBackOff() {
    List<Long> at = new CopyOnWriteArrayList<>();
    try (WorkQueue q =
        new WorkQueue(
            k -> {
              at.add(System.nanoTime());
              return new Outcome.Conflict("409 on the finalizer patch");
            },
            1,
            IntervalFunction.of(Duration.ofSeconds(60)))) {
      q.start();
      q.add("a/x");
      await().atMost(Duration.ofSeconds(10)).until(() -> at.size() >= 5);
    }
    // gaps of about 200, 400, 800, 1600 ms
    for (int i = 1; i < 4; i++) {
      long gap = at.get(i + 1) - at.get(i);
      long previous = at.get(i) - at.get(i - 1);
      assertThat(gap).isGreaterThan(previous * 3 / 2);
    }
    assertThat(Duration.ofNanos(at.get(4) - at.get(3))).isGreaterThan(Duration.ofMillis(1200));
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      latch.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
