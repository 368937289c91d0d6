package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.BackendServiceList;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.ForwardingRuleList;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.HealthCheckList;
import dev.ferry.provider.gcp.GcpShape.RuleSpec;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A regional external (or internal) passthrough Network Load Balancer per Service, built as {@link
 * GcpShape} says, one class per kind of resource ({@link GcpNodes}, {@link GcpHealthChecks}, {@link
 * GcpAddresses}, {@link GcpForwarding}, {@link GcpFirewalls}). Every step reads first and changes
 * only differences; every resource has a name derived from the cluster and the Service UID and a
 * description naming its Service ({@link GcpOwner}), so a restarted controller finds everything
 * again and nothing unowned is touched.
 *
 * <p>Order of creation: the checks that need no change (node tags, subnet), the instance groups,
 * the health check, the address, per protocol the backend service and then the forwarding rule,
 * then the firewalls. Deletion goes the other way; the cluster's shared groups, node check and its
 * firewall go with the last Service that used them.
 */
final class GcpProvider implements LoadBalancerProvider {

  private static final List<String> PROTOCOLS = List.of("TCP", "UDP");

  private final GcpContext c;
  private final GcpApi api;
  private final GcpGroups groups;
  private final GcpNodes nodes;
  private final GcpNodeTags tags;
  private final GcpResources resources;
  private final GcpHealthChecks checks;
  private final GcpAddresses addresses;
  private final GcpForwarding forwarding;
  private final GcpFirewalls firewalls;
  private final ProviderEvents events;

  GcpProvider(GcpContext c, GcpApi api, ProviderEvents events) {
    this.c = c;
    this.api = api;
    this.events = events;
    this.groups = new GcpGroups(c, api, events);
    this.nodes = new GcpNodes(c, groups, events);
    this.tags = new GcpNodeTags(c, groups);
    this.resources = new GcpResources(c, api, events);
    this.checks = new GcpHealthChecks(resources, api);
    this.addresses = new GcpAddresses(resources, api);
    this.forwarding = new GcpForwarding(resources, api, groups);
    this.firewalls = new GcpFirewalls(resources, api, events);
  }

  GcpApi api() {
    return api;
  }

  /**
   * Reads the region once, on the thread that makes the provider (a platform thread at start-up): a
   * project or region Compute does not know fails start-up naming the settings, and the Compute
   * client's call path is initialised here rather than by the first Services' virtual threads at
   * once (a virtual thread waiting on another's class initialiser is pinned to its carrier). Any
   * other failure is left to the first call that needs the region.
   */
  GcpProvider start() {
    // the messages every Service's calls read and write: their classes load here, not on the
    // first Services' virtual threads (a class loaded from a jar inside an initialiser pins too)
    List.of(
        com.google.cloud.compute.v1.Address.getDefaultInstance(),
        ForwardingRule.getDefaultInstance(),
        BackendService.getDefaultInstance(),
        HealthCheck.getDefaultInstance(),
        com.google.cloud.compute.v1.Firewall.getDefaultInstance(),
        com.google.cloud.compute.v1.InstanceGroup.getDefaultInstance(),
        com.google.cloud.compute.v1.InstanceGroupList.getDefaultInstance(),
        com.google.cloud.compute.v1.InstanceGroupsListInstances.getDefaultInstance(),
        com.google.cloud.compute.v1.InstanceList.getDefaultInstance(),
        com.google.cloud.compute.v1.Operation.getDefaultInstance(),
        com.google.cloud.compute.v1.SubnetworkList.getDefaultInstance(),
        com.google.cloud.compute.v1.AddressList.getDefaultInstance(),
        ForwardingRuleList.getDefaultInstance(),
        BackendServiceList.getDefaultInstance(),
        HealthCheckList.getDefaultInstance());
    try {
      groups.zones();
    } catch (ProviderException e) {
      if (e.getCause() instanceof com.google.api.gax.rpc.NotFoundException) {
        throw new IllegalArgumentException(
            "gcp.region '"
                + c.region()
                + "' is not a region of gcp.project '"
                + c.project()
                + "' ("
                + e.getMessage()
                + ")",
            e);
      }
    }
    return this;
  }

  @Override
  public Capabilities capabilities() {
    return Capabilities.builder()
        .protocols(Protocol.TCP, Protocol.UDP)
        .mixedProtocols(true)
        .maxListeners(100)
        .sourceRanges(true)
        .requestedIp(true)
        .retain(true)
        .sharedAddresses(true)
        .internal(true)
        .clientIpAffinity(true)
        .healthCheckInterval(Duration.ofSeconds(1), Duration.ofSeconds(300))
        .healthCheckDefaults(GcpShape.NODE_CHECK)
        .localHealthCheckDefaults(GcpShape.LOCAL_CHECK)
        .ipFamilies(IpFamily.IPv4, IpFamily.IPv6)
        .dualStack(true)
        .backendsByFamily(false) // the instance groups' VMs serve both families
        .build();
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    Map<IpFamily, String> ips = new EnumMap<>(IpFamily.class);
    List<IpFamily> order = List.of(IpFamily.IPv4, IpFamily.IPv6);
    for (IpFamily family : IpFamily.values()) {
      for (String protocol : PROTOCOLS) {
        Optional<ForwardingRule> rule =
            forwarding.rule(GcpNames.of(GcpNames.forProtocol(ref, protocol), family));
        if (rule.isPresent() && GcpOwner.owned(rule.get().getDescription(), ref)) {
          ips.putIfAbsent(family, GcpForwarding.ip(rule.get()));
          if (rule.get().getLabelsMap().getOrDefault(GcpOwner.FAMILIES, "").startsWith("ipv6")) {
            order = List.of(IpFamily.IPv6, IpFamily.IPv4);
          }
        }
      }
    }
    return ips.isEmpty() ? Optional.empty() : Optional.of(status(order, ips));
  }

  /** One ingress entry per family, in {@code order}. */
  private static LoadBalancerStatus status(List<IpFamily> order, Map<IpFamily, String> ips) {
    List<LoadBalancerStatus.Ingress> out = new ArrayList<>();
    for (IpFamily family : order) {
      if (ips.containsKey(family)) {
        out.addAll(
            LoadBalancerStatus.ofIp(ips.get(family), LoadBalancerStatus.IpMode.VIP).ingress());
      }
    }
    return new LoadBalancerStatus(out);
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    try {
      return ensureOnce(plan);
    } catch (ProviderException | RuntimeException e) {
      nodes.forget(); // the groups may be why: read them again next time
      throw e;
    }
  }

  private LoadBalancerStatus ensureOnce(LoadBalancerPlan plan) throws ProviderException {
    capabilities().requireSupported(plan);
    LoadBalancerRef ref = plan.ref();
    GcpOptions options = GcpOptions.of(plan, c.region());
    Map<String, ForwardingRule> rules = new LinkedHashMap<>(); // by name
    for (String name : ruleNames(ref)) {
      forwarding.rule(name).ifPresent(r -> rules.put(name, r));
    }
    String scheme = options.internal() ? "INTERNAL" : "EXTERNAL";
    for (ForwardingRule r : rules.values()) {
      if (!r.getLoadBalancingScheme().equals(scheme)) {
        throw new ProviderException.InvalidPlan(
            GcpOptions.LB_TYPE,
            "the load balancer is "
                + r.getLoadBalancingScheme()
                + " and Compute cannot change a forwarding rule's scheme in place; delete and"
                + " re-create the Service to make it "
                + scheme);
      }
    }
    // what may refuse the Service is read before anything changes
    String subnetwork =
        options.internal()
            ? addresses.subnetwork(
                options.subnet().isEmpty() ? "" : c.regionalLink("subnetworks", options.subnet()))
            : "";
    GcpFamilies.Served served = GcpFamilies.served(plan, options, addresses::nodeSubnet, events);
    GcpShape shape = GcpShape.of(plan, options.internal(), served.families());
    warnSkipped(ref, shape.skippedNodes());
    List<String> nodeTags =
        shape.instancesByZone().isEmpty() ? List.of() : tags.of(shape.instancesByZone());

    List<String> groups = nodes.sync(ref, shape.instancesByZone(), false);
    String check = checks.ensure(ref, shape);
    Map<IpFamily, GcpAddresses.Chosen> chosen = new EnumMap<>(IpFamily.class);
    if (shape.families().contains(IpFamily.IPv4)) {
      chosen.put(
          IpFamily.IPv4,
          addresses.ensure(
              plan,
              shape,
              subnetwork,
              options.tier(),
              () -> {
                for (String protocol : PROTOCOLS) {
                  forwarding.deleteRule(ref, GcpNames.forProtocol(ref, protocol));
                }
                rules.keySet().removeIf(n -> !n.endsWith("-ipv6"));
              }));
    }
    if (shape.families().contains(IpFamily.IPv6)) {
      chosen.put(
          IpFamily.IPv6,
          new GcpAddresses.Chosen(
              addresses.ensureIpv6(ref, shape, served.ipv6Subnet()), "PREMIUM"));
    }
    Map<String, String> services = new LinkedHashMap<>(); // backend service link by protocol
    for (RuleSpec spec : shape.rules()) {
      String service =
          services.containsKey(spec.protocol())
              ? services.get(spec.protocol())
              : forwarding.ensureBackendService(plan, shape, spec, groups, check);
      services.put(spec.protocol(), service);
      String in = spec.family() == IpFamily.IPv6 ? served.ipv6Subnet() : subnetwork;
      forwarding.ensureRule(
          ref, shape, spec, chosen.get(spec.family()), service, in, rules.get(spec.name()));
    }
    for (String name : List.copyOf(rules.keySet())) { // as read: a rule no longer wanted goes
      if (shape.rules().stream().noneMatch(r -> r.name().equals(name))) {
        forwarding.deleteRule(ref, name);
      }
    }
    for (String protocol : PROTOCOLS) {
      if (!services.containsKey(protocol)) {
        forwarding.deleteBackendService(ref, protocol);
      }
    }
    Map<IpFamily, String> ips = new EnumMap<>(IpFamily.class);
    chosen.forEach((family, a) -> ips.put(family, a.ip()));
    // the families whose leftovers are looked for: those served, and those the rules had (a family
    // that never got a rule is looked for at deletion only)
    Set<IpFamily> tended = new HashSet<>(shape.families());
    rules.keySet().forEach(n -> tended.add(n.endsWith("-ipv6") ? IpFamily.IPv6 : IpFamily.IPv4));
    firewalls.ensureAll(plan, shape, nodeTags, ips, tended);
    if (shape.probe().shared()) {
      // a Service that went back to the cluster's check leaves its own behind: remove it
      resources.deleteOwned(resources.healthChecks, GcpNames.serviceHealthCheck(ref), ref);
    }
    for (IpFamily family : tended) {
      if (!shape.families().contains(family)) { // a family dropped: its address goes last
        resources.deleteOwned(resources.addresses, GcpNames.of(GcpNames.service(ref), family), ref);
      }
    }
    ips.replaceAll((family, ip) -> ip.contains("/") ? ip.substring(0, ip.indexOf('/')) : ip);
    return status(shape.families(), ips);
  }

  /** The names of every forwarding rule a Service may have: per family and protocol. */
  private static List<String> ruleNames(LoadBalancerRef ref) {
    List<String> out = new ArrayList<>();
    for (IpFamily family : IpFamily.values()) {
      PROTOCOLS.forEach(p -> out.add(GcpNames.of(GcpNames.forProtocol(ref, p), family)));
    }
    return out;
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    List<BackendService> services = new ArrayList<>();
    for (String protocol : PROTOCOLS) {
      resources
          .backendServices
          .read()
          .get(GcpNames.forProtocol(ref, protocol))
          .filter(s -> GcpOwner.owned(s.getDescription(), ref))
          .ifPresent(services::add);
    }
    if (services.isEmpty()) {
      throw new ProviderException.Transient("no load balancer exists yet for " + ref, null);
    }
    GcpShape.Nodes placed = GcpShape.nodes(backends);
    warnSkipped(ref, placed.skipped());
    try {
      List<String> groups = nodes.sync(ref, placed.byZone(), true);
      for (BackendService s : services) {
        forwarding.updateBackends(ref, s, groups);
      }
    } catch (ProviderException | RuntimeException e) {
      nodes.forget();
      throw e;
    }
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    java.util.Set<String> ips = new java.util.TreeSet<>();
    for (String name : ruleNames(ref)) {
      forwarding.deleteRule(ref, name).ifPresent(r -> ips.add(r.getIPAddress()));
    }
    for (String protocol : PROTOCOLS) {
      forwarding.deleteBackendService(ref, protocol);
    }
    resources.deleteOwned(resources.healthChecks, GcpNames.serviceHealthCheck(ref), ref);
    for (String name : GcpFirewalls.own(ref)) {
      resources.deleteOwned(resources.firewalls, name, ref);
    }
    for (IpFamily family : IpFamily.values()) {
      String name = GcpNames.of(GcpNames.service(ref), family);
      // a retained address stays (deleteRetained only); a crash after it was marked finds it so
      if (resources.addresses.read().get(name).filter(GcpAddresses::retained).isEmpty()) {
        resources.deleteOwned(resources.addresses, name, ref);
      }
    }
    // a shared address goes with the last Service on it
    addresses.releaseShared(ref.cluster(), ips);
    // the cluster's shared parts go with the last Service using them (Compute refuses otherwise)
    if (resources.deleteShared(resources.healthChecks, GcpNames.nodeHealthCheck(ref.cluster()))) {
      for (IpFamily family : IpFamily.values()) {
        resources.deleteShared(
            resources.firewalls, GcpNames.of(GcpNames.nodeHealthFirewall(ref.cluster()), family));
      }
    }
    nodes.deleteUnused(ref.cluster());
  }

  /**
   * Marks the Service's addresses retained first (labels), then deletes the rest as {@link
   * #ensureDeleted} does, which leaves retained addresses alone.
   */
  @Override
  public void ensureRetained(LoadBalancerRef ref) throws ProviderException {
    for (IpFamily family : IpFamily.values()) {
      Optional<Address> a =
          resources.addresses.read().get(GcpNames.of(GcpNames.service(ref), family));
      if (a.isPresent() && GcpOwner.owned(a.get().getDescription(), ref)) {
        addresses.retain(a.get());
      }
    }
    ensureDeleted(ref);
  }

  @Override
  public List<RetainedAddress> listRetained(String clusterName) throws ProviderException {
    return addresses.retainedFor(clusterName);
  }

  @Override
  public void deleteRetained(String clusterName, String id) throws ProviderException {
    addresses.deleteRetained(clusterName, id);
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    Set<LoadBalancerRef> found = new HashSet<>();
    // what any crash point leaves: an address, a check, a backend service or a rule (a retained
    // address is no load balancer's)
    List<Address> live =
        addresses.list("").stream().filter(a -> !GcpAddresses.retained(a)).toList();
    for (String description : resources.descriptions(live)) {
      GcpOwner.ownerOf(description, clusterName).ifPresent(found::add);
    }
    return List.copyOf(found);
  }

  @Override
  public void close() {
    c.close();
  }

  private void warnSkipped(LoadBalancerRef ref, List<String> skipped) {
    for (String node : skipped) {
      events.warning(
          ref,
          "NodeNotRegistered",
          "node "
              + node
              + " has no gce://<project>/<zone>/<instance> providerID; it is left out of the load"
              + " balancer");
    }
  }
}
