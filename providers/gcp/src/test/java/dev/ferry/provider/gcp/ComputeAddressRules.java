package dev.ferry.provider.gcp;

import static dev.ferry.provider.gcp.ComputeFake.relative;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.protobuf.Message;
import dev.ferry.provider.gcp.ComputeRules.Refusal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compute's rules about IPs: forwarding rules (ports, tiers, their backend service) and the
 * addresses they share, internal subnets. Each cites the page or discovery field that documents it;
 * called under the fake's lock through {@link ComputeRules}.
 */
final class ComputeAddressRules {

  private final ComputeFake fake;

  ComputeAddressRules(ComputeFake fake) {
    this.fake = fake;
  }

  // --- forwarding rules ---

  Refusal forwardingRule(String link, ForwardingRule r) {
    String region = scope(link);
    // discovery ForwardingRule.ports: "The ports, portRange, and allPorts fields are mutually
    // exclusive"; "up to five ports"; "requires that the forwarding rule IPProtocol be TCP, UDP, or
    // SCTP"
    int given =
        (r.getPortsCount() > 0 ? 1 : 0) + (r.hasPortRange() ? 1 : 0) + (r.getAllPorts() ? 1 : 0);
    if (given > 1) {
      return invalid(
          "resource.ports", "The ports, portRange and allPorts fields are mutually exclusive.");
    }
    if (r.getPortsCount() > 5) {
      return invalid("resource.ports", "A forwarding rule can list at most 5 ports.");
    }
    if (r.getPortsCount() > 0 && !Set.of("TCP", "UDP", "SCTP").contains(r.getIPProtocol())) {
      return invalid("resource.ports", "ports require IPProtocol TCP, UDP or SCTP.");
    }
    if (r.getIPProtocol().equals("L3_DEFAULT") && !r.getAllPorts()) {
      // forwarding-rule-concepts#protocol-specifications: L3_DEFAULT takes allPorts only
      return invalid("resource.allPorts", "IPProtocol L3_DEFAULT requires allPorts.");
    }
    if (r.getBackendService().isEmpty() && r.getTarget().isEmpty()) {
      return invalid("resource.backendService", "A backend service or a target is required.");
    }
    String service = relative(r.getBackendService());
    BackendService s = (BackendService) fake.resources.get(service);
    if (s == null) {
      return notFound(r.getBackendService());
    }
    if (!s.getLoadBalancingScheme().equals(r.getLoadBalancingScheme())) {
      return invalid(
          "resource.loadBalancingScheme",
          "'"
              + r.getLoadBalancingScheme()
              + "' does not match the backend service's '"
              + s.getLoadBalancingScheme()
              + "'.");
    }
    if (!s.getProtocol().equals(r.getIPProtocol())
        && !s.getProtocol().equals("UNSPECIFIED")
        && !r.getIPProtocol().equals("L3_DEFAULT")) {
      return invalid(
          "resource.IPProtocol",
          "'" + r.getIPProtocol() + "' does not match the backend service's protocol.");
    }
    boolean internal = r.getLoadBalancingScheme().equals("INTERNAL");
    if (internal) {
      Refusal subnet = subnetRequired(r.getNetwork(), r.getSubnetwork(), region, "resource");
      if (subnet != null) {
        return subnet;
      }
    }
    if (r.getIpVersion().equals("IPV6") || r.getIPAddress().contains(":")) {
      Refusal v6 = ipv6Rule(region, r);
      if (v6 != null) {
        return v6;
      }
    }
    Address address = addressFor(region, r.getIPAddress());
    if (!internal) {
      // discovery ForwardingRule.networkTier: "If IPAddress is specified, this value must be
      // equal to the networkTier of the Address"; unset means PREMIUM
      String tier = r.hasNetworkTier() ? r.getNetworkTier() : "PREMIUM";
      if (address != null && !address.getNetworkTier().equals(tier)) {
        return invalid(
            "resource.networkTier",
            "'"
                + tier
                + "'. The network tier of the forwarding rule must match the network tier of its"
                + " IP address, '"
                + address.getNetworkTier()
                + "'.");
      }
      if (address == null && !r.getIPAddress().isEmpty()) {
        return invalid(
            "resource.IPAddress",
            "'" + r.getIPAddress() + "'. Specified IP address is not reserved in this project.");
      }
    }
    return sharedAddress(region, r, address);
  }

  /**
   * Rules on one IP: discovery ForwardingRule.ports ("two or more forwarding rules cannot use the
   * same [IPAddress, IPProtocol] pair if they share at least one port number"); and for internal
   * rules, https://cloud.google.com/load-balancing/docs/internal/multiple-forwarding-rules-same-ip:
   * several forwarding rules on one internal IP need an address of purpose SHARED_LOADBALANCER_VIP.
   */
  private Refusal sharedAddress(String region, ForwardingRule r, Address address) {
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      if (!(e.getValue() instanceof ForwardingRule other)
          || !scope(e.getKey()).equals(region)
          || r.getIPAddress().isEmpty()
          || !other.getIPAddress().equals(r.getIPAddress())) {
        continue;
      }
      if (r.getLoadBalancingScheme().equals("INTERNAL")
          && (address == null || !address.getPurpose().equals("SHARED_LOADBALANCER_VIP"))) {
        return new Refusal(
            400,
            "IP_IN_USE_BY_ANOTHER_RESOURCE",
            "IP '"
                + r.getIPAddress()
                + "' is already being used by another resource: '"
                + other.getSelfLink()
                + "'. Several internal forwarding rules on one IP need an address with purpose"
                + " SHARED_LOADBALANCER_VIP.",
            true);
      }
      boolean sameProtocol =
          other.getIPProtocol().equals(r.getIPProtocol())
              || other.getIPProtocol().equals("L3_DEFAULT")
              || r.getIPProtocol().equals("L3_DEFAULT");
      if (sameProtocol && overlap(ports(other), ports(r))) {
        return new Refusal(
            400,
            "IP_IN_USE_BY_ANOTHER_RESOURCE",
            "IP '"
                + r.getIPAddress()
                + "' and protocol "
                + r.getIPProtocol()
                + " are already used by '"
                + other.getSelfLink()
                + "' on a shared port.",
            true);
      }
    }
    return null;
  }

  private static Set<Integer> ports(ForwardingRule r) {
    Set<Integer> out = new TreeSet<>();
    if (r.getAllPorts() || (r.getPortsCount() == 0 && !r.hasPortRange())) {
      for (int p = 1; p <= 65535; p++) {
        out.add(p);
      }
      return out;
    }
    List<String> specs = new ArrayList<>(r.getPortsList());
    if (r.hasPortRange()) {
      specs.add(r.getPortRange());
    }
    for (String spec : specs) {
      String[] lo = spec.split("-");
      int from = Integer.parseInt(lo[0]);
      int to = lo.length > 1 ? Integer.parseInt(lo[1]) : from;
      for (int p = from; p <= to; p++) {
        out.add(p);
      }
    }
    return out;
  }

  private static boolean overlap(Set<Integer> a, Set<Integer> b) {
    return a.stream().anyMatch(b::contains);
  }

  /**
   * An external IPv6 forwarding rule. The discovery document's ForwardingRule.subnetwork: "a
   * subnetwork must be specified ... when creating external forwarding rule with IPv6"; its
   * IPAddress: an IPv6 address is given as a range, "as in {@code 2600:1234::/96}" (GKE's NetLB:
   * "address has to be specified with /96 prefix, or API will return error"), or as the address's
   * URL; <a
   * href="https://cloud.google.com/load-balancing/docs/forwarding-rule-concepts#ip_address_specifications">IP
   * address specifications</a>: the range comes from a subnet with external IPv6 access; <a
   * href="https://cloud.google.com/network-tiers/docs/overview">Network Service Tiers</a>: IPv6 is
   * Premium only.
   */
  private Refusal ipv6Rule(String region, ForwardingRule r) {
    if (!r.getIpVersion().equals("IPV6")) {
      return invalid(
          "resource.ipVersion",
          "'" + r.getIPAddress() + "' is an IPv6 address; the rule's ipVersion must be IPV6.");
    }
    if (!r.getIPAddress().isEmpty()
        && !r.getIPAddress().contains("/addresses/")
        && !r.getIPAddress().contains(":")) {
      return invalid(
          "resource.IPAddress", "'" + r.getIPAddress() + "' is IPv4; ipVersion is IPV6.");
    }
    if (r.getLoadBalancingScheme().equals("INTERNAL")) {
      return null;
    }
    if (r.getSubnetwork().isEmpty()) {
      return invalid(
          "resource.subnetwork",
          "A subnetwork must be specified when creating an external forwarding rule with IPv6.");
    }
    Refusal subnet = ipv6Subnet(r.getSubnetwork(), region, "EXTERNAL");
    if (subnet != null) {
      return subnet;
    }
    if (r.hasNetworkTier() && !r.getNetworkTier().equals("PREMIUM")) {
      return invalid(
          "resource.networkTier",
          "'" + r.getNetworkTier() + "'. IPv6 forwarding rules are Premium Tier only.");
    }
    if (r.getIPAddress().contains(":") && !r.getIPAddress().endsWith("/96")) {
      return invalid(
          "resource.IPAddress",
          "'"
              + r.getIPAddress()
              + "'. An external IPv6 forwarding rule's address is a /96 range, as in"
              + " 2600:1234::/96.");
    }
    Address a = addressFor(region, r.getIPAddress());
    if (!r.getIPAddress().isEmpty() && (a == null || !a.getIpVersion().equals("IPV6"))) {
      return invalid(
          "resource.IPAddress",
          "'" + r.getIPAddress() + "'. Specified IPv6 range is not reserved in this project.");
    }
    return null;
  }

  /**
   * The subnet exists in the region and holds IPv6 ranges of {@code access} (discovery
   * Subnetwork.stackType, ipv6AccessType: a subnet is IPv4 only unless IPV4_IPV6 or IPV6_ONLY).
   */
  private Refusal ipv6Subnet(String subnetLink, String region, String access) {
    Subnetwork s = (Subnetwork) fake.resources.get(relative(subnetLink));
    if (s == null) {
      return notFound(subnetLink);
    }
    if (!scope(relative(subnetLink)).equals(region)) {
      return invalid("resource.subnetwork", "The subnetwork must be in the resource's region.");
    }
    boolean dual = s.getStackType().equals("IPV4_IPV6") || s.getStackType().equals("IPV6_ONLY");
    if (!dual || !s.getIpv6AccessType().equals(access)) {
      return invalid(
          "resource.subnetwork",
          "Subnetwork '"
              + relative(subnetLink)
              + "' does not have "
              + access.toLowerCase(java.util.Locale.ROOT)
              + " IPv6 ranges.");
    }
    return null;
  }

  /** An IPv6 range's address: the text before its prefix length. */
  static String withoutPrefix(String ip) {
    int slash = ip.indexOf('/');
    return slash < 0 || ip.contains("/addresses/") ? ip : ip.substring(0, slash);
  }

  /** The region's address a rule's IPAddress names (by IP, range or link), or null. */
  private Address addressFor(String region, String given) {
    if (given.isEmpty()) {
      return null;
    }
    String ip = withoutPrefix(given);
    if (ip.contains("/addresses/")) {
      return (Address) fake.resources.get(relative(ip));
    }
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      if (e.getValue() instanceof Address a
          && scope(e.getKey()).equals(region)
          && a.getAddress().equals(ip)) {
        return a;
      }
    }
    return null;
  }

  // --- addresses ---

  Refusal address(String link, Address a) {
    String region = scope(link);
    if (a.getIpVersion().equals("IPV6")) {
      Refusal v6 = ipv6Address(region, a);
      if (v6 != null) {
        return v6;
      }
    } else if (!a.getAddressType().equals("INTERNAL") && !a.getSubnetwork().isEmpty()) {
      // discovery Address.subnetwork: "can only be used with INTERNAL type"
      return invalid("resource.subnetwork", "An external IPv4 address takes no subnetwork.");
    }
    if (a.getPurpose().equals("SHARED_LOADBALANCER_VIP")
        && !a.getAddressType().equals("INTERNAL")) {
      // https://cloud.google.com/vpc/docs/reserve-static-internal-ip-address#reservesharedip
      return invalid("resource.purpose", "SHARED_LOADBALANCER_VIP is for INTERNAL addresses.");
    }
    if (a.getAddressType().equals("INTERNAL")) {
      Refusal subnet = subnetRequired(a.getNetwork(), a.getSubnetwork(), region, "resource");
      if (subnet != null) {
        return subnet;
      }
    }
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      if (e.getValue() instanceof Address other
          && !a.getAddress().isEmpty()
          && scope(e.getKey()).equals(region)
          && other.getAddress().equals(a.getAddress())) {
        // https://cloud.google.com/compute/docs/ip-addresses/reserve-static-external-ip-address:
        // an address already reserved cannot be reserved again
        return new Refusal(
            409,
            "IP_IN_USE_BY_ANOTHER_RESOURCE",
            "IP '"
                + a.getAddress()
                + "' is already being used by another resource: '"
                + other.getSelfLink()
                + "'.",
            true);
      }
    }
    if (!a.getAddressType().equals("INTERNAL") && !a.getAddress().isEmpty()) {
      // https://cloud.google.com/vpc/docs/reserve-static-external-ip-address#promote_ephemeral_ip:
      // an external IP can be named only to promote the ephemeral IP a resource of the project
      // holds; Compute has no other external IP to hand out by number
      boolean ephemeral =
          fake.resources.entrySet().stream()
              .anyMatch(
                  e ->
                      e.getValue() instanceof ForwardingRule r
                          && scope(e.getKey()).equals(region)
                          && r.getIPAddress().equals(a.getAddress()));
      if (!ephemeral) {
        return new Refusal(
            400,
            "INVALID_FIELD_VALUE",
            "Invalid value for field 'resource.address': '"
                + a.getAddress()
                + "'. Specified IP address is not available.",
            true);
      }
    }
    return null;
  }

  /**
   * An IPv6 address (<a
   * href="https://cloud.google.com/vpc/docs/reserve-static-external-ip-address#reserve_new_static">reserving
   * an external IPv6 address</a>): it names the subnet it is from, which holds IPv6 ranges of its
   * type, and an external one its endpoint type (VM or NETLB) and the Premium tier (<a
   * href="https://cloud.google.com/network-tiers/docs/overview">Network Service Tiers</a>).
   */
  private Refusal ipv6Address(String region, Address a) {
    String type = a.getAddressType().isEmpty() ? "EXTERNAL" : a.getAddressType();
    if (a.getSubnetwork().isEmpty()) {
      return invalid("resource.subnetwork", "An IPv6 address must name its subnetwork.");
    }
    Refusal subnet = ipv6Subnet(a.getSubnetwork(), region, type);
    if (subnet != null) {
      return subnet;
    }
    if (type.equals("EXTERNAL")) {
      if (!a.hasIpv6EndpointType()) {
        return invalid(
            "resource.ipv6EndpointType",
            "An external IPv6 address needs ipv6EndpointType VM or NETLB.");
      }
      if (a.hasNetworkTier() && !a.getNetworkTier().equals("PREMIUM")) {
        return invalid(
            "resource.networkTier",
            "'" + a.getNetworkTier() + "'. IPv6 addresses are Premium Tier only.");
      }
    }
    return null;
  }

  /**
   * Discovery ForwardingRule.subnetwork: "If the network specified is in auto subnet mode, this
   * field is optional. However, a subnetwork must be specified if the network is in custom subnet
   * mode"; the network defaults to {@code default}.
   */
  private Refusal subnetRequired(String networkLink, String subnetLink, String region, String at) {
    if (!subnetLink.isEmpty()) {
      Subnetwork s = (Subnetwork) fake.resources.get(relative(subnetLink));
      if (s == null) {
        return notFound(subnetLink);
      }
      if (!scope(relative(subnetLink)).equals(region)) {
        return invalid(at + ".subnetwork", "The subnetwork must be in the rule's region.");
      }
      return null;
    }
    String project = region.substring(0, region.indexOf("/regions/"));
    String network =
        networkLink.isEmpty() ? project + "/global/networks/default" : relative(networkLink);
    Network n = (Network) fake.resources.get(network);
    if (n == null && networkLink.isEmpty()) {
      return invalid(
          at + ".subnetwork",
          "A subnetwork must be specified: the project has no default network to take one from.");
    }
    if (n == null) {
      return notFound(network);
    }
    if (!n.getAutoCreateSubnetworks()) {
      return invalid(
          at + ".subnetwork",
          "A subnetwork must be specified: network '"
              + n.getName()
              + "' is in custom subnet mode.");
    }
    return null;
  }

  private static String scope(String link) {
    return ComputeRules.scope(link);
  }

  private static Refusal invalid(String field, String message) {
    return ComputeRules.invalid(field, message);
  }

  private static Refusal notFound(String link) {
    return ComputeRules.notFound(link);
  }
}
