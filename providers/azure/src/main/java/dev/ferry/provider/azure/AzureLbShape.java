package dev.ferry.provider.azure;

import com.azure.core.management.SubResource;
import com.azure.resourcemanager.network.fluent.models.BackendAddressPoolInner;
import com.azure.resourcemanager.network.fluent.models.FrontendIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancingRuleInner;
import com.azure.resourcemanager.network.fluent.models.ProbeInner;
import com.azure.resourcemanager.network.models.LoadBalancerSku;
import com.azure.resourcemanager.network.models.LoadBalancerSkuName;
import dev.ferry.spi.Backend;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import java.util.function.Function;

/**
 * The load balancer as a Service wants it, from the load balancer as it is: pure functions over the
 * vendor's models, tested by value. Only the Service's own parts (named by {@link AzureNames}) and,
 * on Ferry's own load balancer, its pool are ever changed; on a joined load balancer (AKS's)
 * everything else is handed back exactly as read.
 */
final class AzureLbShape {

  static final String TAG_CLUSTER = "ferry.dev-cluster";

  private AzureLbShape() {}

  /** The IPv4 load balancer of {@code plan} (its tests' and single-stack callers' form). */
  static LoadBalancerInner with(
      LoadBalancerInner current,
      LoadBalancerPlan plan,
      AzureWish wish,
      String pipId,
      AzureSettings s,
      int otherRules)
      throws ProviderException {
    Map<IpFamily, String> pips = new EnumMap<>(IpFamily.class);
    if (pipId != null) {
      pips.put(IpFamily.IPv4, pipId);
    }
    return with(current, plan, wish, List.of(IpFamily.IPv4), pips, s, otherRules);
  }

  /**
   * @param families the families served: a frontend, a probe and rules each, to the pool of that
   *     family (an IPv6 frontend forwards to IPv6 addresses only)
   * @param pipIds the public IP of each family's frontend (none for an internal one)
   * @param otherRules load-balancing rules the nodes are already behind on the other load balancer
   *     (public or internal): Azure counts them against the same NIC limit
   */
  static LoadBalancerInner with(
      LoadBalancerInner current,
      LoadBalancerPlan plan,
      AzureWish wish,
      List<IpFamily> families,
      Map<IpFamily, String> pipIds,
      AzureSettings s,
      int otherRules)
      throws ProviderException {
    LoadBalancerRef ref = plan.ref();
    String name = s.loadBalancer(ref.cluster(), wish.internal());
    String lbId = s.loadBalancerId(name);
    LoadBalancerInner lb = current;
    if (lb == null) {
      if (s.joined()) {
        throw missingJoined(name, wish.internal());
      }
      lb =
          new LoadBalancerInner()
              .withSku(new LoadBalancerSku().withName(LoadBalancerSkuName.STANDARD));
      lb.withLocation(s.location()).withTags(Map.of(TAG_CLUSTER, ref.cluster()));
    }
    List<FrontendIpConfigurationInner> frontends =
        new ArrayList<>(list(lb.frontendIpConfigurations()));
    List<BackendAddressPoolInner> pools = new ArrayList<>(list(lb.backendAddressPools()));
    List<ProbeInner> probes = new ArrayList<>(list(lb.probes()));
    List<LoadBalancingRuleInner> rules = new ArrayList<>(list(lb.loadBalancingRules()));
    Set<String> wanted = new HashSet<>();
    for (IpFamily family : families) {
      FrontendIpConfigurationInner frontend =
          family == IpFamily.IPv4
              ? AzureLbParts.frontend(lbId, AzureNames.frontend(plan), wish, pipIds.get(family), s)
              : AzureLbParts.ipv6Frontend(lbId, ref, pipIds.get(family));
      wanted.add(frontend.name());
      boolean isNew = frontends.stream().noneMatch(f -> frontend.name().equals(f.name()));
      upsert(frontends, frontend, FrontendIpConfigurationInner::name, AzureLbShape::sameFrontend);
      if (isNew && frontends.size() > s.limits().frontends()) {
        throw new ProviderException.QuotaExceeded(
            "load balancer "
                + name
                + " holds its limit of "
                + s.limits().frontends()
                + " frontend IP configurations (Azure's limit per Standard Load Balancer); delete"
                + " Services or ask Microsoft for a higher limit",
            null);
      }
      String poolName = AzureNames.of(s.pool(ref.cluster()), family);
      if (s.joined()) {
        if (pools.stream().noneMatch(p -> poolName.equalsIgnoreCase(p.name()))) {
          throw new ProviderException.Transient(
              "load balancer "
                  + name
                  + " has no backend pool "
                  + poolName
                  + " for Ferry's rules to use",
              null);
        }
      } else {
        upsert(
            pools,
            AzureLbParts.pool(lbId, poolName, plan.backends(), s, family),
            BackendAddressPoolInner::name,
            AzureLbShape::samePool);
      }
      ProbeInner probe =
          family == IpFamily.IPv4
              ? wish.probe()
              : AzureLbParts.copy(wish.probe(), AzureNames.ipv6(wish.probe().name()));
      probe.withId(lbId + "/probes/" + probe.name());
      upsert(probes, probe, ProbeInner::name, AzureLbShape::sameProbe);
      for (Listener l : plan.listeners()) {
        LoadBalancingRuleInner rule =
            AzureLbParts.rule(
                lbId,
                ref,
                l,
                wish,
                frontend.id(),
                poolName,
                probe.id(),
                s,
                plan.affinity().clientIp(),
                family);
        wanted.add(rule.name());
        upsert(rules, rule, LoadBalancingRuleInner::name, AzureLbShape::sameRule);
      }
    }
    // a family dropped: its frontend and rules go (its public IP after this write)
    frontends.removeIf(f -> AzureNames.owns(ref, f.name()) && !wanted.contains(f.name()));
    rules.removeIf(r -> AzureNames.owns(ref, r.name()) && !wanted.contains(r.name()));
    int perNic = rules.size() + otherRules;
    if (perNic > s.limits().rulesPerNic()) {
      throw new ProviderException.QuotaExceeded(
          "the nodes would be behind "
              + perNic
              + " load-balancing rules; Azure allows "
              + s.limits().rulesPerNic()
              + " per NIC IP configuration, and every rule on the cluster's backend pool counts for"
              + " every node. Nothing of this Service was made; free rules (fewer ports or"
              + " Services) first",
          null);
    }
    int lbRules = rules.size() + list(lb.inboundNatRules()).size();
    if (lbRules > s.limits().rulesPerLoadBalancer()) {
      throw new ProviderException.QuotaExceeded(
          "load balancer "
              + name
              + " would hold "
              + lbRules
              + " load-balancing and inbound NAT rules;"
              + " Azure allows "
              + s.limits().rulesPerLoadBalancer(),
          null);
    }
    lb.withFrontendIpConfigurations(frontends)
        .withBackendAddressPools(pools)
        .withProbes(probes)
        .withLoadBalancingRules(rules);
    return tidy(lb);
  }

  static ProviderException missingJoined(String name, boolean internal) {
    if (internal) {
      return new ProviderException.InvalidPlan(
          List.of(
              new PlanViolation(
                  "metadata.annotations[" + AzureWish.INTERNAL + "]",
                  "the cluster's internal load balancer "
                      + name
                      + " does not exist, and Ferry does not make one beside it: a node can be behind"
                      + " only one internal Standard Load Balancer, which is "
                      + name
                      + "'s on this cluster. Let the cluster's own controller make it (any internal"
                      + " Service of its own), then this Service joins it")));
    }
    return new ProviderException.Transient(
        "the load balancer " + name + " Ferry is set to join (azure.load-balancer) does not exist",
        null);
  }

  /** Ferry's own pool holding {@code backends} (a joined load balancer's pool is not Ferry's). */
  static LoadBalancerInner withPool(
      LoadBalancerInner lb, String cluster, List<Backend> backends, AzureSettings s, String name) {
    List<BackendAddressPoolInner> pools = new ArrayList<>(list(lb.backendAddressPools()));
    for (IpFamily family : IpFamily.values()) {
      String pool = AzureNames.of(s.pool(cluster), family);
      // Ferry's IPv6 pool exists while a dual-stack Service uses it
      if (family == IpFamily.IPv4 || pools.stream().anyMatch(p -> pool.equals(p.name()))) {
        upsert(
            pools,
            AzureLbParts.pool(s.loadBalancerId(name), pool, backends, s, family),
            BackendAddressPoolInner::name,
            AzureLbShape::samePool);
      }
    }
    return lb.withBackendAddressPools(pools);
  }

  /** The load balancer without anything of {@code ref}'s (null when Ferry's and now empty). */
  static LoadBalancerInner without(LoadBalancerInner lb, LoadBalancerRef ref) {
    lb.withFrontendIpConfigurations(
            new ArrayList<>(
                list(lb.frontendIpConfigurations()).stream()
                    .filter(f -> !AzureNames.owns(ref, f.name()))
                    .toList()))
        .withLoadBalancingRules(
            new ArrayList<>(
                list(lb.loadBalancingRules()).stream()
                    .filter(r -> !AzureNames.owns(ref, r.name()))
                    .toList()))
        .withProbes(
            new ArrayList<>(
                list(lb.probes()).stream().filter(p -> !AzureNames.owns(ref, p.name())).toList()));
    return tidy(lb);
  }

  /**
   * Removes Ferry's shared probe when no rule uses it; answers null (delete it) for a load balancer
   * Ferry made that has no frontend left. Nothing not named as Ferry's is touched.
   */
  static LoadBalancerInner tidy(LoadBalancerInner lb) {
    Set<String> used = new HashSet<>();
    list(lb.loadBalancingRules())
        .forEach(r -> used.add(r.probe() == null ? "" : last(r.probe().id())));
    lb.withProbes(
        new ArrayList<>(
            list(lb.probes()).stream()
                .filter(p -> !AzureNames.ferrys(p.name()) || used.contains(p.name()))
                .toList()));
    // a shared frontend goes with the last rule on it
    Set<String> fronted = new HashSet<>();
    list(lb.loadBalancingRules())
        .forEach(
            r ->
                fronted.add(
                    r.frontendIpConfiguration() == null
                        ? ""
                        : last(r.frontendIpConfiguration().id())));
    lb.withFrontendIpConfigurations(
        new ArrayList<>(
            list(lb.frontendIpConfigurations()).stream()
                .filter(f -> !AzureNames.shared(f.name()) || fronted.contains(f.name()))
                .toList()));
    if (ours(lb) && list(lb.frontendIpConfigurations()).isEmpty()) {
      return null;
    }
    if (ours(lb)) { // Ferry's own IPv6 pool goes with the last rule using it
      Set<String> pools = new HashSet<>();
      list(lb.loadBalancingRules())
          .forEach(
              r ->
                  pools.add(
                      r.backendAddressPool() == null ? "" : last(r.backendAddressPool().id())));
      lb.withBackendAddressPools(
          new ArrayList<>(
              list(lb.backendAddressPools()).stream()
                  .filter(p -> !p.name().endsWith("-IPv6") || pools.contains(p.name()))
                  .toList()));
    }
    return lb;
  }

  static boolean ours(LoadBalancerInner lb) {
    return lb.tags() != null && lb.tags().containsKey(TAG_CLUSTER);
  }

  /** {@code ref}'s IPv4 frontend: its own, else the shared one its rules use. */
  static java.util.Optional<FrontendIpConfigurationInner> frontend(
      LoadBalancerInner lb, LoadBalancerRef ref) {
    java.util.Optional<FrontendIpConfigurationInner> own =
        list(lb.frontendIpConfigurations()).stream()
            .filter(f -> AzureNames.service(ref).equals(f.name()))
            .findFirst();
    if (own.isPresent()) {
      return own;
    }
    Set<String> used = new HashSet<>();
    for (LoadBalancingRuleInner r : list(lb.loadBalancingRules())) {
      if (AzureNames.owns(ref, r.name()) && r.frontendIpConfiguration() != null) {
        used.add(last(r.frontendIpConfiguration().id()));
      }
    }
    return list(lb.frontendIpConfigurations()).stream()
        .filter(f -> AzureNames.shared(f.name()) && used.contains(f.name()))
        .findFirst();
  }

  /**
   * Puts {@code wanted} where the part of its name is (kept as ARM has it when it is the same in
   * every field Ferry sets: ARM adds defaults and back-references of its own), or at the end.
   */
  static <T> void upsert(
      List<T> parts, T wanted, Function<T, String> name, BiPredicate<T, T> same) {
    for (int i = 0; i < parts.size(); i++) {
      if (name.apply(wanted).equals(name.apply(parts.get(i)))) {
        if (!same.test(parts.get(i), wanted)) {
          parts.set(i, wanted);
        }
        return;
      }
    }
    parts.add(wanted);
  }

  private static boolean sameId(SubResource a, SubResource b) {
    String x = a == null ? null : a.id();
    String y = b == null ? null : b.id();
    return x == null ? y == null : x.equalsIgnoreCase(y);
  }

  static boolean sameFrontend(
      FrontendIpConfigurationInner have, FrontendIpConfigurationInner want) {
    if (want.publicIpAddress() != null) {
      return have.publicIpAddress() != null
          && want.publicIpAddress().id().equalsIgnoreCase(have.publicIpAddress().id());
    }
    return have.subnet() != null
        && want.subnet().id().equalsIgnoreCase(have.subnet().id())
        && (want.privateIpAddress() == null
            || want.privateIpAddress().equals(have.privateIpAddress()));
  }

  static boolean samePool(BackendAddressPoolInner have, BackendAddressPoolInner want) {
    return addresses(have).equals(addresses(want));
  }

  private static Set<String> addresses(BackendAddressPoolInner pool) {
    Set<String> out = new TreeSet<>();
    list(pool.loadBalancerBackendAddresses()).forEach(a -> out.add(a.name() + "=" + a.ipAddress()));
    return out;
  }

  static boolean sameProbe(ProbeInner have, ProbeInner want) {
    return Objects.equals(have.protocol(), want.protocol())
        && Objects.equals(have.port(), want.port())
        && Objects.equals(have.intervalInSeconds(), want.intervalInSeconds())
        && Objects.equals(have.probeThreshold(), want.probeThreshold())
        && Objects.equals(have.requestPath(), want.requestPath());
  }

  static boolean sameRule(LoadBalancingRuleInner have, LoadBalancingRuleInner want) {
    return sameId(have.frontendIpConfiguration(), want.frontendIpConfiguration())
        && sameId(have.backendAddressPool(), want.backendAddressPool())
        && sameId(have.probe(), want.probe())
        && Objects.equals(have.protocol(), want.protocol())
        && Objects.equals(have.frontendPort(), want.frontendPort())
        && Objects.equals(have.backendPort(), want.backendPort())
        && Objects.equals(have.enableFloatingIp(), want.enableFloatingIp())
        && Objects.equals(have.idleTimeoutInMinutes(), want.idleTimeoutInMinutes())
        && Objects.equals(have.disableOutboundSnat(), want.disableOutboundSnat())
        && (want.enableTcpReset() == null
            || Objects.equals(have.enableTcpReset(), want.enableTcpReset()))
        && Objects.equals(have.loadDistribution(), want.loadDistribution());
  }

  static int rules(LoadBalancerInner lb) {
    return lb == null ? 0 : list(lb.loadBalancingRules()).size();
  }

  static String last(String id) {
    return id == null ? "" : id.substring(id.lastIndexOf('/') + 1);
  }

  static <T> List<T> list(List<T> maybe) {
    return maybe == null ? List.of() : maybe;
  }
}
