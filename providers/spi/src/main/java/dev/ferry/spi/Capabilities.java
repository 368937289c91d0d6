package dev.ferry.spi;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a provider can build. The controller checks every plan with {@link #violations} before
 * calling the provider; providers call {@link #requireSupported} at the top of {@code ensure} so a
 * plan outside their reach fails before any change.
 *
 * @param protocols listener protocols supported
 * @param mixedProtocols whether one load balancer may carry TCP and UDP listeners together
 * @param maxListeners most listeners on one load balancer
 * @param sourceRanges whether client CIDRs can be restricted
 * @param requestedIp whether {@code spec.loadBalancerIP} can be honoured
 * @param internal whether internal (private) load balancers can be made
 * @param clientIpAffinity whether {@code sessionAffinity: ClientIP} can be honoured
 */
public record Capabilities(
    Set<Protocol> protocols,
    boolean mixedProtocols,
    int maxListeners,
    boolean sourceRanges,
    boolean requestedIp,
    boolean internal,
    boolean clientIpAffinity) {

  public Capabilities {
    protocols = Set.copyOf(protocols);
    if (protocols.isEmpty() || maxListeners < 1) {
      throw new IllegalArgumentException("a provider supports at least one protocol and listener");
    }
  }

  /** Everything a plan asks for that this provider cannot do; empty when the plan is supported. */
  public List<PlanViolation> violations(LoadBalancerPlan plan) {
    List<PlanViolation> found = new ArrayList<>();
    List<Listener> listeners = plan.listeners();
    for (int i = 0; i < listeners.size(); i++) {
      Protocol protocol = listeners.get(i).protocol();
      if (!protocols.contains(protocol)) {
        found.add(
            new PlanViolation(
                "spec.ports[" + i + "].protocol",
                protocol + " is not supported by this provider; use one of " + names(protocols)));
      }
    }
    Set<Protocol> used = EnumSet.noneOf(Protocol.class);
    listeners.forEach(l -> used.add(l.protocol()));
    if (!mixedProtocols && used.size() > 1) {
      found.add(
          new PlanViolation(
              "spec.ports",
              "this provider cannot mix protocols "
                  + names(used)
                  + " on one load balancer; split the ports over two Services"));
    }
    if (listeners.size() > maxListeners) {
      found.add(
          new PlanViolation(
              "spec.ports",
              listeners.size()
                  + " ports exceed this provider's limit of "
                  + maxListeners
                  + " listeners"));
    }
    boolean restricted = !plan.sourceRanges().equals(List.of("0.0.0.0/0"));
    if (!sourceRanges && restricted) {
      found.add(
          new PlanViolation(
              "spec.loadBalancerSourceRanges",
              "this provider cannot restrict clients; remove the source ranges"));
    }
    if (!requestedIp && plan.requestedIp().isPresent()) {
      found.add(
          new PlanViolation(
              "spec.loadBalancerIP", "this provider cannot honour a requested IP; remove it"));
    }
    if (!internal && plan.scheme() == Scheme.INTERNAL) {
      found.add(
          new PlanViolation(
              "metadata.annotations", "this provider cannot make internal load balancers"));
    }
    if (!clientIpAffinity && plan.affinity().clientIp()) {
      found.add(
          new PlanViolation(
              "spec.sessionAffinity", "this provider cannot honour ClientIP affinity; use None"));
    }
    return List.copyOf(found);
  }

  /** Throws {@link ProviderException.InvalidPlan} naming every unsupported field. */
  public void requireSupported(LoadBalancerPlan plan) throws ProviderException.InvalidPlan {
    List<PlanViolation> found = violations(plan);
    if (!found.isEmpty()) {
      throw new ProviderException.InvalidPlan(found);
    }
  }

  private static String names(Set<Protocol> set) {
    return set.stream().sorted().map(Enum::name).collect(Collectors.joining(", "));
  }
}
