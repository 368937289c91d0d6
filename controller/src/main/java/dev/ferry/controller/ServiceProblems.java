package dev.ferry.controller;

import dev.ferry.controller.StatusWriter.Ready;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Service's owner is told when Ferry cannot serve it as asked: an invalid Service, a
 * provider failure by its class (throttled, transient, quota), a notice. Ferry's own writes bring a
 * Service back more than once, so each Warning is recorded once per content of the Service.
 */
final class ServiceProblems {

  private static final Logger log = LoggerFactory.getLogger(ServiceProblems.class);

  private final ServiceEvents events;
  private final StatusWriter status;
  // what a Service was last warned about, so that a warning is recorded once per content of it
  private final Map<String, String> rejections = new ConcurrentHashMap<>();
  private final Map<String, String> notices = new ConcurrentHashMap<>();
  // the Normal events said once per message: "key|reason" -> message
  private final Map<String, String> said = new ConcurrentHashMap<>();

  ServiceProblems(ServiceEvents events, StatusWriter status) {
    this.events = events;
    this.status = status;
  }

  /** A Warning about {@code service} that is not a refusal, once per content of it. */
  void notice(String key, Service service, String message) {
    warnOnce(notices, key, service, message);
  }

  /** A Normal event about {@code service}, once until its message changes. */
  void normalOnce(String key, Service service, String reason, String message) {
    if (!message.equals(said.put(key + "|" + reason, message))) {
      events.normal(service, reason, message);
    }
  }

  /**
   * A Normal event naming the nodes a family's frontend has no address of, once per message; only
   * where the provider reaches each family's nodes by their address of it.
   */
  void nodesWithoutAddress(
      String key, Service service, LoadBalancerPlan plan, GuardedProvider provider) {
    try {
      if (!provider.checkedCapabilities().backendsByFamily()) {
        return; // every family reaches the nodes through their primary address
      }
    } catch (ProviderException e) {
      return; // said by the reconcile that needs them
    }
    IpFamilyFit.nodesWithoutAddress(plan)
        .ifPresent(m -> normalOnce(key, service, ServiceEvents.NODES_WITHOUT_FAMILY, m));
  }

  /** The Service was served: a later rejection of the same content is news again. */
  void served(String key) {
    rejections.remove(key);
  }

  /** The Service is gone. */
  void forget(String key) {
    rejections.remove(key);
    notices.remove(key);
    said.keySet().removeIf(k -> k.startsWith(key + "|"));
  }

  /** An invalid Service: a Warning once per content of it, and the condition saying why. */
  Outcome rejected(Service service, List<PlanViolation> violations) {
    String message =
        "Invalid Service: "
            + violations.stream().map(PlanViolation::toString).collect(Collectors.joining("; "));
    // Ferry's own writes (finalizer, NodePorts) bring the Service back once more: warn once per
    // content of the Service, not once per reconcile
    warnOnce(rejections, Cache.metaNamespaceKeyFunc(service), service, message);
    Outcome written =
        status.write(
            service,
            Optional.empty(),
            StatusWriter.condition(Ready.no(Ready.INVALID_SERVICE, message)));
    // the user must change the Service; its update event brings it back
    return written;
  }

  /** The provider failed to sync {@code service}: what its class of failure calls for. */
  Outcome syncFailed(Service service, ProviderException e) {
    String reason = ServiceEvents.SYNC_FAILED;
    String what = "Error syncing load balancer";
    return switch (e) {
      case ProviderException.InvalidPlan invalid -> rejected(service, invalid.violations());
      case ProviderException.Throttled t -> {
        log.info("{}: throttled, retrying in {}", what, t.retryAfter());
        status.write(
            service,
            Optional.empty(),
            StatusWriter.condition(
                Ready.no(Ready.THROTTLED, "The cloud throttles Ferry; retrying")));
        yield new Outcome.RequeueAfter(t.retryAfter());
      }
      case ProviderException.Transient t -> {
        events.warning(service, reason, what + ": " + t.getMessage());
        status.write(
            service,
            Optional.empty(),
            StatusWriter.condition(Ready.no(Ready.PROVIDER_ERROR, t.getMessage())));
        yield new Outcome.Failed(t.getMessage());
      }
      case ProviderException.QuotaExceeded q -> {
        events.warning(service, reason, what + ": quota exceeded: " + q.getMessage());
        status.write(
            service,
            Optional.empty(),
            StatusWriter.condition(
                Ready.no(Ready.PROVIDER_ERROR, "Quota exceeded: " + q.getMessage())));
        yield new Outcome.Failed(q.getMessage());
      }
    };
  }

  /** A Warning recorded once per content of the Service, however often it is reconciled. */
  private void warnOnce(Map<String, String> memo, String key, Service service, String message) {
    String seen =
        service.getSpec().hashCode() + "|" + service.getMetadata().getAnnotations() + "|" + message;
    if (!seen.equals(memo.put(key, seen))) {
      events.warning(service, ServiceEvents.SYNC_FAILED, message);
    }
  }
}
