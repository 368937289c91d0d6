package dev.ferry.provider.aws;

import dev.ferry.spi.IpFamily;
import dev.ferry.spi.IpFamilyPolicy;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.List;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.ec2.model.SubnetIpv6CidrBlockAssociation;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.IpAddressType;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;

/**
 * Whether a Service's NLB is {@code dualstack} or {@code ipv4}, as AWS allows it: an NLB always has
 * IPv4 (AWS has no IPv6-only NLB for instance targets), and a dualstack one needs an IPv6 CIDR
 * block on every subnet it is in (<a
 * href="https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-ip-address-type.html">Dualstack
 * requirements</a>). Its IPv4 instance targets serve both families: the NLB carries IPv6 clients'
 * connections to them over IPv4. Dualstack when the Service has IPv6 in {@code spec.ipFamilies} or
 * the annotation {@value #IP_ADDRESS_TYPE} (as the AWS Load Balancer Controller reads it) says so;
 * a PreferDualStack Service in subnets without IPv6 gets an IPv4 NLB and a Normal event saying why.
 */
final class AwsFamilies {

  static final String IP_ADDRESS_TYPE = AwsOptions.PREFIX + "ip-address-type";
  static final String FAMILY_NOT_SERVED = "IPFamilyNotServed";

  private AwsFamilies() {}

  /** True for a dualstack NLB; refuses what AWS cannot build, naming the field to change. */
  static boolean dualStack(LoadBalancerPlan plan, List<Subnet> subnets, ProviderEvents events)
      throws ProviderException.InvalidPlan {
    String type = plan.annotations().getOrDefault(IP_ADDRESS_TYPE, "").trim();
    if (!type.isEmpty() && !type.equals("ipv4") && !type.equals("dualstack")) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + IP_ADDRESS_TYPE + "]",
          "'" + type + "' is neither ipv4 nor dualstack");
    }
    if (plan.ipFamilies().equals(List.of(IpFamily.IPv6))) {
      throw new ProviderException.InvalidPlan(
          "spec.ipFamilies",
          "an NLB always has IPv4 addresses (AWS makes no IPv6-only NLB for instance targets);"
              + " set spec.ipFamilyPolicy to PreferDualStack or RequireDualStack with both"
              + " families");
    }
    boolean asked = plan.ipFamilies().contains(IpFamily.IPv6);
    boolean require = plan.ipFamilyPolicy() == IpFamilyPolicy.RequireDualStack;
    if (asked && type.equals("ipv4")) {
      if (require) {
        throw new ProviderException.InvalidPlan(
            "metadata.annotations[" + IP_ADDRESS_TYPE + "]",
            "ipv4 contradicts spec.ipFamilyPolicy RequireDualStack; remove it or set dualstack");
      }
      events.normal(
          plan.ref(),
          FAMILY_NOT_SERVED,
          IP_ADDRESS_TYPE + " is ipv4: the NLB has no IPv6 address (PreferDualStack)");
      return false;
    }
    if (!asked && !type.equals("dualstack")) {
      return false;
    }
    List<String> without =
        subnets.stream().filter(s -> !hasIpv6(s)).map(Subnet::subnetId).sorted().toList();
    if (without.isEmpty()) {
      return true;
    }
    String why =
        "the subnets "
            + without
            + " have no IPv6 CIDR block, which a dualstack NLB needs in every subnet; associate"
            + " one with each, or name subnets that have one in "
            + AwsOptions.SUBNETS;
    if (require || type.equals("dualstack")) {
      throw new ProviderException.InvalidPlan(
          require ? "spec.ipFamilyPolicy" : "metadata.annotations[" + IP_ADDRESS_TYPE + "]", why);
    }
    events.normal(
        plan.ref(),
        FAMILY_NOT_SERVED,
        "spec.ipFamilyPolicy is PreferDualStack, but "
            + why
            + ": the NLB is IPv4 only for now, and becomes dualstack once they have");
    return false;
  }

  /** Makes an existing NLB's IP address type the wanted one (AWS changes it in place). */
  static void ipAddressType(AwsContext aws, LoadBalancer lb, boolean dual)
      throws ProviderException {
    IpAddressType want = dual ? IpAddressType.DUALSTACK : IpAddressType.IPV4;
    if (lb.ipAddressType() != want) {
      String arn = lb.loadBalancerArn();
      aws.api.run(
          AwsApi.Bucket.ELB_MUTATE,
          "SetIpAddressType",
          () -> aws.elb.setIpAddressType(r -> r.loadBalancerArn(arn).ipAddressType(want)));
    }
  }

  /** Whether {@code subnet} has an IPv6 CIDR block (associated, not on its way out). */
  static boolean hasIpv6(Subnet subnet) {
    for (SubnetIpv6CidrBlockAssociation a : subnet.ipv6CidrBlockAssociationSet()) {
      String state =
          a.ipv6CidrBlockState() == null
              ? ""
              : String.valueOf(a.ipv6CidrBlockState().stateAsString());
      if (a.ipv6CidrBlock() != null
          && !a.ipv6CidrBlock().isEmpty()
          && !state.contains("disassociat")
          && !state.contains("failed")) {
        return true;
      }
    }
    return false;
  }
}
