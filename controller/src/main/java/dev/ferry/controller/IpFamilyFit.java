package dev.ferry.controller;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.LoadBalancerPlan;
import java.util.List;
import java.util.Optional;

/**
 * A plan's IP families against what the provider serves, as upstream defines {@code
 * spec.ipFamilyPolicy}: a PreferDualStack Service on a provider (or a cloud configuration) without
 * both families at once is served in the family it has, the first of {@code spec.ipFamilies} the
 * provider serves, and told so; SingleStack and RequireDualStack ones go to the capability check as
 * they are, which refuses what the provider cannot serve.
 */
final class IpFamilyFit {

  /** The plan to build, and the Normal event that says which family was left out and why. */
  record Fit(LoadBalancerPlan plan, Optional<String> notice) {}

  private IpFamilyFit() {}

  static Fit fit(LoadBalancerPlan plan, Capabilities caps) {
    List<IpFamily> asked = plan.ipFamilies();
    if (plan.ipFamilyPolicy() != IpFamilyPolicy.PreferDualStack
        || asked.size() < 2
        || (caps.dualStack() && caps.ipFamilies().containsAll(asked))) {
      return new Fit(plan, Optional.empty());
    }
    Optional<IpFamily> keep = asked.stream().filter(caps.ipFamilies()::contains).findFirst();
    if (keep.isEmpty()) {
      return new Fit(plan, Optional.empty()); // the capability check says why
    }
    IpFamily served = keep.get();
    IpFamily left = asked.stream().filter(f -> f != served).findFirst().orElseThrow();
    List<String> ranges = plan.sourceRanges(served);
    LoadBalancerPlan one =
        plan.toBuilder()
            .ipFamilies(List.of(served))
            .sourceRanges(ranges.isEmpty() ? plan.sourceRanges() : ranges)
            .build();
    String why =
        caps.ipFamilies().contains(left)
            ? "it cannot serve both families on one load balancer"
            : "it serves " + served + " only";
    return new Fit(
        one,
        Optional.of(
            "spec.ipFamilyPolicy is PreferDualStack, but "
                + why
                + " (the provider's capabilities): the load balancer gets an "
                + served
                + " address and no "
                + left
                + " one"));
  }

  /**
   * The nodes that are no backend of one of the plan's families, having no internal address of it
   * (a node without an IPv6 InternalIP behind an IPv6 frontend), said in one line; empty when every
   * node has an address of every family. Only for plans with IPv6.
   */
  static Optional<String> nodesWithoutAddress(LoadBalancerPlan plan) {
    if (!plan.ipFamilies().contains(IpFamily.IPv6)) {
      return Optional.empty(); // IPv4 as ever: a node's address is its first InternalIP
    }
    StringBuilder out = new StringBuilder();
    for (IpFamily family : plan.ipFamilies()) {
      List<String> missing =
          plan.backends().stream()
              .filter(b -> b.address(family).isEmpty())
              .map(Backend::nodeName)
              .toList();
      if (missing.isEmpty()) {
        continue;
      }
      out.append(out.isEmpty() ? "" : "; ")
          .append(missing.size() > 5 ? missing.size() + " nodes" : String.join(", ", missing))
          .append(missing.size() == 1 ? " has no " : " have no ")
          .append(family)
          .append(" InternalIP and ")
          .append(missing.size() == 1 ? "is not a backend" : "are not backends")
          .append(" of the ")
          .append(family)
          .append(" frontend");
    }
    return out.isEmpty() ? Optional.empty() : Optional.of(out.toString());
  }
}
