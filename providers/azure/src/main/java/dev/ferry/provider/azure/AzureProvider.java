package dev.ferry.provider.azure;

import com.azure.resourcemanager.network.fluent.models.FrontendIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.HealthCheckDefaults;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Standard Load Balancers the way an AKS cluster can live with them. Per Service: a public IP (or
 * the user's own), a frontend configuration, a rule per port and protocol (floating IP unless
 * disabled), a probe (kube-proxy's shared one, or the Service's own), allow rules on the cluster's
 * NSG. Where they go depends on the cluster ({@link AzureSettings#join()}):
 *
 * <ul>
 *   <li><b>joined</b> (AKS, or any cluster whose nodes are already behind cloud-provider-azure's
 *       load balancer): a node can be behind one public and one internal Standard Load Balancer
 *       only, so Ferry adds its Services' parts, under its own names, to that load balancer and
 *       sends them to its existing pool; it never changes the pool or anything not named as
 *       Ferry's, and writes with the load balancer's ETag;
 *   <li><b>own</b> (self-managed clusters): {@code ferry-<cluster>} and {@code
 *       ferry-<cluster>-internal} with one node-IP pool, so a node change is one pool update for
 *       the whole cluster.
 * </ul>
 *
 * All writes of a load balancer go through {@link AzureLbWriter} (ETag-guarded, batched).
 */
final class AzureProvider implements LoadBalancerProvider {

  /** cloud-provider-azure's probe defaults: every 5 s, out after 2 failures. */
  static final HealthCheckDefaults DEFAULTS =
      new HealthCheckDefaults(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, 2);

  private final Arm arm;
  private final AzureSettings s;
  private final ProviderEvents events;
  private final AzureLbWriter writer;
  private final AzurePublicIps pips;
  private final AzureSecurityRules securityRules;

  AzureProvider(Arm arm, AzureSettings settings, ProviderEvents events, boolean batching) {
    this.arm = arm;
    this.s = settings;
    this.events = events;
    this.pips = new AzurePublicIps(arm, settings);
    this.securityRules = new AzureSecurityRules(arm, settings);
    this.writer =
        new AzureLbWriter(
            new AzureLbWriter.Store() {
              @Override
              public Optional<LoadBalancerInner> read(String name) throws ProviderException {
                return arm.get(
                    "loadBalancers.get", s.loadBalancerId(name), LoadBalancerInner::fromJson);
              }

              @Override
              public LoadBalancerInner write(String name, LoadBalancerInner lb, String etag)
                  throws ProviderException {
                // ARM has no create-only condition: a new load balancer is Ferry's own, made by
                // the one leader; every later write carries the ETag it was read with
                return arm.put(
                    "loadBalancers.put",
                    s.loadBalancerId(name),
                    lb,
                    etag == null ? Map.of() : Map.of("If-Match", etag),
                    LoadBalancerInner::fromJson);
              }

              @Override
              public void delete(String name) throws ProviderException {
                arm.delete("loadBalancers.delete", s.loadBalancerId(name));
              }
            },
            batching);
  }

  Arm arm() {
    return arm;
  }

  AzureLbWriter writer() {
    return writer;
  }

  AzureSettings settings() {
    return s;
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
        // Azure: at least 5 s, and interval × failures under 120 s (failures ≥ 2: under 60 s)
        .healthCheckInterval(Duration.ofSeconds(5), Duration.ofSeconds(59))
        .healthCheckDefaults(DEFAULTS)
        .ipFamilies(IpFamily.IPv4, IpFamily.IPv6)
        .dualStack(true)
        .backendsByFamily(true) // an IPv6 frontend forwards to the pool of IPv6 node addresses
        .build();
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    for (String name : s.loadBalancers(ref.cluster())) {
      Optional<LoadBalancerInner> lb =
          arm.get("loadBalancers.get", s.loadBalancerId(name), LoadBalancerInner::fromJson);
      Optional<FrontendIpConfigurationInner> frontend =
          lb.flatMap(l -> AzureLbShape.frontend(l, ref));
      Optional<FrontendIpConfigurationInner> v6 = lb.flatMap(l -> ipv6Frontend(l, ref));
      if (frontend.isPresent() || v6.isPresent()) {
        Map<IpFamily, String> ips = new EnumMap<>(IpFamily.class);
        if (frontend.isPresent()) {
          ips.put(IpFamily.IPv4, address(frontend.get()));
        }
        List<IpFamily> order = List.of(IpFamily.IPv4, IpFamily.IPv6);
        if (v6.isPresent()) {
          Optional<PublicIpAddressInner> pip = pips.get(pips.ipv6Id(ref));
          ips.put(IpFamily.IPv6, pip.map(PublicIpAddressInner::ipAddress).orElse(null));
          if (pip.map(p -> p.tags() != null && p.tags().containsKey(AzurePublicIps.TAG_PRIMARY))
              .orElse(false)) {
            order = List.of(IpFamily.IPv6, IpFamily.IPv4);
          }
        }
        return Optional.of(status(order, ips));
      }
    }
    return Optional.empty();
  }

  private static Optional<FrontendIpConfigurationInner> ipv6Frontend(
      LoadBalancerInner lb, LoadBalancerRef ref) {
    String name = AzureNames.ipv6(AzureNames.service(ref));
    return AzureLbShape.list(lb.frontendIpConfigurations()).stream()
        .filter(f -> name.equals(f.name()))
        .findFirst();
  }

  /** An ingress entry per family that has its address yet, in {@code order}. */
  private static LoadBalancerStatus status(List<IpFamily> order, Map<IpFamily, String> ips) {
    List<LoadBalancerStatus.Ingress> out = new ArrayList<>();
    for (IpFamily family : order) {
      String ip = ips.get(family);
      if (ip != null && !ip.isEmpty()) {
        out.addAll(LoadBalancerStatus.ofIp(ip, LoadBalancerStatus.IpMode.VIP).ingress());
      }
    }
    return new LoadBalancerStatus(out);
  }

  private String address(FrontendIpConfigurationInner f) throws ProviderException {
    if (f.publicIpAddress() != null && f.publicIpAddress().id() != null) {
      return pips.get(f.publicIpAddress().id()).map(PublicIpAddressInner::ipAddress).orElse(null);
    }
    return f.privateIpAddress();
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    capabilities().requireSupported(plan);
    LoadBalancerRef ref = plan.ref();
    AzureWish wish = AzureWish.of(plan, s);
    List<IpFamily> families = AzureFamilies.served(plan, wish, s, arm, events);
    report(plan, wish, families);
    // restricted: some family served admits less than its every address
    boolean restricted =
        families.stream().anyMatch(f -> !plan.sourceRanges(f).equals(List.of(f.everyAddress())));
    if ((restricted || !wish.serviceTags().isEmpty()) && s.securityGroup().isEmpty()) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerSourceRanges",
          "no network security group is configured (provider setting azure.security-group), so"
              + " clients cannot be restricted; remove the source ranges or configure the group");
    }
    // a Service that changed scheme leaves the other load balancer first
    String otherName = s.loadBalancer(ref.cluster(), !wish.internal());
    Optional<LoadBalancerInner> other =
        writer.change(otherName, lb -> lb == null ? null : AzureLbShape.without(lb, ref));
    String name = s.loadBalancer(ref.cluster(), wish.internal());
    String frontendId =
        s.loadBalancerId(name) + "/frontendIPConfigurations/" + AzureNames.frontend(plan);

    Map<IpFamily, String> ips = new EnumMap<>(IpFamily.class);
    Map<IpFamily, String> pipIds = new EnumMap<>(IpFamily.class);
    if (!wish.internal() && families.contains(IpFamily.IPv4)) {
      PublicIpAddressInner pip = pips.ensure(plan, wish, frontendId);
      pipIds.put(
          IpFamily.IPv4,
          pip.id() != null ? pip.id() : s.publicIpId(wish.pipGroup(), wish.pipName()));
      ips.put(IpFamily.IPv4, pip.ipAddress());
    }
    if (families.contains(IpFamily.IPv6)) {
      PublicIpAddressInner pip = pips.ensureIpv6(plan, wish);
      pipIds.put(IpFamily.IPv6, pip.id() != null ? pip.id() : pips.ipv6Id(ref));
      ips.put(IpFamily.IPv6, pip.ipAddress());
    }
    int otherRules = AzureLbShape.rules(other.orElse(null));
    boolean[] hadIpv6 = {false}; // its public IP is looked for only when its frontend was there
    Optional<LoadBalancerInner> lb =
        writer.change(
            name,
            current -> {
              hadIpv6[0] |= current != null && ipv6Frontend(current, ref).isPresent();
              return AzureLbShape.with(current, plan, wish, families, pipIds, s, otherRules);
            });
    if (families.contains(IpFamily.IPv4)) {
      FrontendIpConfigurationInner frontend =
          lb.flatMap(l -> AzureLbShape.frontend(l, ref))
              .orElseThrow(
                  () ->
                      new ProviderException.Transient(
                          "frontend of " + ref + " not found after the write", null));
      ips.putIfAbsent(IpFamily.IPv4, frontend.privateIpAddress());
    }
    if (wish.internal()
        || wish.usersPip()
        || wish.requestedIp().isPresent()
        || plan.sharingKey().isPresent()
        || !families.contains(IpFamily.IPv4)) {
      pips.deleteOwnIfPresent(ref, wish.pipGroup()); // left from before, when it had Ferry's
    }
    if (!families.contains(IpFamily.IPv6) && hadIpv6[0]) {
      pips.deleteIpv6(ref); // a family dropped: its frontend went with the write above
    }
    securityRules.ensure(plan, wish, ips);
    return status(families, ips);
  }

  /** Warnings that do not stop the Service: what is ignored, and which nodes are left out. */
  private void report(LoadBalancerPlan plan, AzureWish wish, List<IpFamily> families) {
    LoadBalancerRef ref = plan.ref();
    for (String key : wish.ignored()) {
      events.warning(
          ref,
          "UnsupportedAnnotation",
          key + " is not implemented by Ferry's Azure provider and is ignored");
    }
    for (IpFamily family : IpFamily.values()) {
      List<String> unserved = plan.sourceRanges(family);
      if (!families.contains(family)
          && !unserved.isEmpty()
          && !plan.ipFamilies().contains(family)) {
        events.warning(
            ref,
            "SourceRangesIgnored",
            "spec.loadBalancerSourceRanges "
                + String.join(", ", unserved)
                + " are "
                + family
                + "; the load balancer has no "
                + family
                + " frontend, so they admit no one");
      }
    }
    if (!s.joined()) {
      warnUnusable(ref, plan.backends());
    }
  }

  /** Warns about nodes without an address (the pool is node-IP based); they are left out. */
  private void warnUnusable(LoadBalancerRef ref, List<Backend> backends) {
    for (Backend b : backends) {
      if (b.address() == null || b.address().isBlank()) {
        events.warning(
            ref,
            "NodeNotRegistered",
            "node " + b.nodeName() + " has no InternalIP; it is left out of the backend pool");
      }
    }
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    boolean found = false;
    for (boolean internal : List.of(false, true)) {
      String name = s.loadBalancer(ref.cluster(), internal);
      boolean[] mine = {false};
      writer.change(
          name,
          lb -> {
            if (lb == null || AzureLbShape.frontend(lb, ref).isEmpty()) {
              return lb;
            }
            mine[0] = true;
            // a joined load balancer's pool is its owner's (AKS adds and removes the nodes)
            return s.joined() ? lb : AzureLbShape.withPool(lb, ref.cluster(), backends, s, name);
          });
      found |= mine[0];
    }
    if (!found) {
      throw new ProviderException.Transient("no load balancer exists yet for " + ref, null);
    }
    if (!s.joined()) {
      warnUnusable(ref, backends);
    }
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    String pipId = null;
    for (String name : s.loadBalancers(ref.cluster())) {
      String[] held = {null};
      writer.change(
          name,
          lb -> {
            if (lb == null) {
              return null;
            }
            AzureLbShape.frontend(lb, ref)
                .filter(f -> f.publicIpAddress() != null)
                .ifPresent(f -> held[0] = f.publicIpAddress().id());
            return AzureLbShape.without(lb, ref);
          });
      pipId = held[0] != null ? held[0] : pipId;
    }
    securityRules.delete(ref);
    pips.deleteOwn(ref, pipId);
    pips.deleteSharedIfUnused(pipId, ref.cluster()); // the last Service on a shared frontend
    pips.deleteIpv6(ref);
  }

  /**
   * Marks the Service's public IPs retained first (tags), then deletes the rest as {@link
   * #ensureDeleted} does, which deletes only public IPs tagged with the Service's UID.
   */
  @Override
  public void ensureRetained(LoadBalancerRef ref) throws ProviderException {
    pips.retain(ref);
    ensureDeleted(ref);
  }

  @Override
  public List<RetainedAddress> listRetained(String clusterName) throws ProviderException {
    return pips.retainedFor(clusterName);
  }

  @Override
  public void deleteRetained(String clusterName, String id) throws ProviderException {
    pips.deleteRetained(clusterName, id);
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    // Ferry's public IPs carry the Service and may be in any of the subscription's groups
    return List.copyOf(pips.owned(clusterName));
  }
}
