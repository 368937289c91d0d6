package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Error;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Operation;
import com.sun.net.httpserver.HttpExchange;
import dev.ferry.provider.gcp.ComputeRules.Refusal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fake's operations: every mutation answers one that goes PENDING, RUNNING (for {@code
 * runningPolls} polls) and DONE, and the change takes effect at DONE; one nobody polls still ends
 * (a client that crashed does not stop the change); a failed one carries Compute's HTTP status and
 * code and changes nothing; a retried request with the same {@code requestId} answers the first
 * one's operation. An operation acts only on the resource it was asked about.
 */
final class ComputeOperations {

  private final ComputeFake fake;
  private final Map<String, Pending> operations = new ConcurrentHashMap<>();
  private final Map<String, String> requestIds = new ConcurrentHashMap<>();
  volatile int runningPolls;
  volatile Refusal failNext;

  /**
   * An operation nobody polls still ends, as Compute's do (a client that crashed after its request
   * does not stop the change): at the next request after this long.
   */
  volatile long settleNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(400);

  ComputeOperations(ComputeFake fake) {
    this.fake = fake;
  }

  private static final class Pending {
    Operation op;
    final Runnable change;
    int polls;
    final long settlesAt;

    Pending(Operation op, Runnable change, int polls, long settleNanos) {
      this.op = op;
      this.change = change;
      this.polls = polls;
      this.settlesAt = System.nanoTime() + settleNanos;
    }

    void finish() {
      change.run(); // the change takes effect when the operation is done
      op = op.toBuilder().setStatus(Operation.Status.DONE).setProgress(100).build();
    }
  }

  /** A retried request with the same {@code requestId} answers the first one's operation. */
  boolean replayed(HttpExchange ex, Map<String, String> query, String link) throws IOException {
    String id = query.get("requestId");
    if (id == null) {
      return false;
    }
    String op = requestIds.get(id + " " + link);
    if (op == null) {
      return false;
    }
    ComputeAnswers.send(ex, 200, operations.get(op).op);
    return true;
  }

  /** Ends the operations that have run their time, polled or not. */
  void settle() {
    synchronized (fake) {
      settleLocked();
    }
  }

  private void settleLocked() {
    long now = System.nanoTime();
    for (Pending p : operations.values()) {
      if (p.op.getStatus() != Operation.Status.DONE && now - p.settlesAt > 0) {
        p.finish();
      }
    }
  }

  boolean pendingFor(String link) {
    return operations.values().stream()
        .anyMatch(
            p ->
                p.op.getStatus() != Operation.Status.DONE
                    && ComputeFake.relative(p.op.getTargetLink()).equals(link)
                    && p.op.getOperationType().equals("insert"));
  }

  void operation(
      HttpExchange ex, String scope, String type, String target, Refusal refused, Runnable change)
      throws IOException {
    long id = fake.ids.incrementAndGet();
    String name = "operation-" + id + "-" + Long.toHexString(id * 31);
    String link = scope + "/operations/" + name;
    Refusal failure = refused;
    if (failure == null) {
      failure = failNext;
      failNext = null;
    }
    Operation.Builder op =
        Operation.newBuilder()
            .setKind("compute#operation")
            .setId(id)
            .setName(name)
            .setOperationType(type)
            .setTargetLink(ComputeFake.GOOGLEAPIS + target)
            .setSelfLink(ComputeFake.GOOGLEAPIS + link)
            .setInsertTime("2026-11-23T00:00:00.000-08:00")
            .setProgress(0);
    if (scope.contains("/regions/")) {
      op.setRegion(ComputeFake.GOOGLEAPIS + scope);
    } else if (scope.contains("/zones/")) {
      op.setZone(ComputeFake.GOOGLEAPIS + scope);
    }
    Refusal f = failure;
    Runnable finish = f == null ? change : () -> {}; // a failed operation changes nothing
    Pending p = new Pending(null, finish, runningPolls, settleNanos);
    if (f != null) {
      op.setError(
              Error.newBuilder()
                  .addErrors(Errors.newBuilder().setCode(f.reason()).setMessage(f.message())))
          .setHttpErrorStatusCode(f.status())
          .setHttpErrorMessage(httpMessage(f.status()));
    }
    String requestKey = requestIdOf(ex);
    if (requestKey != null) {
      requestIds.put(requestKey + " " + target, link);
    }
    if (p.polls <= 0) {
      finish.run();
      op.setStatus(Operation.Status.DONE).setProgress(100);
    } else {
      op.setStatus(Operation.Status.PENDING);
    }
    p.op = op.build();
    operations.put(link, p);
    ComputeAnswers.send(ex, 200, p.op);
  }

  static String requestIdOf(HttpExchange ex) {
    return ComputeFake.query(ex).get("requestId");
  }

  void poll(HttpExchange ex, String link) throws IOException {
    synchronized (fake) {
      pollLocked(ex, link);
    }
  }

  private void pollLocked(HttpExchange ex, String link) throws IOException {
    Pending p = operations.get(link);
    if (p == null) {
      ComputeAnswers.notFound(ex, link);
      return;
    }
    if (p.op.getStatus() != Operation.Status.DONE) {
      if (p.op.getStatus() == Operation.Status.PENDING || p.polls > 1) {
        if (p.op.getStatus() == Operation.Status.RUNNING) {
          p.polls--;
        }
        p.op = p.op.toBuilder().setStatus(Operation.Status.RUNNING).setProgress(50).build();
      } else {
        p.finish();
      }
    }
    ComputeAnswers.send(ex, 200, p.op);
  }

  static String httpMessage(int status) {
    return switch (status) {
      case 400 -> "BAD REQUEST";
      case 403 -> "FORBIDDEN";
      case 404 -> "NOT FOUND";
      case 409 -> "CONFLICT";
      case 412 -> "PRECONDITION FAILED";
      default -> "ERROR";
    };
  }

  String fingerprint() {
    return java.util.Base64.getEncoder()
        .encodeToString(
            Long.toHexString(fake.ids.incrementAndGet()).getBytes(StandardCharsets.UTF_8));
  }
}
