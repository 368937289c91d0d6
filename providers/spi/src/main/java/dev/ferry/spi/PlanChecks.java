package dev.ferry.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** What {@link Capabilities#violations} finds in a plan: each field the provider cannot serve. */
final class PlanChecks {

  private PlanChecks() {}

  static List<PlanViolation> violations(Capabilities c, LoadBalancerPlan plan) {
    List<PlanViolation> found = new ArrayList<>();
    List<Listener> listeners = plan.listeners();
    for (int i = 0; i < listeners.size(); i++) {
      Protocol protocol = listeners.get(i).protocol();
      if (!c.protocols().contains(protocol)) {
        found.add(
            new PlanViolation(
                "spec.ports[" + i + "].protocol",
                protocol
                    + " is not supported by this provider; use one of "
                    + Capabilities.names(c.protocols())));
      }
    }
    Set<Protocol> used = EnumSet.noneOf(Protocol.class);
    listeners.forEach(l -> used.add(l.protocol()));
    if (!c.mixedProtocols() && used.size() > 1) {
      found.add(
          new PlanViolation(
              "spec.ports",
              "this provider cannot mix protocols "
                  + Capabilities.names(used)
                  + " on one load balancer; split the ports over two Services"));
    }
    if (listeners.size() > c.maxListeners()) {
      found.add(
          new PlanViolation(
              "spec.ports",
              listeners.size()
                  + " ports exceed this provider's limit of "
                  + c.maxListeners()
                  + " listeners"));
    }
    boolean restricted =
        plan.ipFamilies().stream()
            .anyMatch(f -> !plan.sourceRanges(f).equals(List.of(f.everyAddress())));
    if (!c.sourceRanges() && restricted) {
      found.add(
          new PlanViolation(
              "spec.loadBalancerSourceRanges",
              "this provider cannot restrict clients; remove the source ranges"));
    }
    if (!c.requestedIp() && plan.requestedIp().isPresent()) {
      found.add(
          new PlanViolation(
              "spec.loadBalancerIP", "this provider cannot honour a requested IP; remove it"));
    }
    if (!c.retain() && plan.reclaimPolicy() == ReclaimPolicy.Retain) {
      found.add(
          new PlanViolation(
              "metadata.annotations[ferry.dev/reclaim-policy]",
              "this provider cannot keep an address after its Service; remove the annotation (or"
                  + " set it to Delete)"));
    }
    if (!c.sharedAddresses() && plan.sharingKey().isPresent()) {
      found.add(
          new PlanViolation(
              "metadata.annotations[ferry.dev/allow-shared-ip]",
              "this provider cannot put several Services on one address; remove the annotation"));
    }
    if (!c.adopt() && plan.adopt().isPresent()) {
      found.add(
          new PlanViolation(
              "metadata.annotations[ferry.dev/adopt]",
              "this provider cannot take over an existing load balancer; remove the annotation"));
    }
    if (!c.internal() && plan.scheme() == Scheme.INTERNAL) {
      found.add(
          new PlanViolation(
              "metadata.annotations", "this provider cannot make internal load balancers"));
    }
    if (!c.clientIpAffinity() && plan.affinity().clientIp()) {
      found.add(
          new PlanViolation(
              "spec.sessionAffinity", "this provider cannot honour ClientIP affinity; use None"));
    }
    Duration interval = plan.healthCheck().interval();
    if (interval.compareTo(c.minHealthCheckInterval()) < 0
        || interval.compareTo(c.maxHealthCheckInterval()) > 0) {
      found.add(
          new PlanViolation(
              "metadata.annotations[ferry.dev/health-check-interval]",
              "a health-check interval of "
                  + human(interval)
                  + " is outside this provider's range "
                  + human(c.minHealthCheckInterval())
                  + "-"
                  + human(c.maxHealthCheckInterval())
                  + "; pick one inside it"));
    }
    found.addAll(families(c, plan));
    return List.copyOf(found);
  }

  /**
   * The families: each must be one the provider serves, and two need a dual-stack provider. A
   * PreferDualStack Service reaches a provider with the families it can serve (the controller
   * leaves the other out); SingleStack and RequireDualStack ones are refused here, naming the field
   * to change.
   */
  private static List<PlanViolation> families(Capabilities c, LoadBalancerPlan plan) {
    Set<IpFamily> missing = EnumSet.noneOf(IpFamily.class);
    missing.addAll(plan.ipFamilies());
    missing.removeAll(c.ipFamilies());
    String serves = "this provider serves " + Capabilities.names(c.ipFamilies());
    if (!missing.isEmpty()) {
      boolean dual = plan.ipFamilies().size() > 1;
      return List.of(
          new PlanViolation(
              dual ? "spec.ipFamilyPolicy" : "spec.ipFamilies",
              serves
                  + " only; "
                  + Capabilities.names(missing)
                  + " cannot be given an address ("
                  + (dual
                      ? "set spec.ipFamilyPolicy to PreferDualStack to be served in "
                          + Capabilities.names(c.ipFamilies())
                          + " alone, or SingleStack"
                      : "set spec.ipFamilies to " + Capabilities.names(c.ipFamilies()))
                  + ")"));
    }
    if (plan.ipFamilies().size() > 1 && !c.dualStack()) {
      return List.of(
          new PlanViolation(
              "spec.ipFamilyPolicy",
              serves
                  + " but not both on one load balancer; set spec.ipFamilyPolicy to"
                  + " PreferDualStack or SingleStack"));
    }
    return List.of();
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
