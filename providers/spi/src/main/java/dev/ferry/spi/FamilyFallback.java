package dev.ferry.spi;

import java.util.List;

/**
 * What a provider that serves IPv6 answers when a Service's cloud configuration cannot have it (no
 * IPv6 subnet or address space, an internal scheme, a tier without IPv6): the contract's rule for
 * {@code spec.ipFamilyPolicy}, in one place. Since 1.3.
 */
public final class FamilyFallback {

  /** The reason of the Normal event that says which family was left out, and why. */
  public static final String FAMILY_NOT_SERVED = "IPFamilyNotServed";

  private FamilyFallback() {}

  /**
   * The families served when IPv6 cannot be, for {@code why} (a clause naming what is missing and
   * how to add it): a {@code PreferDualStack} Service's IPv4 alone, with a Normal {@value
   * #FAMILY_NOT_SERVED} event saying why; a {@code RequireDualStack} Service, or an IPv6-only one,
   * is refused naming {@code spec.ipFamilyPolicy} or {@code spec.ipFamilies}, before anything is
   * built.
   */
  public static List<IpFamily> ipv4Only(LoadBalancerPlan plan, String why, ProviderEvents events)
      throws ProviderException.InvalidPlan {
    if (plan.ipFamilies().equals(List.of(IpFamily.IPv6))) {
      throw new ProviderException.InvalidPlan(
          "spec.ipFamilies", why + "; an IPv6-only Service cannot be built");
    }
    if (plan.ipFamilyPolicy() != IpFamilyPolicy.PreferDualStack) {
      throw new ProviderException.InvalidPlan(
          "spec.ipFamilyPolicy",
          why + "; set PreferDualStack to be served in IPv4 until IPv6 can be");
    }
    events.normal(
        plan.ref(),
        FAMILY_NOT_SERVED,
        "spec.ipFamilyPolicy is PreferDualStack, but "
            + why
            + ": the load balancer is IPv4 only for now, and gets IPv6 once it can");
    return List.of(IpFamily.IPv4);
  }
}
