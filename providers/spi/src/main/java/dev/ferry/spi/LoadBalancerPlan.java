package dev.ferry.spi;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The desired load balancer for one Service, computed by the controller from the Service and the
 * eligible nodes. Immutable; a provider reads it and never changes it.
 *
 * @param ref which Service this is for
 * @param scheme external or internal
 * @param listeners one per Service port, in the Service's order
 * @param backends the eligible nodes, sorted by name
 * @param healthCheck how backends are probed
 * @param sourceRanges client CIDRs allowed in; {@code 0.0.0.0/0} when the Service names none
 * @param requestedIp {@code spec.loadBalancerIP}, when given
 * @param affinity session affinity
 * @param annotations the Service's annotations, for provider-specific options
 * @param tags ownership and user tags every cloud resource of this load balancer carries
 */
public record LoadBalancerPlan(
    LoadBalancerRef ref,
    Scheme scheme,
    List<Listener> listeners,
    List<Backend> backends,
    HealthCheck healthCheck,
    List<String> sourceRanges,
    Optional<String> requestedIp,
    SessionAffinity affinity,
    Map<String, String> annotations,
    Map<String, String> tags) {

  public LoadBalancerPlan {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(scheme, "scheme");
    Objects.requireNonNull(healthCheck, "healthCheck");
    Objects.requireNonNull(requestedIp, "requestedIp");
    Objects.requireNonNull(affinity, "affinity");
    listeners = List.copyOf(listeners);
    backends = List.copyOf(backends);
    sourceRanges = List.copyOf(sourceRanges);
    annotations = Map.copyOf(annotations);
    tags = Map.copyOf(tags);
    if (listeners.isEmpty()) {
      throw new IllegalArgumentException("a load balancer needs at least one listener");
    }
  }

  /** The same plan with another backend set. */
  public LoadBalancerPlan withBackends(List<Backend> newBackends) {
    return new LoadBalancerPlan(
        ref,
        scheme,
        listeners,
        newBackends,
        healthCheck,
        sourceRanges,
        requestedIp,
        affinity,
        annotations,
        tags);
  }
}
