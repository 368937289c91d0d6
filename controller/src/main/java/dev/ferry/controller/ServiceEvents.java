package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerRef;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records Kubernetes Events on Services with the upstream reasons, off the caller's thread: {@link
 * #normal} and {@link #warning} only queue the event, and writer threads send them, each Service's
 * in order (as client-go's broadcaster does), so a reconcile never waits on an Event write. A
 * repeat of the same event on the same Service bumps the count of the one already recorded instead
 * of creating another, as client-go's recorder does. When more than {@value #QUEUED} wait, new ones
 * are dropped and counted in the log; failing to record an event is logged, never fatal.
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

  private static final Logger log = LoggerFactory.getLogger(ServiceEvents.class);
  private static final int REMEMBERED = 32768; // a few events for each of 10,000 Services
  static final int QUEUED = 8192;

  private final KubernetesClient client;
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
  // they are written in the order they happened
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
                      Thread.ofPlatform().name("ferry-events-" + i).daemon().factory(),
                      (task, pool) -> dropped()))
          .toList();
  private final AtomicLong droppedCount = new AtomicLong();

  ServiceEvents(KubernetesClient client, String component) {
    this.client = client;
    this.component = component;
  }

  private void dropped() {
    long n = droppedCount.incrementAndGet();
    if (Long.bitCount(n) == 1) { // 1st, 2nd, 4th, 8th ... : a flood is logged, not amplified
      log.warn("{} events dropped: more than {} waiting to be written", n, QUEUED);
    }
  }

  void normal(Service service, String reason, String message) {
    queue(service, "Normal", reason, message);
  }

  /** A warning a provider reports about {@code ref}'s load balancer. */
  void warning(LoadBalancerRef ref, String reason, String message) {
    warning(
        new ServiceBuilder()
            .withNewMetadata()
            .withNamespace(ref.namespace())
            .withName(ref.name())
            .withUid(ref.uid())
            .endMetadata()
            .build(),
        reason,
        message);
  }

  void warning(Service service, String reason, String message) {
    log.warn("{}: {}", reason, message);
    queue(service, "Warning", reason, message);
  }

  private void queue(Service service, String type, String reason, String message) {
    // only what the event needs, copied now: the Service object may change after this returns
    Service subject =
        new ServiceBuilder()
            .withNewMetadata()
            .withNamespace(service.getMetadata().getNamespace())
            .withName(service.getMetadata().getName())
            .withUid(service.getMetadata().getUid())
            .withResourceVersion(service.getMetadata().getResourceVersion())
            .endMetadata()
            .build();
    var writer =
        writers.get(
            Math.floorMod(String.valueOf(subject.getMetadata().getUid()).hashCode(), WRITERS));
    if (!writer.isShutdown()) {
      writer.execute(() -> record(subject, type, reason, message));
    }
  }

  /** Waits up to {@code limit} for the events queued so far to be written (tests, shutdown). */
  boolean flush(Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
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
    flush(Duration.ofSeconds(2));
    writers.forEach(ThreadPoolExecutor::shutdownNow);
  }

  private void record(Service service, String type, String reason, String message) {
    String namespace = service.getMetadata().getNamespace();
    String dedupKey = service.getMetadata().getUid() + "|" + type + "|" + reason + "|" + message;
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Recorded previous;
    synchronized (recent) {
      previous = recent.get(dedupKey);
    }
    try {
      if (previous != null) {
        int count = previous.count() + 1;
        client
            .v1()
            .events()
            .inNamespace(namespace)
            .resource( // names the Event: no GET before the patch
                new EventBuilder()
                    .withNewMetadata()
                    .withName(previous.name())
                    .withNamespace(namespace)
                    .endMetadata()
                    .build())
            .patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                    io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"count\":" + count + ",\"lastTimestamp\":\"" + now + "\"}");
        remember(dedupKey, new Recorded(previous.name(), count));
        return;
      }
    } catch (KubernetesClientException e) {
      // the earlier event expired or was deleted: record a new one
    }
    String name =
        service.getMetadata().getName()
            + "."
            + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion("v1")
            .withKind("Service")
            .withNamespace(namespace)
            .withName(service.getMetadata().getName())
            .withUid(service.getMetadata().getUid())
            .withResourceVersion(service.getMetadata().getResourceVersion())
            .endInvolvedObject()
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1024 ? message.substring(0, 1024) : message)
            .withCount(1)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withNewSource()
            .withComponent(component)
            .endSource()
            .withReportingComponent(component)
            .build();
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
      remember(dedupKey, new Recorded(name, 1));
    } catch (KubernetesClientException e) {
      log.warn("could not record event {} {}: {}", reason, message, e.getMessage());
    }
  }

  private void remember(String key, Recorded recorded) {
    synchronized (recent) {
      recent.put(key, recorded);
    }
  }
}
