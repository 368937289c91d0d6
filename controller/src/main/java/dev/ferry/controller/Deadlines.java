package dev.ferry.controller;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The deadlines of Ferry's many short waits, on one timing wheel (Netty's {@link HashedWheelTimer},
 * ticking every {@value #TICK_MILLIS} ms) instead of a timer each. Nearly every one is cancelled
 * long before it is due: an API write answers in milliseconds against its 10 s bound. A timed wait
 * on a virtual thread schedules and cancels a task on the JDK's delay scheduler, whose thread wakes
 * for each, and a scheduled executor's thread wakes for every task it runs; together that was 6 %
 * of the controller's CPU in a burst of 1,000 new Services (ferry bench scale, 0 ms, profiled). The
 * wheel takes a new or cancelled deadline into a queue without waking anyone and looks at them once
 * a tick. A deadline fires up to a tick late.
 */
final class Deadlines {

  static final long TICK_MILLIS = 100;

  private static final HashedWheelTimer WHEEL =
      new HashedWheelTimer(
          Thread.ofPlatform().name("ferry-deadlines").daemon().factory(),
          TICK_MILLIS,
          TimeUnit.MILLISECONDS);

  /** What completes a wait whose deadline passed; it never leaves {@link #get}. */
  private static final class Overran extends RuntimeException {
    Overran() {
      super("deadline passed", null, false, false);
    }
  }

  private static final Overran OVERRAN = new Overran();

  private Deadlines() {}

  /**
   * Starts the wheel's thread, if not yet: Ferry's parts that wait call this when they are built.
   * The first deadline would otherwise start it, and an interrupt that came while it waited for the
   * thread would be lost (Netty ignores it there).
   */
  static void start() {
    WHEEL.start();
  }

  /**
   * {@code answer}'s value, waiting for it at most {@code millis}; past that, a {@link
   * TimeoutException}, with {@code answer} left as it is (to cancel, or to watch for the late
   * answer). Its failure is an {@link ExecutionException} with the cause it completed with, as
   * {@link CompletableFuture#get} reports it.
   */
  static <T> T get(CompletableFuture<T> answer, long millis)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (answer.isDone()) {
      return answer.get();
    }
    // the wait is on a copy, so the deadline completes the copy and never the caller's future
    CompletableFuture<T> bounded = answer.copy();
    Timeout deadline =
        WHEEL.newTimeout(
            t -> bounded.completeExceptionally(OVERRAN), millis, TimeUnit.MILLISECONDS);
    try {
      return bounded.get();
    } catch (ExecutionException e) {
      if (e.getCause() == OVERRAN) {
        throw new TimeoutException("no answer within " + millis + " ms");
      }
      throw e;
    } finally {
      deadline.cancel();
    }
  }

  /**
   * Runs {@code task} once, {@code delay} from now (up to a tick later), on the wheel's thread: it
   * must be short and must not block. Cancel it through the answer.
   */
  static Timeout after(Duration delay, Runnable task) {
    return WHEEL.newTimeout(t -> task.run(), delay.toMillis(), TimeUnit.MILLISECONDS);
  }
}
