package dev.ferry.provider.gcp;

import static dev.ferry.provider.gcp.ComputeFake.relative;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.Backend;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.protobuf.Message;
import dev.ferry.provider.gcp.ComputeDiscovery.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The rules Compute Engine enforces across fields and resources that a schema cannot say, each with
 * the page that documents it. Every method answers null (accepted) or the {@link Refusal} Compute
 * gives: at once (an HTTP error) or, where Compute reports it so, inside the operation. Called
 * under the fake's lock.
 */
final class ComputeRules {

  /** Compute's refusal: HTTP status, reason (or operation error code), message. */
  record Refusal(int status, String reason, String message, boolean inOperation) {
    Refusal(int status, String reason, String message) {
      this(status, reason, message, false);
    }
  }

  static final String HTTPS_GOOGLEAPIS = "https://www.googleapis.com/";
  static final String HTTPS_COMPUTE = "https://compute.googleapis.com/";

  private final ComputeFake fake;

  ComputeRules(ComputeFake fake) {
    this.fake = fake;
  }

  /** What Compute stores for what was sent: defaults it fills in. */
  Message normalize(Message m) {
    // discovery ForwardingRule/BackendService.loadBalancingScheme: unset means EXTERNAL
    if (m instanceof ForwardingRule r && !r.hasLoadBalancingScheme()) {
      return r.toBuilder().setLoadBalancingScheme("EXTERNAL").build();
    }
    if (m instanceof BackendService s && !s.hasLoadBalancingScheme()) {
      return s.toBuilder().setLoadBalancingScheme("EXTERNAL").build();
    }
    if (m instanceof Firewall f) {
      Firewall.Builder b = f.toBuilder();
      if (!f.hasDirection()) {
        b.setDirection("INGRESS");
      }
      if (!f.hasPriority()) {
        b.setPriority(1000);
      }
      // https://cloud.google.com/firewall/docs/firewalls#sources-for-rules: an ingress rule with
      // no source (no ranges, tags or service accounts) applies to 0.0.0.0/0
      if (b.getDirection().equals("INGRESS")
          && f.getSourceRangesCount() == 0
          && f.getSourceTagsCount() == 0
          && f.getSourceServiceAccountsCount() == 0) {
        b.addSourceRanges("0.0.0.0/0");
      }
      return b.build();
    }
    return m;
  }

  Refusal refuseInsert(Method method, String link, Message m) {
    // the discovery document's labels description: "These can only be added or modified by the
    // setLabels method" (Address, ForwardingRule)
    String schema = m.getDescriptorForType().getName();
    var labels = m.getDescriptorForType().findFieldByName("labels");
    if (labels != null
        && m.getRepeatedFieldCount(labels) > 0
        && ComputeDiscovery.get().onlyThroughSetLabels(schema, "labels")) {
      return new Refusal(
          400,
          "invalid",
          "Invalid value for field 'resource.labels': labels of a "
              + schema
              + " can only be added or modified by the setLabels method.");
    }
    return switch (m) {
      case ForwardingRule r -> forwardingRule(link, r);
      case Address a -> address(link, a);
      case BackendService s -> backendService(link, s);
      case Firewall f -> firewall(f);
      default -> null;
    };
  }

  Refusal refuseUpdate(String link, Message existing, Message m) {
    if (existing instanceof ForwardingRule old && m instanceof ForwardingRule r) {
      if (!old.getLabelsMap().equals(r.getLabelsMap())) {
        return new Refusal(
            400, "invalid", "Labels of a ForwardingRule can only be modified by setLabels.");
      }
      // forwarding-rule-concepts: "You can't update the IP address, protocol or ports of an
      // existing forwarding rule" - only a few fields can be patched
      if (!old.getIPAddress().equals(r.getIPAddress())
          || !old.getPortsList().equals(r.getPortsList())
          || !old.getIPProtocol().equals(r.getIPProtocol())) {
        return new Refusal(
            400,
            "invalid",
            "Invalid value for field 'resource': a forwarding rule's IPAddress, IPProtocol and"
                + " ports cannot be changed; delete and insert it.");
      }
    }
    return switch (m) {
      case BackendService s -> backendService(link, s);
      case Firewall f -> firewall(f);
      default -> null;
    };
  }

  // --- forwarding rules ---

  private Refusal forwardingRule(String link, ForwardingRule r) {
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

  private Refusal address(String link, Address a) {
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

  // --- backend services ---

  private Refusal backendService(String link, BackendService s) {
    // https://cloud.google.com/load-balancing/docs/network/networklb-backend-service and
    // .../internal: a passthrough backend service takes exactly one health check, of its region
    if (s.getHealthChecksCount() != 1) {
      return invalid(
          "resource.healthChecks",
          "A passthrough load balancer's backend service takes exactly one health check.");
    }
    String check = relative(s.getHealthChecks(0));
    if (!fake.resources.containsKey(check)) {
      return notFound(s.getHealthChecks(0));
    }
    if (link.contains("/regions/") && !check.startsWith(scope(link) + "/")) {
      return invalid("resource.healthChecks", "A regional backend service needs a regional check.");
    }
    for (Backend b : s.getBackendsList()) {
      // discovery Backend.group: "You must use the fully-qualified URL (starting with
      // https://www.googleapis.com/) ... Partial URLs are not supported."
      if (!b.getGroup().startsWith(HTTPS_GOOGLEAPIS) && !b.getGroup().startsWith(HTTPS_COMPUTE)) {
        return invalid(
            "resource.backends[].group",
            "'" + b.getGroup() + "'. Partial URLs are not supported; give the full URL.");
      }
      if (!fake.resources.containsKey(relative(b.getGroup()))) {
        return notFound(b.getGroup());
      }
      // https://cloud.google.com/load-balancing/docs/backend-service#balancing-mode: passthrough
      // Network Load Balancers support the CONNECTION balancing mode only
      if (!b.getBalancingMode().equals("CONNECTION")) {
        return invalid(
            "resource.backends[].balancingMode",
            "'" + b.getBalancingMode() + "'. A passthrough load balancer needs CONNECTION.");
      }
      Refusal twice = inOtherLoadBalancedGroup(relative(b.getGroup()), link, members(b.getGroup()));
      if (twice != null) {
        return twice;
      }
    }
    return null;
  }

  private List<String> members(String group) {
    return fake.members.getOrDefault(relative(group), List.of());
  }

  /**
   * https://cloud.google.com/load-balancing/docs/backend-service#restrictions_and_guidance: "A VM
   * instance can only be a member of one load-balanced instance group" (Compute's reason {@code
   * instanceInMultipleLoadBalancedIgs}). A group is load-balanced when any backend service,
   * regional or global, has it as a backend.
   */
  private Refusal inOtherLoadBalancedGroup(String group, String byService, List<String> vms) {
    for (String vm : vms) {
      for (Map.Entry<String, List<String>> g : fake.members.entrySet()) {
        if (g.getKey().equals(group) || !g.getValue().contains(vm)) {
          continue;
        }
        String service = loadBalancing(g.getKey(), byService);
        if (service != null) {
          return new Refusal(
              400,
              "instanceInMultipleLoadBalancedIgs",
              "Validation failed for instance '"
                  + vm
                  + "': instance may belong to at most one load-balanced instance group; it is in"
                  + " '"
                  + g.getKey()
                  + "', a backend of '"
                  + service
                  + "'.");
        }
      }
    }
    return null;
  }

  /** A backend service (other than {@code except}) with {@code group} as a backend, or null. */
  private String loadBalancing(String group, String except) {
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      if (e.getValue() instanceof BackendService s
          && !e.getKey().equals(except)
          && s.getBackendsList().stream().anyMatch(b -> relative(b.getGroup()).equals(group))) {
        return e.getKey();
      }
    }
    return null;
  }

  // --- instance groups ---

  Refusal refuseAddInstances(String group, List<String> instances) {
    List<String> have = fake.members.getOrDefault(group, List.of());
    String zone = scope(group);
    for (String i : instances) {
      Message vm = fake.resources.get(relative(i));
      if (!(vm instanceof Instance)) {
        return notFound(i);
      }
      // https://cloud.google.com/compute/docs/instance-groups/creating-groups-of-unmanaged-instances:
      // the VMs of an unmanaged group are in its zone
      if (!scope(relative(i)).equals(zone)) {
        return invalid("instances", "'" + i + "' is not in the group's zone.");
      }
      if (have.contains(relative(i))) {
        return new Refusal(
            400,
            "memberAlreadyExists",
            "The resource '" + i + "' is already a member of '" + group + "'");
      }
    }
    if (loadBalancing(group, "") != null) {
      return inOtherLoadBalancedGroup(
          group, "", instances.stream().map(ComputeFake::relative).toList());
    }
    return null;
  }

  // --- firewalls ---

  /**
   * https://cloud.google.com/firewall/docs/firewalls#rule_assignment: a rule's source ranges are
   * all IPv4 or all IPv6, and its destination ranges likewise; allowed and denied are exclusive.
   */
  private Refusal firewall(Firewall f) {
    if (f.getAllowedCount() > 0 == f.getDeniedCount() > 0) {
      return invalid("resource.allowed", "Exactly one of allowed and denied must be given.");
    }
    for (List<String> ranges : List.of(f.getSourceRangesList(), f.getDestinationRangesList())) {
      long v6 = ranges.stream().filter(c -> c.contains(":")).count();
      if (v6 > 0 && v6 < ranges.size()) {
        return invalid(
            "resource.sourceRanges", "IPv4 and IPv6 ranges cannot be mixed in one firewall rule.");
      }
    }
    if (!fake.resources.containsKey(relative(f.getNetwork()))) {
      return notFound(f.getNetwork());
    }
    return null;
  }

  // --- deletes ---

  /**
   * Compute refuses to delete what another resource uses ({@code resourceInUseByAnotherResource}).
   */
  Refusal refuseDelete(String link) {
    Message target = fake.resources.get(link);
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      Message m = e.getValue();
      boolean uses =
          (m instanceof ForwardingRule r
                  && (relative(r.getBackendService()).equals(link)
                      || (target instanceof Address a
                          && scope(e.getKey()).equals(scope(link))
                          && r.getIPAddress().equals(a.getAddress()))))
              || (m instanceof BackendService s
                  && (s.getHealthChecksList().stream().anyMatch(h -> relative(h).equals(link))
                      || s.getBackendsList().stream()
                          .anyMatch(b -> relative(b.getGroup()).equals(link))));
      if (uses) {
        return new Refusal(
            400,
            "resourceInUseByAnotherResource",
            "The resource '" + link + "' is already being used by '" + e.getKey() + "'");
      }
    }
    return null;
  }

  /** Label keys and values as Compute takes them (compute/docs/labeling-resources#requirements). */
  static Refusal invalidLabels(Map<String, String> labels) {
    for (Map.Entry<String, String> l : labels.entrySet()) {
      if (!l.getKey().matches("[a-z][a-z0-9_-]{0,62}")
          || !l.getValue().matches("[a-z0-9_-]{0,63}")) {
        return invalid("labels", "'" + l.getKey() + "=" + l.getValue() + "' is not a valid label.");
      }
    }
    return null;
  }

  // --- helpers ---

  /** The scope part of a resource link: {@code projects/p/regions/r}, {@code .../zones/z}, … */
  static String scope(String link) {
    String[] parts = relative(link).split("/");
    return parts[2].equals("global")
        ? parts[0] + "/" + parts[1] + "/global"
        : parts[0] + "/" + parts[1] + "/" + parts[2] + "/" + parts[3];
  }

  private static Refusal invalid(String field, String message) {
    return new Refusal(400, "invalid", "Invalid value for field '" + field + "': " + message);
  }

  private static Refusal notFound(String link) {
    return new Refusal(404, "notFound", "The resource '" + link + "' was not found");
  }
}
