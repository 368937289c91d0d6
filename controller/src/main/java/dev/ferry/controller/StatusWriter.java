package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Writes a Service's status subresource: {@code status.loadBalancer.ingress} and Ferry's one
 * condition ({@value #TYPE}) in {@code status.conditions}, in one patch and only when either
 * differs from what the Service shows. Other writers' conditions stay: the list is written whole
 * under the resourceVersion it was read at, so a concurrent change is a 409, never lost.
 */
final class StatusWriter {

  static final String TYPE = "ferry.dev/LoadBalancerReady";

  /** Ferry's condition: whether the load balancer serves, and why not. */
  record Ready(boolean ready, String reason, String message) {
    static final String PROVISIONED = "Provisioned";
    static final String PENDING = "Pending";
    static final String PORT_ERROR = "PortError";
    static final String INVALID_SERVICE = "InvalidService";
    static final String PROVIDER_ERROR = "ProviderError";
    static final String THROTTLED = "Throttled";
    static final String DELETING = "Deleting";
    static final String ADOPTION_PENDING = "AdoptionPending";

    Ready {
      message = message.length() > 1024 ? message.substring(0, 1024) : message;
    }

    static Ready no(String reason, String message) {
      return new Ready(false, reason, message);
    }
  }

  private final ServicePatches patches;
  private final ServiceEvents events;
  private final Counter rejected;

  StatusWriter(ServicePatches patches, ServiceEvents events, MeterRegistry registry) {
    this.patches = patches;
    this.events = events;
    this.rejected =
        Counter.builder("ferry.status.writes.rejected")
            .description("Status writes the API server refused (a shape it does not accept)")
            .register(registry);
  }

  /**
   * Makes the status show {@code ingress} (when given) and {@code ready} (when given; empty removes
   * Ferry's condition). Answers {@link Outcome#DONE}, or a backoff when the API server refused the
   * status, after a Warning event with its message.
   */
  Outcome write(
      Service service,
      Optional<List<LoadBalancerIngress>> ingress,
      Optional<Optional<Ready>> ready) {
    return apply(service, ingress, ready, false).outcome();
  }

  /**
   * Removes the address and Ferry's condition (the Service is no longer Ferry's); returns the
   * Service as now stored, for the write that follows.
   */
  Service clear(Service service) {
    return apply(service, Optional.of(List.of()), Optional.of(Optional.empty()), true).service();
  }

  /** A write's outcome and, when asked for, the Service as stored after it. */
  private record Written(Outcome outcome, Service service) {}

  private Written apply(
      Service service,
      Optional<List<LoadBalancerIngress>> ingress,
      Optional<Optional<Ready>> ready,
      boolean stored) {
    List<LoadBalancerIngress> currentIngress = ingressOf(service);
    List<Condition> conditions = conditionsOf(service);
    Optional<Condition> current =
        conditions.stream().filter(c -> TYPE.equals(c.getType())).findFirst();
    ServiceStatus next =
        service.getStatus() == null
            ? new ServiceStatus()
            : new ServiceStatusBuilder(service.getStatus()).build();
    boolean changed = false;
    if (ingress.isPresent() && !Objects.equals(currentIngress, ingress.get())) {
      next.setLoadBalancer(new LoadBalancerStatus(ingress.get().isEmpty() ? null : ingress.get()));
      changed = true;
    }
    if (ready.isPresent()) {
      Optional<Condition> wanted = ready.get().map(r -> condition(service, r, current));
      if (!sameCondition(current, wanted)) {
        List<Condition> all = new ArrayList<>(conditions);
        all.removeIf(c -> TYPE.equals(c.getType()));
        wanted.ifPresent(all::add);
        next.setConditions(all.isEmpty() ? null : all);
        changed = true;
      }
    }
    if (!changed) {
      return new Written(Outcome.DONE, service);
    }
    // the whole status, under the resourceVersion it was computed from: lists are replaced
    // exactly, and a concurrent writer's change is a 409, never lost
    try {
      String answer =
          patches.send(service, "status", List.of(ServicePatches.op("add", "/status", next)));
      return new Written(Outcome.DONE, stored ? patches.parse(answer) : null);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 422 && e.getCode() != 400) {
        throw e;
      }
      rejected.increment();
      String message =
          e.getStatus() != null && e.getStatus().getMessage() != null
              ? e.getStatus().getMessage()
              : e.getMessage();
      events.warning(
          service,
          ServiceEvents.SYNC_FAILED,
          "The API server refused the load balancer status: " + message);
      return new Written(new Outcome.Failed("status refused: " + message), service);
    }
  }

  private static Condition condition(Service service, Ready r, Optional<Condition> current) {
    String status = r.ready() ? "True" : "False";
    String since =
        current
            .filter(c -> status.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElse(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder()
        .withType(TYPE)
        .withStatus(status)
        .withReason(r.reason())
        .withMessage(r.message())
        .withObservedGeneration(service.getMetadata().getGeneration())
        .withLastTransitionTime(since)
        .build();
  }

  private static boolean sameCondition(Optional<Condition> a, Optional<Condition> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return a.isEmpty() && b.isEmpty();
    }
    Condition x = a.get();
    Condition y = b.get();
    return Objects.equals(x.getStatus(), y.getStatus())
        && Objects.equals(x.getReason(), y.getReason())
        && Objects.equals(x.getMessage(), y.getMessage())
        && Objects.equals(x.getObservedGeneration(), y.getObservedGeneration());
  }

  static List<LoadBalancerIngress> ingressOf(Service service) {
    if (service.getStatus() == null
        || service.getStatus().getLoadBalancer() == null
        || service.getStatus().getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    return service.getStatus().getLoadBalancer().getIngress();
  }

  private static List<Condition> conditionsOf(Service service) {
    if (service.getStatus() == null || service.getStatus().getConditions() == null) {
      return List.of();
    }
    return service.getStatus().getConditions();
  }

  /** {@code r} as the condition argument of {@link #write}: write this condition. */
  static Optional<Optional<Ready>> condition(Ready r) {
    return Optional.of(Optional.of(r));
  }
}
