package dev.ferry.provider.gcp;

import static dev.ferry.provider.gcp.ComputeFake.relative;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.Backend;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.Instance;
import com.google.protobuf.Message;
import dev.ferry.provider.gcp.ComputeDiscovery.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
  private final ComputeAddressRules addresses;

  ComputeRules(ComputeFake fake) {
    this.fake = fake;
    this.addresses = new ComputeAddressRules(fake);
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
      case ForwardingRule r -> addresses.forwardingRule(link, r);
      case Address a -> addresses.address(link, a);
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
   * all IPv4 or all IPv6, and its destination ranges of the same family (<a
   * href="https://cloud.google.com/firewall/docs/firewalls#destinations-for-rules">destinations</a>:
   * an IPv6 destination goes with IPv6 sources); allowed and denied are exclusive.
   */
  private Refusal firewall(Firewall f) {
    if (f.getAllowedCount() > 0 == f.getDeniedCount() > 0) {
      return invalid("resource.allowed", "Exactly one of allowed and denied must be given.");
    }
    List<String> all = new java.util.ArrayList<>(f.getSourceRangesList());
    all.addAll(f.getDestinationRangesList());
    // one family a rule: its source and destination ranges alike
    long v6 = all.stream().filter(c -> c.contains(":")).count();
    if (v6 > 0 && v6 < all.size()) {
      return invalid(
          "resource.sourceRanges",
          "IPv4 and IPv6 ranges cannot be mixed in one firewall rule (source and destination).");
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
                          && ComputeAddressRules.withoutPrefix(r.getIPAddress())
                              .equals(a.getAddress()))))
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

  /**
   * An address as Compute shows it: {@code users} the URLs of the forwarding rules of its region
   * that use its IP, and {@code status} IN_USE while there are any, RESERVED otherwise (discovery
   * document, Address.users and Address.status: both output only).
   */
  Message shown(String link, Message m) {
    if (!(m instanceof Address a)) {
      return m;
    }
    List<String> users = new ArrayList<>();
    for (Map.Entry<String, Message> e : fake.resources.entrySet()) {
      if (e.getValue() instanceof ForwardingRule r
          && scope(e.getKey()).equals(scope(link))
          && ComputeAddressRules.withoutPrefix(r.getIPAddress()).equals(a.getAddress())) {
        users.add(ComputeFake.GOOGLEAPIS + e.getKey());
      }
    }
    return a.toBuilder()
        .clearUsers()
        .addAllUsers(users)
        .setStatus(users.isEmpty() ? "RESERVED" : "IN_USE")
        .build();
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

  static Refusal invalid(String field, String message) {
    return new Refusal(400, "invalid", "Invalid value for field '" + field + "': " + message);
  }

  static Refusal notFound(String link) {
    return new Refusal(404, "notFound", "The resource '" + link + "' was not found");
  }
}
