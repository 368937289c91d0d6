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

  /** The region's address a rule's IPAddress names (by IP or link), or null. */
  private Address addressFor(String region, String ip) {
    if (ip.isEmpty()) {
      return null;
    }
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
