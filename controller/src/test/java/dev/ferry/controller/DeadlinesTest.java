package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.util.Timeout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A wait that ignored its deadline would hang; the class's time limit fails it instead. */
@org.junit.jupiter.api.Timeout(60)
class DeadlinesTest {

  @BeforeAll
  static void startAsTheControllersPartsDo() {
    Deadlines.start();
  }

  @Test
  void answersTheValueThatComesBeforeTheDeadline() throws Exception {
    CompletableFuture<String> answer = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> sleepThen(50, () -> answer.complete("stored")));

    assertThat(Deadlines.get(answer, 10_000)).isEqualTo("stored");
    assertThat(Deadlines.get(CompletableFuture.completedFuture("done"), 1)).isEqualTo("done");
  }

  @Test
  void aFailureKeepsItsCause() {
    CompletableFuture<String> answer = new CompletableFuture<>();
    IllegalStateException refused = new IllegalStateException("refused");
    Thread.ofVirtual().start(() -> sleepThen(50, () -> answer.completeExceptionally(refused)));

    assertThatThrownBy(() -> Deadlines.get(answer, 10_000))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isSameAs(refused);
  }

  @Test
  void pastTheDeadlineTheWaitEndsAndTheCallersFutureIsLeftPending() {
    CompletableFuture<String> answer = new CompletableFuture<>();
    long start = System.nanoTime();

    assertThatThrownBy(() -> Deadlines.get(answer, 200))
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining("200 ms");

    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(waited).isBetween(200L, 200 + 10 * Deadlines.TICK_MILLIS);
    // GuardedProvider watches the abandoned call's own future for its late answer
    assertThat(answer).isNotDone();
    answer.complete("late");
    assertThat(answer).isCompletedWithValue("late");
  }

  @Test
  void anInterruptedWaitSaysSo() throws Exception {
    CompletableFuture<String> answer = new CompletableFuture<>();
    AtomicBoolean interrupted = new AtomicBoolean();
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Deadlines.get(answer, 10_000);
                  } catch (InterruptedException e) {
                    interrupted.set(true);
                  } catch (ExecutionException | TimeoutException e) {
                    throw new AssertionError(e);
                  }
                });
    Thread.sleep(100);
    waiter.interrupt();
    waiter.join(5_000);

    assertThat(interrupted).isTrue();
    assertThat(answer).isNotDone();
  }

  @Test
  void aTaskRunsAfterItsDelayUnlessCancelled() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    long start = System.nanoTime();
    Deadlines.after(Duration.ofMillis(300), ran::countDown);
    AtomicBoolean cancelledRan = new AtomicBoolean();
    Timeout cancelled = Deadlines.after(Duration.ofMillis(100), () -> cancelledRan.set(true));
    cancelled.cancel();

    assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(300);
    assertThat(cancelledRan).isFalse();
  }

  private static void sleepThen(long millis, Runnable then) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    then.run();
  }
}
