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
 * @param currentAddresses the addresses (IPs or hostnames) the Service's status shows now; a
 *     provider that picks addresses itself gives a load balancer it makes again (after a restart,
 *     or one deleted out of band) the address it had, when it is free: clients keep reaching it
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
    Map<String, String> tags,
    List<String> currentAddresses) {

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
    currentAddresses = List.copyOf(currentAddresses);
    if (listeners.isEmpty()) {
      throw new IllegalArgumentException("a load balancer needs at least one listener");
    }
  }

  /** A plan with no current addresses (a Service that has none yet). */
  public LoadBalancerPlan(
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
    this(
        ref,
        scheme,
        listeners,
        backends,
        healthCheck,
        sourceRanges,
        requestedIp,
        affinity,
        annotations,
        tags,
        List.of());
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
        tags,
        currentAddresses);
  }

  /** The same plan with other current addresses. */
  public LoadBalancerPlan withCurrentAddresses(List<String> addresses) {
    return new LoadBalancerPlan(
        ref,
        scheme,
        listeners,
        backends,
        healthCheck,
        sourceRanges,
        requestedIp,
        affinity,
        annotations,
        tags,
        addresses);
  }
}
