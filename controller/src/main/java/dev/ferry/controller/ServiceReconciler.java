package dev.ferry.controller;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.PortStatusBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Brings one Service's load balancer in line with the Service: cleanup when it is deleted or no
 * longer Ferry's, otherwise finalizer, NodePorts, plan, provider, status. Reads the newest object
 * from the informer cache; keeps in memory only the last plan it applied per Service, to choose
 * between no call, {@code updateBackends} and {@code ensure} (after a restart every Service is
 * ensured once, which is idempotent).
 */
final class ServiceReconciler {

  private static final Logger log = LoggerFactory.getLogger(ServiceReconciler.class);
  private static final Duration CONFLICT_RETRY = Duration.ofMillis(200);

  private final KubernetesClient client;
  private final Function<String, Service> services;
  private final Supplier<List<Backend>> eligibleBackends;
  private final LoadBalancerProvider provider;
  private final ServiceClassifier classifier;
  private final NodePortAssigner ports;
  private final ServiceEvents events;
  private final Planner.Settings plannerSettings;
  private final Map<String, LoadBalancerPlan> applied = new ConcurrentHashMap<>();
  private final Map<String, String> rejections = new ConcurrentHashMap<>();
  private final ServicePatches patches;

  ServiceReconciler(
      KubernetesClient client,
      Function<String, Service> services,
      Supplier<List<Backend>> eligibleBackends,
      LoadBalancerProvider provider,
      ServiceClassifier classifier,
      NodePortAssigner ports,
      ServiceEvents events,
      Planner.Settings plannerSettings) {
    this.client = client;
    this.services = services;
    this.eligibleBackends = eligibleBackends;
    this.provider = provider;
    this.classifier = classifier;
    this.ports = ports;
    this.events = events;
    this.plannerSettings = plannerSettings;
    this.patches = new ServicePatches(client);
  }

  Outcome reconcile(String key) {
    Service service = services.apply(key);
    if (service == null) {
      applied.remove(key);
      rejections.remove(key);
      return Outcome.DONE;
    }
    MDC.put("service.namespace", service.getMetadata().getNamespace());
    MDC.put("service.name", service.getMetadata().getName());
    MDC.put("service.uid", service.getMetadata().getUid());
    try {
      if (classifier.wantsLoadBalancer(service)) {
        return ensure(key, service);
      }
      if (ServiceClassifier.hasFinalizer(service)) {
        return cleanup(key, service);
      }
      return Outcome.DONE;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return new Outcome.RequeueAfter(CONFLICT_RETRY);
      }
      if (e.getCode() == 404) {
        return Outcome.DONE; // gone meanwhile; its delete event re-queues if needed
      }
      return new Outcome.Failed("Kubernetes API: " + e.getMessage());
    } finally {
      MDC.clear();
    }
  }

  private Outcome ensure(String key, Service service) {
    if (!ServiceClassifier.hasFinalizer(service)) {
      service = withFinalizer(service, true); // before any cloud call
    }
    Service withPorts;
    switch (ports.assign(service)) {
      case NodePortAssigner.Assigned a -> withPorts = a.service();
      case NodePortAssigner.Conflict c -> {
        return rejected(service, c.violations());
      }
      case NodePortAssigner.Retry r -> {
        if (r.outcome() instanceof Outcome.Failed f) {
          events.warning(service, ServiceEvents.SYNC_FAILED, f.reason());
        }
        return r.outcome();
      }
    }
    LoadBalancerPlan plan;
    switch (Planner.plan(withPorts, eligibleBackends.get(), plannerSettings)) {
      case Planner.Rejected r -> {
        return rejected(withPorts, r.violations());
      }
      case Planner.Planned p -> plan = p.plan();
    }
    List<PlanViolation> unsupported = provider.capabilities().violations(plan);
    if (!unsupported.isEmpty()) {
      return rejected(withPorts, unsupported);
    }

    rejections.remove(key);
    LoadBalancerPlan last = applied.get(key);
    if (plan.equals(last)) {
      return Outcome.DONE;
    }
    if (last != null && last.withBackends(plan.backends()).equals(plan)) {
      return updateBackends(key, withPorts, plan);
    }
    events.normal(withPorts, ServiceEvents.ENSURING, "Ensuring load balancer");
    LoadBalancerStatus status;
    try {
      status = provider.ensure(plan);
    } catch (ProviderException e) {
      return providerFailed(withPorts, ServiceEvents.SYNC_FAILED, "Error syncing load balancer", e);
    }
    writeStatus(withPorts, status);
    applied.put(key, plan);
    log.info("ensured load balancer: {}", describe(status));
    events.normal(withPorts, ServiceEvents.ENSURED, "Ensured load balancer");
    return Outcome.DONE;
  }

  private Outcome updateBackends(String key, Service service, LoadBalancerPlan plan) {
    try {
      provider.updateBackends(plan.ref(), plan.backends());
    } catch (ProviderException e) {
      return providerFailed(
          service, ServiceEvents.UPDATE_FAILED, "Error updating load balancer with new hosts", e);
    }
    applied.put(key, plan);
    events.normal(
        service,
        ServiceEvents.UPDATED,
        "Updated load balancer with new hosts: "
            + plan.backends().stream().map(Backend::nodeName).collect(Collectors.joining(", ")));
    return Outcome.DONE;
  }

  private Outcome cleanup(String key, Service service) {
    LoadBalancerRef ref = Planner.ref(service, plannerSettings);
    events.normal(service, ServiceEvents.DELETING, "Deleting load balancer");
    try {
      provider.ensureDeleted(ref);
    } catch (ProviderException e) {
      return providerFailed(
          service, ServiceEvents.DELETE_FAILED, "Error deleting load balancer", e);
    }
    applied.remove(key);
    log.info("deleted load balancer");
    boolean deleting = service.getMetadata().getDeletionTimestamp() != null;
    ports.forget(service, deleting);
    if (!deleting && hasIngress(service)) {
      service = patches.ingress(service, List.of());
    }
    withFinalizer(service, false);
    events.normal(service, ServiceEvents.DELETED, "Deleted load balancer");
    return Outcome.DONE;
  }

  private Outcome rejected(Service service, List<PlanViolation> violations) {
    String message =
        "Invalid Service: "
            + violations.stream().map(PlanViolation::toString).collect(Collectors.joining("; "));
    // Ferry's own writes (finalizer, NodePorts) bring the Service back once more: warn once per
    // content of the Service, not once per reconcile
    String seen =
        service.getSpec().hashCode() + "|" + service.getMetadata().getAnnotations() + "|" + message;
    if (!seen.equals(rejections.put(Cache.metaNamespaceKeyFunc(service), seen))) {
      events.warning(service, ServiceEvents.SYNC_FAILED, message);
    }
    return Outcome.DONE; // the user must change the Service; its update event brings it back
  }

  private Outcome providerFailed(Service service, String reason, String what, ProviderException e) {
    return switch (e) {
      case ProviderException.InvalidPlan invalid -> rejected(service, invalid.violations());
      case ProviderException.Throttled t -> {
        log.info("{}: throttled, retrying in {}", what, t.retryAfter());
        yield new Outcome.RequeueAfter(t.retryAfter());
      }
      case ProviderException.Transient t -> {
        events.warning(service, reason, what + ": " + t.getMessage());
        yield new Outcome.Failed(t.getMessage());
      }
      case ProviderException.QuotaExceeded q -> {
        events.warning(service, reason, what + ": quota exceeded: " + q.getMessage());
        yield new Outcome.Failed(q.getMessage());
      }
    };
  }

  private Service withFinalizer(Service service, boolean present) {
    List<String> finalizers = new ArrayList<>();
    if (service.getMetadata().getFinalizers() != null) {
      finalizers.addAll(service.getMetadata().getFinalizers());
    }
    finalizers.remove(ServiceClassifier.FINALIZER);
    if (present) {
      finalizers.add(ServiceClassifier.FINALIZER);
    }
    return patches.finalizers(service, finalizers);
  }

  private void writeStatus(Service service, LoadBalancerStatus status) {
    List<LoadBalancerIngress> ingress = toIngress(status);
    ServiceStatus current = service.getStatus();
    List<LoadBalancerIngress> existing =
        current == null
                || current.getLoadBalancer() == null
                || current.getLoadBalancer().getIngress() == null
            ? List.of()
            : current.getLoadBalancer().getIngress();
    if (Objects.equals(existing, ingress)) {
      return;
    }
    patches.ingress(service, ingress);
  }

  private static boolean hasIngress(Service service) {
    return service.getStatus() != null
        && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null
        && !service.getStatus().getLoadBalancer().getIngress().isEmpty();
  }

  private static String describe(LoadBalancerStatus status) {
    return status.ingress().stream()
        .map(i -> i.ip().or(i::hostname).orElse("?"))
        .collect(Collectors.joining(", "));
  }

  static List<LoadBalancerIngress> toIngress(LoadBalancerStatus status) {
    List<LoadBalancerIngress> out = new ArrayList<>();
    for (LoadBalancerStatus.Ingress in : status.ingress()) {
      LoadBalancerIngressBuilder b = new LoadBalancerIngressBuilder();
      in.ip().ifPresent(b::withIp);
      in.hostname().ifPresent(b::withHostname);
      b.withIpMode(in.ipMode().name());
      in.ports()
          .forEach(
              p ->
                  b.addToPorts(
                      new PortStatusBuilder()
                          .withPort(p.port())
                          .withProtocol(p.protocol().name())
                          .withError(p.error().isEmpty() ? null : p.error())
                          .build()));
      out.add(b.build());
    }
    return out;
  }
}
