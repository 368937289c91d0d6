package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.Instance;
import com.google.protobuf.Message;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The security property of Ferry's firewalls, computed from the fake's state with Compute's
 * firewall semantics (https://cloud.google.com/firewall/docs/firewalls): a rule without target tags
 * applies to every VM in the network, an ingress rule without sources to {@code 0.0.0.0/0} (stored
 * so by the fake), a rule without destination ranges to every address of its targets.
 *
 * <p>For every Service: each of its ports is opened only from its own source ranges, only at its
 * load balancer's addresses, only on the cluster's VMs; Google's health-check probers reach only
 * health-check ports. A firewall of Ferry's that opens anything else is a violation.
 */
public final class Exposure {

  /**
   * Google's probers for backend-service load balancers (REFERENCE: GCE), and for external IPv6
   * passthrough ones (health-check-concepts#ip-ranges).
   */
  public static final Set<String> PROBERS =
      Set.of("35.191.0.0/16", "130.211.0.0/22", "2600:1901:8001::/48");

  private Exposure() {}

  /**
   * @param plans the last plan of every Service that exists, by Service UID
   * @param clusterVms the cluster's node VMs, by name
   */
  public static List<String> violations(
      ComputeFake fake, Map<String, LoadBalancerPlan> plans, Set<String> clusterVms) {
    List<String> out = new ArrayList<>();
    List<Instance> vms = fake.all("instances").stream().map(Instance.class::cast).toList();
    Set<Integer> healthPorts = new HashSet<>(Set.of(GcpShape.KUBE_PROXY_PORT));
    for (LoadBalancerPlan p : plans.values()) {
      if (p.healthCheck().onTrafficPort()) {
        p.listeners().forEach(l -> healthPorts.add(l.port()));
      } else {
        healthPorts.add(p.healthCheck().port());
      }
    }
    for (Message m : fake.all("firewalls")) {
      Firewall f = (Firewall) m;
      if (!f.getDescription().contains("\"ferry.dev/cluster\"")) {
        continue; // GKE's and the user's rules are theirs
      }
      String name = f.getName();
      Set<String> targets = new TreeSet<>();
      for (Instance vm : vms) {
        if (f.getTargetTagsCount() == 0
            || vm.getTags().getItemsList().stream().anyMatch(f.getTargetTagsList()::contains)) {
          targets.add(vm.getName());
        }
      }
      targets.removeAll(clusterVms);
      if (!targets.isEmpty()) {
        out.add(name + " opens ports on VMs outside the cluster: " + targets);
      }
      if (PROBERS.containsAll(f.getSourceRangesList())) {
        for (String port : ports(f)) {
          String number = port.substring(port.indexOf(':') + 1);
          if (!number.matches("\\d+") || !healthPorts.contains(Integer.valueOf(number))) {
            out.add(name + " lets Google's probers reach " + port + ", not a health-check port");
          }
        }
        continue;
      }
      LoadBalancerPlan plan =
          plans.values().stream()
              .filter(p -> f.getDescription().contains("\"" + p.ref().uid() + "\""))
              .findFirst()
              .orElse(null);
      if (plan == null) {
        out.add(name + " opens " + ports(f) + " for no Service that exists");
        continue;
      }
      Set<String> ips = new TreeSet<>();
      for (Message r : fake.all("forwardingRules")) {
        ForwardingRule rule = (ForwardingRule) r;
        if (rule.getDescription().contains("\"" + plan.ref().uid() + "\"")) {
          String ip = ComputeAddressRules.withoutPrefix(rule.getIPAddress());
          ips.add(ip);
          ips.add(ip + (ip.contains(":") ? "/128" : "/32"));
        }
      }
      if (f.getDestinationRangesCount() == 0 || !ips.containsAll(f.getDestinationRangesList())) {
        out.add(
            name
                + " opens its ports at "
                + (f.getDestinationRangesCount() == 0
                    ? "every address of the nodes"
                    : f.getDestinationRangesList())
                + ", not only the load balancer's "
                + ips);
      }
      // a firewall is of one family: its sources are the Service's ranges of that family
      Set<String> allowedSources = new HashSet<>(plan.sourceRanges());
      for (String source : f.getSourceRangesList()) {
        if (!allowedSources.contains(source)) {
          out.add(name + " admits " + source + ", not among the Service's source ranges");
        }
      }
      Set<String> servicePorts = new HashSet<>();
      for (Listener l : plan.listeners()) {
        servicePorts.add(l.protocol().name().toLowerCase(Locale.ROOT) + ":" + l.port());
      }
      for (String port : ports(f)) {
        if (!servicePorts.contains(port)) {
          out.add(name + " opens " + port + ", not a port of the Service");
        }
      }
    }
    return out;
  }

  /** {@code protocol:port} for each port a firewall allows ({@code :*} for all of a protocol). */
  private static List<String> ports(Firewall f) {
    List<String> out = new ArrayList<>();
    for (Allowed a : f.getAllowedList()) {
      if (a.getPortsCount() == 0) {
        out.add(a.getIPProtocol() + ":*");
      }
      for (String p : a.getPortsList()) {
        out.add(a.getIPProtocol() + ":" + p);
      }
    }
    return out;
  }
}
