package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerRef;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records Kubernetes Events on Services with the upstream reasons, off the caller's thread: {@link
 * #normal} and {@link #warning} only queue the event, and writer threads send them, each Service's
 * in order (as client-go's broadcaster does), so a reconcile never waits on an Event write. A
 * repeat of the same event on the same Service bumps the count of the one already recorded instead
 * of creating another, as client-go's recorder does. A progress event ("Ensuring", "Deleting") is
 * held for {@link #HOLD} first: when its outcome ("Ensured", "Deleted") follows within it, only the
 * outcome is written (a quick change is one Event, not two; in a burst of new Services, a quarter
 * fewer writes), and any other event on the Service writes the held one first, so the order is
 * kept. "Updated" (a node change) is held the same way, so that a node change's backend updates
 * reach the cloud before its thousand Event writes load the API server, and node changes within the
 * hold are one count. When more than {@value #QUEUED} wait, new ones are dropped and counted in the
 * log; failing to record an event is logged, never fatal.
 */
class ServiceEvents implements AutoCloseable {

  static final String ENSURING = "EnsuringLoadBalancer";
  static final String ENSURED = "EnsuredLoadBalancer";
  static final String SYNC_FAILED = "SyncLoadBalancerFailed";
  static final String DELETING = "DeletingLoadBalancer";
  static final String DELETED = "DeletedLoadBalancer";
  static final String DELETE_FAILED = "DeleteLoadBalancerFailed";
  static final String UPDATED = "UpdatedLoadBalancer";
  static final String UPDATE_FAILED = "UpdateLoadBalancerFailed";
  // a PreferDualStack Service served in one family; nodes left out of a family's backends
  static final String FAMILY_NOT_SERVED = "IPFamilyNotServed";
  static final String NODES_WITHOUT_FAMILY = "NodesWithoutFamilyAddress";

  /** How long a progress event waits for its outcome before it is written. */
  static final Duration HOLD = Duration.ofSeconds(1);

  private static final Map<String, String> OUTCOME = Map.of(ENSURING, ENSURED, DELETING, DELETED);

  /** The events held for {@link #HOLD} before they are written: progress, and node changes. */
  private static final Set<String> HELD = Set.of(ENSURING, DELETING, UPDATED);

  private static final Logger log = LoggerFactory.getLogger(ServiceEvents.class);
  private static final int REMEMBERED = 32768; // a few events for each of 10,000 Services
  static final int QUEUED = 8192;

  private static final String MERGE_PATCH = "application/merge-patch+json";
  private final ApiWrites api;
  private final String component;
  private final Map<String, Recorded> recent =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Recorded> eldest) {
          return size() > REMEMBERED;
        }
      };

  private record Recorded(String name, int count) {}

  // writers, each a thread with its own queue; a Service's events always go to the same one, so
  // they are written in the order they happened. Virtual threads: a writer waits on its queue and
  // on each answer, and waking one costs less than waking a parked platform thread (ferry bench
  // scale, 0 ms, Ferry alone: the first burst of 1,000 new Services about 5 % less CPU; within the
  // spread at 50 ms)
  private static final int WRITERS = 4;
  private final List<ThreadPoolExecutor> writers =
      IntStream.range(0, WRITERS)
          .mapToObj(
              i ->
                  new ThreadPoolExecutor(
                      1,
                      1,
                      0,
                      TimeUnit.SECONDS,
                      new LinkedBlockingQueue<Runnable>(QUEUED / WRITERS),
                      Thread.ofVirtual().name("ferry-events-" + i).factory(),
                      (task, pool) -> dropped()))
          .toList();
  private final AtomicLong droppedCount = new AtomicLong();

  // progress events waiting for their outcome, by Service uid; guarded by itself, and every
  // hand-over to a writer happens under it, so a held event and the next one keep their order.
  // Their holds end on the deadlines' wheel (a scheduled executor's thread woke for each one)
  private final Map<String, Held> held = new HashMap<>();
  private volatile boolean closed;

  /** A held event; {@code times} counts node changes that repeated it while held. */
  private record Held(String reason, String message, Runnable write, AtomicInteger times) {}

  ServiceEvents(KubernetesClient client, String component) {
    this.api = new ApiWrites(client);
    this.component = component;
  }

  private void dropped() {
    long n = droppedCount.incrementAndGet();
    if (Long.bitCount(n) == 1) { // 1st, 2nd, 4th, 8th ... : a flood is logged, not amplified
      log.warn("{} events dropped: more than {} waiting to be written", n, QUEUED);
    }
  }

  void normal(Service service, String reason, String message) {
    queue(Subject.of(service), "Normal", reason, message);
  }

  /** A Normal event a provider reports about {@code ref}'s load balancer. */
  void normal(LoadBalancerRef ref, String reason, String message) {
    queue(new Subject(ref.namespace(), ref.name(), ref.uid(), null), "Normal", reason, message);
  }

  /** A warning a provider reports about {@code ref}'s load balancer. */
  void warning(LoadBalancerRef ref, String reason, String message) {
    warning(new Subject(ref.namespace(), ref.name(), ref.uid(), null), reason, message);
  }

  void warning(Service service, String reason, String message) {
    warning(Subject.of(service), reason, message);
  }

  private void warning(Subject subject, String reason, String message) {
    log.warn("{}: {}", reason, message);
    queue(subject, "Warning", reason, message);
  }

  /** What an event needs of its Service, copied when it is queued (the object may change after). */
  private record Subject(String namespace, String name, String uid, String resourceVersion) {
    static Subject of(Service service) {
      var m = service.getMetadata();
      return new Subject(m.getNamespace(), m.getName(), m.getUid(), m.getResourceVersion());
    }
  }

  private void queue(Subject subject, String type, String reason, String message) {
    String uid = String.valueOf(subject.uid());
    synchronized (held) {
      Held waiting = held.get(uid);
      if (waiting != null) {
        if (waiting.reason().equals(reason) && waiting.message().equals(message)) {
          if (reason.equals(UPDATED)) {
            waiting.times().incrementAndGet(); // every node change counts, as upstream's do
          }
          return; // the same progress again: the one held says it
        }
        held.remove(uid);
        if (!reason.equals(OUTCOME.get(waiting.reason()))) {
          hand(uid, waiting.write()); // not its outcome: the held event goes first
        }
      }
      if (HELD.contains(reason) && !closed) {
        AtomicInteger times = new AtomicInteger(1);
        Held hold =
            new Held(
                reason, message, () -> record(subject, type, reason, message, times.get()), times);
        held.put(uid, hold);
        Deadlines.after(HOLD, () -> release(uid, hold));
        return;
      }
      hand(uid, () -> record(subject, type, reason, message, 1));
    }
  }

  /** The hold is over and nothing followed: the progress event is written. */
  private void release(String uid, Held hold) {
    synchronized (held) {
      if (held.remove(uid, hold)) {
        hand(uid, hold.write());
      }
    }
  }

  private void hand(String uid, Runnable write) {
    var writer = writers.get(Math.floorMod(uid.hashCode(), WRITERS));
    if (!writer.isShutdown()) {
      writer.execute(write);
    }
  }

  /** Waits up to {@code limit} for the events queued so far to be written (tests, shutdown). */
  boolean flush(Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    synchronized (held) { // what is held is written now, not dropped
      held.forEach((uid, hold) -> hand(uid, hold.write()));
      held.clear();
    }
    try {
      for (var writer : writers) {
        writer
            .submit(() -> {})
            .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      return true;
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Writes what is queued (for up to 2 s), then stops. */
  @Override
  public void close() {
    closed = true;
    flush(Duration.ofSeconds(2));
    writers.forEach(ThreadPoolExecutor::shutdownNow);
  }

  /** Writes the event, or bumps the count of the one recorded before, by {@code times}. */
  private void record(Subject subject, String type, String reason, String message, int times) {
    String dedupKey = subject.uid() + "|" + type + "|" + reason + "|" + message;
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    String events = "api/v1/namespaces/" + subject.namespace() + "/events";
    Recorded previous;
    synchronized (recent) {
      previous = recent.get(dedupKey);
    }
    if (previous != null) {
      int count = previous.count() + times;
      HttpResponse<String> r =
          send(
              "PATCH",
              events + "/" + previous.name(),
              MERGE_PATCH,
              Map.of("count", count, "lastTimestamp", now));
      if (r != null && r.isSuccessful()) {
        remember(dedupKey, new Recorded(previous.name(), count));
        return;
      }
      // the earlier event expired or was deleted: record a new one
    }
    String name =
        subject.name()
            + "."
            + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    Map<String, Object> involved = new LinkedHashMap<>();
    involved.put("apiVersion", "v1");
    involved.put("kind", "Service");
    involved.put("namespace", subject.namespace());
    involved.put("name", subject.name());
    involved.put("uid", subject.uid());
    if (subject.resourceVersion() != null) {
      involved.put("resourceVersion", subject.resourceVersion());
    }
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("apiVersion", "v1");
    event.put("kind", "Event");
    event.put("metadata", Map.of("name", name, "namespace", subject.namespace()));
    event.put("involvedObject", involved);
    event.put("type", type);
    event.put("reason", reason);
    event.put("message", message.length() > 1024 ? message.substring(0, 1024) : message);
    event.put("count", times);
    event.put("firstTimestamp", now);
    event.put("lastTimestamp", now);
    event.put("source", Map.of("component", component));
    event.put("reportingComponent", component);
    HttpResponse<String> r = send("POST", events, "application/json", event);
    if (r != null && r.isSuccessful()) {
      remember(dedupKey, new Recorded(name, times));
    } else if (r != null) {
      log.warn("could not record event {} {}: HTTP {} {}", reason, message, r.code(), r.body());
    }
  }

  /**
   * One write through {@link ApiWrites}: an Event's answer is never read, so it is not parsed into
   * a model object. Null when it could not be sent at all (logged).
   */
  private HttpResponse<String> send(String method, String path, String contentType, Object body) {
    try {
      return api.send(method, path, contentType, body);
    } catch (KubernetesClientException e) {
      if (!Thread.currentThread().isInterrupted()) {
        log.warn("could not write an event to {}: {}", path, e.toString());
      }
      return null;
    }
  }

  private void remember(String key, Recorded recorded) {
    synchronized (recent) {
      recent.put(key, recorded);
    }
  }
}
