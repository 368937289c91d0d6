package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.InsertFirewallRequest;
import com.google.cloud.compute.v1.UpdateFirewallRequest;
import dev.ferry.provider.gcp.GcpShape.FirewallSpec;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The firewall rules that let clients and Google's probers reach the nodes. A Service's client rule
 * of a family admits its source ranges of that family to its ports at its load balancer's address
 * of that family only ({@code destinationRanges}, as GKE's NetLB sets it), so one Service's open
 * port never opens the same port of another Service or of the node itself. Rules always name target
 * tags: a rule without them would apply to every VM of the network.
 */
final class GcpFirewalls {

  private final GcpContext c;
  private final GcpApi api;
  private final GcpResources resources;
  private final ProviderEvents events;

  GcpFirewalls(GcpResources resources, GcpApi api, ProviderEvents events) {
    this.c = resources.context();
    this.api = api;
    this.resources = resources;
    this.events = events;
  }

  /**
   * Ensures every firewall of {@code shape} (none when no node has tags: nothing is opened rather
   * than everything), removes the Service's own it no longer wants, and warns of a family the
   * Service's ranges leave closed.
   *
   * @param ips the load balancer's address by family
   * @param tended the families whose firewalls the Service may have
   */
  void ensureAll(
      LoadBalancerPlan plan,
      GcpShape shape,
      List<String> nodeTags,
      Map<IpFamily, String> ips,
      java.util.Collection<IpFamily> tended)
      throws ProviderException {
    LoadBalancerRef ref = plan.ref();
    Set<String> wanted = new HashSet<>();
    if (!nodeTags.isEmpty()) { // no node, no target: nothing is opened rather than everything
      for (FirewallSpec f : shape.firewalls()) {
        ensure(ref, shape, f, nodeTags, ips.get(f.family()));
        wanted.add(f.name());
      }
    }
    for (String own : own(ref, tended)) {
      if (!wanted.contains(own)) {
        resources.deleteOwned(resources.firewalls, own, ref);
      }
    }
    for (IpFamily family : shape.families()) {
      String client = GcpNames.of(GcpNames.clientFirewall(ref), family);
      if (!plan.sourceRanges().isEmpty()
          && shape.firewalls().stream().noneMatch(f -> f.name().equals(client))) {
        events.warning(
            ref,
            "No" + family + "SourceRange",
            "spec.loadBalancerSourceRanges "
                + plan.sourceRanges()
                + " names no "
                + family
                + " range, and the load balancer has an "
                + family
                + " address: no client reaches it there; add the "
                + family
                + " ranges to admit");
      }
    }
  }

  /** The names of a Service's own firewalls, of both families. */
  static List<String> own(LoadBalancerRef ref) {
    return own(ref, List.of(IpFamily.values()));
  }

  /** The names of a Service's own firewalls of {@code families}. */
  static List<String> own(LoadBalancerRef ref, java.util.Collection<IpFamily> families) {
    List<String> out = new ArrayList<>();
    for (IpFamily family : families) {
      out.add(GcpNames.of(GcpNames.clientFirewall(ref), family));
      out.add(GcpNames.of(GcpNames.healthFirewall(ref), family));
    }
    return out;
  }

  /**
   * @param tags the nodes' tags, never empty
   * @param ip the load balancer's address of the firewall's family, the destination of a Service's
   *     own rule
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
      int slash = ip.indexOf('/'); // an IPv6 range: its address, as GKE's NetLB opens it
      want.addDestinationRanges(slash < 0 ? ip : ip.substring(0, slash));
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
