package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.InsertFirewallRequest;
import com.google.cloud.compute.v1.UpdateFirewallRequest;
import dev.ferry.provider.gcp.GcpShape.FirewallSpec;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The firewall rules that let clients and Google's probers reach the nodes. A Service's client rule
 * admits its IPv4 source ranges to its ports at its load balancer's address only ({@code
 * destinationRanges}, as GKE's NetLB sets it), so one Service's open port never opens the same port
 * of another Service or of the node itself. Rules always name target tags: a rule without them
 * would apply to every VM of the network.
 */
final class GcpFirewalls {

  private final GcpContext c;
  private final GcpApi api;
  private final GcpResources resources;

  GcpFirewalls(GcpResources resources, GcpApi api) {
    this.c = resources.context();
    this.api = api;
    this.resources = resources;
  }

  /**
   * @param tags the nodes' tags, never empty
   * @param ip the load balancer's address, the destination of a Service's own rule
   */
  void ensure(LoadBalancerRef ref, GcpShape shape, FirewallSpec f, List<String> tags, String ip)
      throws ProviderException {
    if (tags.isEmpty()) {
      throw new IllegalArgumentException("a firewall without target tags applies to every VM");
    }
    String description = f.shared() ? GcpOwner.shared(ref.cluster()) : shape.description();
    Firewall.Builder want =
        Firewall.newBuilder()
            .setName(f.name())
            .setDescription(description)
            .setNetwork(GcpContext.full(c.network()))
            .setDirection("INGRESS")
            .setPriority(1000)
            .addAllSourceRanges(f.sources())
            .addAllTargetTags(tags);
    if (!f.shared()) {
      want.addDestinationRanges(ip);
    }
    f.allowed()
        .forEach(
            (protocol, ports) ->
                want.addAllowed(
                    Allowed.newBuilder()
                        .setIPProtocol(protocol)
                        .addAllPorts(ports.stream().map(String::valueOf).toList())));
    Optional<Firewall> have = resources.firewalls.read().get(f.name());
    if (have.isEmpty()) {
      api.insert(
          "firewalls.insert",
          id ->
              c.firewalls()
                  .insertCallable()
                  .call(
                      InsertFirewallRequest.newBuilder()
                          .setProject(c.project())
                          .setFirewallResource(want)
                          .setRequestId(id)
                          .build()),
          () -> resources.firewalls.read().get(f.name()).isPresent());
      return;
    }
    Firewall h = have.get();
    if (f.shared()) {
      if (!h.getDescription().equals(description)) {
        throw new ProviderException.Transient(
            f.name() + " exists but was not made by Ferry for this cluster; Ferry leaves it alone",
            null);
      }
    } else {
      GcpOwner.requireOwned(h.getDescription(), ref, f.name());
    }
    if (!same(h, want.build())) {
      api.mutate(
          "firewalls.update",
          id ->
              c.firewalls()
                  .updateCallable()
                  .call(
                      UpdateFirewallRequest.newBuilder()
                          .setProject(c.project())
                          .setFirewall(f.name())
                          .setFirewallResource(want)
                          .setRequestId(id)
                          .build()));
    }
  }

  static boolean same(Firewall a, Firewall b) {
    return new TreeSet<>(a.getSourceRangesList()).equals(new TreeSet<>(b.getSourceRangesList()))
        && new TreeSet<>(a.getDestinationRangesList())
            .equals(new TreeSet<>(b.getDestinationRangesList()))
        && new TreeSet<>(a.getTargetTagsList()).equals(new TreeSet<>(b.getTargetTagsList()))
        && allowed(a).equals(allowed(b));
  }

  private static Set<String> allowed(Firewall f) {
    Set<String> out = new TreeSet<>();
    for (Allowed a : f.getAllowedList()) {
      a.getPortsList().forEach(p -> out.add(a.getIPProtocol().toLowerCase(Locale.ROOT) + ":" + p));
    }
    return out;
  }
}
