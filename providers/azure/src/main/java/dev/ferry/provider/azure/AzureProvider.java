package dev.ferry.provider.azure;

import com.azure.core.management.SubResource;
import com.azure.resourcemanager.network.fluent.models.BackendAddressPoolInner;
import com.azure.resourcemanager.network.fluent.models.FrontendIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancingRuleInner;
import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.ProbeInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.models.IpAllocationMethod;
import com.azure.resourcemanager.network.models.LoadBalancerBackendAddress;
import com.azure.resourcemanager.network.models.LoadBalancerSku;
import com.azure.resourcemanager.network.models.LoadBalancerSkuName;
import com.azure.resourcemanager.network.models.LoadDistribution;
import com.azure.resourcemanager.network.models.ProbeProtocol;
import com.azure.resourcemanager.network.models.PublicIpAddressDnsSettings;
import com.azure.resourcemanager.network.models.PublicIpAddressSku;
import com.azure.resourcemanager.network.models.PublicIpAddressSkuName;
import com.azure.resourcemanager.network.models.SecurityRuleAccess;
import com.azure.resourcemanager.network.models.SecurityRuleDirection;
import com.azure.resourcemanager.network.models.SecurityRuleProtocol;
import com.azure.resourcemanager.network.models.TransportProtocol;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.HealthCheckDefaults;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.PlanViolation;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.Scheme;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Standard Load Balancer per cluster ({@code <cluster>}, and {@code <cluster>-internal}), the
 * shape cloud-provider-azure users know: per Service a public IP (or the user's own), a frontend
 * configuration, a rule per port and protocol with floating IP (the packets keep the frontend
 * address, which kube-proxy matches), and a probe (kube-proxy's shared one, or the Service's own);
 * one node-IP-based backend pool shared by every Service, so a node change is one pool update for
 * the whole cluster; security rules on the cluster's NSG for the source ranges. All writes of the
 * shared load balancer go through {@link AzureLbWriter} (ETag-guarded, batched).
 */
final class AzureProvider implements LoadBalancerProvider {

  static final String PREFIX = "service.beta.kubernetes.io/azure-";
  static final String INTERNAL = PREFIX + "load-balancer-internal";
  static final String INTERNAL_SUBNET = PREFIX + "load-balancer-internal-subnet";
  static final String PIP_NAME = PREFIX + "pip-name";
  static final String DNS_LABEL = PREFIX + "dns-label-name";
  static final String PIP_RESOURCE_GROUP = PREFIX + "load-balancer-resource-group";
  static final String PROBE_INTERVAL = PREFIX + "load-balancer-health-probe-interval";
  static final String PROBE_COUNT = PREFIX + "load-balancer-health-probe-num-of-probe";
  static final String PROBE_PATH = PREFIX + "load-balancer-health-probe-request-path";
  static final String TAG_SERVICE = "k8s-azure-service";
  static final String TAG_CLUSTER = "k8s-azure-cluster-name";
  static final String TAG_UID = "ferry.dev-service-uid";

  /** cloud-provider-azure's probe defaults: every 5 s, 2 failures. */
  static final HealthCheckDefaults DEFAULTS =
      new HealthCheckDefaults(Duration.ofSeconds(5), Duration.ofSeconds(5), 1, 2);

  private static final int FIRST_PRIORITY = 500;
  private static final int LAST_PRIORITY = 4096;

  private final Arm arm;
  private final AzureSettings s;
  private final ProviderEvents events;
  private final AzureLbWriter writer;
  // not a monitor: the holder waits on ARM calls (see AzureLbWriter)
  private final ReentrantLock securityRules = new ReentrantLock();

  AzureProvider(Arm arm, AzureSettings settings, ProviderEvents events, boolean batching) {
    this.arm = arm;
    this.s = settings;
    this.events = events;
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
                return arm.put(
                    "loadBalancers.put",
                    s.loadBalancerId(name),
                    lb,
                    etag == null ? Map.of("If-None-Match", "*") : Map.of("If-Match", etag),
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

  @Override
  public Capabilities capabilities() {
    return Capabilities.builder()
        .protocols(Protocol.TCP, Protocol.UDP)
        .mixedProtocols(true)
        .maxListeners(100)
        .sourceRanges(true)
        .requestedIp(true)
        .internal(true)
        .clientIpAffinity(true)
        .healthCheckInterval(Duration.ofSeconds(5), Duration.ofSeconds(300))
        .healthCheckDefaults(DEFAULTS)
        .build();
  }

  // --- find ---

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    for (boolean internal : List.of(false, true)) {
      Optional<LoadBalancerInner> lb =
          arm.get(
              "loadBalancers.get",
              s.loadBalancerId(AzureNames.loadBalancer(ref.cluster(), internal)),
              LoadBalancerInner::fromJson);
      Optional<FrontendIpConfigurationInner> frontend = lb.flatMap(l -> frontend(l, ref));
      if (frontend.isPresent()) {
        return Optional.of(status(address(frontend.get())));
      }
    }
    return Optional.empty();
  }

  private static LoadBalancerStatus status(String ip) {
    return ip == null || ip.isEmpty()
        ? new LoadBalancerStatus(List.of())
        : LoadBalancerStatus.ofIp(ip, LoadBalancerStatus.IpMode.VIP);
  }

  private String address(FrontendIpConfigurationInner f) throws ProviderException {
    if (f.publicIpAddress() != null && f.publicIpAddress().id() != null) {
      return arm.get(
              "publicIPAddresses.get", f.publicIpAddress().id(), PublicIpAddressInner::fromJson)
          .map(PublicIpAddressInner::ipAddress)
          .orElse(null);
    }
    return f.privateIpAddress();
  }

  private static Optional<FrontendIpConfigurationInner> frontend(
      LoadBalancerInner lb, LoadBalancerRef ref) {
    return list(lb.frontendIpConfigurations()).stream()
        .filter(f -> AzureNames.service(ref).equals(f.name()))
        .findFirst();
  }

  // --- ensure ---

  /** What a plan wants on Azure, from its fields and the upstream annotations. */
  private record Wish(
      boolean internal,
      String subnet,
      String pipName,
      String pipResourceGroup,
      boolean usersPip,
      String dnsLabel,
      ProbeInner probe,
      boolean sharedProbe) {}

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    capabilities().requireSupported(plan);
    LoadBalancerRef ref = plan.ref();
    Wish wish = wish(plan);
    warnUnusable(ref, plan.backends());
    if (!openToAll(plan)) {
      requireSecurityGroup(plan);
    }
    // a Service that changed scheme leaves the other load balancer first
    String other = AzureNames.loadBalancer(ref.cluster(), !wish.internal());
    writer.change(other, lb -> lb == null ? null : without(lb, ref));

    String frontendIp = null;
    String pipId = null;
    if (!wish.internal()) {
      PublicIpAddressInner pip = ensurePublicIp(plan, wish);
      pipId = pip.id() != null ? pip.id() : s.publicIpId(wish.pipResourceGroup(), wish.pipName());
      frontendIp = pip.ipAddress();
    } else {
      deleteOwnPublicIp(ref);
    }
    String publicIp = pipId;
    Optional<LoadBalancerInner> lb =
        writer.change(
            AzureNames.loadBalancer(ref.cluster(), wish.internal()),
            current -> with(current, plan, wish, publicIp));
    FrontendIpConfigurationInner frontend =
        lb.flatMap(l -> frontend(l, ref))
            .orElseThrow(
                () ->
                    new ProviderException.Transient(
                        "frontend of " + ref + " not found after the write", null));
    if (frontendIp == null) {
      frontendIp = frontend.privateIpAddress();
    }
    ensureSecurityRules(plan, frontendIp);
    return status(frontendIp);
  }

  private static boolean openToAll(LoadBalancerPlan plan) {
    return plan.sourceRanges().equals(List.of("0.0.0.0/0"));
  }

  private void requireSecurityGroup(LoadBalancerPlan plan) throws ProviderException.InvalidPlan {
    if (s.securityGroup().isEmpty()) {
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerSourceRanges",
          "no network security group is configured (provider setting azure.security-group), so"
              + " clients cannot be restricted; remove the source ranges or configure the group");
    }
  }

  private Wish wish(LoadBalancerPlan plan) throws ProviderException.InvalidPlan {
    Map<String, String> a = plan.annotations();
    List<PlanViolation> problems = new ArrayList<>();
    boolean internal = plan.scheme() == Scheme.INTERNAL;
    String flag = a.get(INTERNAL);
    if (flag != null) {
      switch (flag.trim().toLowerCase(Locale.ROOT)) {
        case "true" -> internal = true;
        case "false" -> {}
        default ->
            problems.add(
                new PlanViolation(
                    "metadata.annotations[" + INTERNAL + "]",
                    "'" + flag + "' is neither true nor false"));
      }
    }
    String subnet = a.getOrDefault(INTERNAL_SUBNET, s.subnet());
    if (a.containsKey(INTERNAL_SUBNET) && !internal) {
      problems.add(
          new PlanViolation(
              "metadata.annotations[" + INTERNAL_SUBNET + "]",
              "a subnet is for internal load balancers only; set "
                  + INTERNAL
                  + ": \"true\" or remove it"));
    }
    if (internal && subnet.isEmpty()) {
      problems.add(
          new PlanViolation(
              "metadata.annotations[" + INTERNAL_SUBNET + "]",
              "an internal load balancer needs a subnet: name one, or set the provider setting azure.subnet"));
    }
    String pipName = a.get(PIP_NAME);
    boolean users = pipName != null && !pipName.isBlank();
    if (!users) {
      pipName = AzureNames.service(plan.ref());
    }
    String pipGroup = a.getOrDefault(PIP_RESOURCE_GROUP, s.resourceGroup());

    HealthCheck hc = plan.healthCheck();
    int interval = number(a, PROBE_INTERVAL, (int) hc.interval().toSeconds(), 5, 300, problems);
    int count = number(a, PROBE_COUNT, hc.unhealthyThreshold(), 1, 100, problems);
    String path = a.getOrDefault(PROBE_PATH, hc.path());
    if (!problems.isEmpty()) {
      throw new ProviderException.InvalidPlan(problems);
    }
    ProbeInner probe = new ProbeInner().withIntervalInSeconds(interval).withNumberOfProbes(count);
    boolean traffic = hc.onTrafficPort();
    if (traffic) {
      probe.withProtocol(ProbeProtocol.TCP).withPort(plan.listeners().get(0).nodePort());
    } else if (hc.protocol() == HealthCheck.Type.HTTP) {
      probe.withProtocol(ProbeProtocol.HTTP).withPort(hc.port()).withRequestPath(path);
    } else {
      probe.withProtocol(ProbeProtocol.TCP).withPort(hc.port());
    }
    boolean shared =
        !traffic
            && hc.port() == 10256
            && "/healthz".equals(path)
            && hc.protocol() == HealthCheck.Type.HTTP
            && interval == DEFAULTS.interval().toSeconds()
            && count == DEFAULTS.unhealthyThreshold();
    probe.withName(shared ? AzureNames.SHARED_PROBE : AzureNames.probe(plan.ref()));
    return new Wish(internal, subnet, pipName, pipGroup, users, a.get(DNS_LABEL), probe, shared);
  }

  private static int number(
      Map<String, String> a, String key, int fallback, int min, int max, List<PlanViolation> out) {
    String text = a.get(key);
    if (text == null) {
      return fallback;
    }
    try {
      int v = Integer.parseInt(text.trim());
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    out.add(
        new PlanViolation(
            "metadata.annotations[" + key + "]",
            "'" + text + "' is not a whole number from " + min + " to " + max));
    return fallback;
  }

  private PublicIpAddressInner ensurePublicIp(LoadBalancerPlan plan, Wish wish)
      throws ProviderException {
    String id = s.publicIpId(wish.pipResourceGroup(), wish.pipName());
    Optional<PublicIpAddressInner> found =
        arm.get("publicIPAddresses.get", id, PublicIpAddressInner::fromJson);
    if (wish.usersPip()) {
      return found.orElseThrow(
          () ->
              new ProviderException.InvalidPlan(
                  "metadata.annotations[" + PIP_NAME + "]",
                  "no public IP "
                      + wish.pipName()
                      + " in resource group "
                      + wish.pipResourceGroup()));
    }
    if (plan.requestedIp().isPresent()
        && !(found.isPresent() && plan.requestedIp().get().equals(found.get().ipAddress()))) {
      Optional<PublicIpAddressInner> users = publicIpWithAddress(plan.requestedIp().get());
      if (users.isPresent()) {
        return users.get();
      }
      throw new ProviderException.InvalidPlan(
          "spec.loadBalancerIP",
          plan.requestedIp().get()
              + " is not a public IP of resource group "
              + wish.pipResourceGroup()
              + "; reserve it there (or name it with "
              + PIP_NAME
              + ")");
    }
    Map<String, String> tags = tags(plan.ref());
    PublicIpAddressDnsSettings dns =
        wish.dnsLabel() == null
            ? null
            : new PublicIpAddressDnsSettings().withDomainNameLabel(wish.dnsLabel());
    if (found.isPresent()) {
      PublicIpAddressInner pip = found.get();
      requireTagged(pip.tags(), plan.ref(), pip.name());
      String label = pip.dnsSettings() == null ? null : pip.dnsSettings().domainNameLabel();
      if (Objects.equals(label, wish.dnsLabel())) {
        return pip;
      }
    }
    PublicIpAddressInner want =
        new PublicIpAddressInner()
            .withSku(new PublicIpAddressSku().withName(PublicIpAddressSkuName.STANDARD))
            .withPublicIpAllocationMethod(IpAllocationMethod.STATIC)
            .withDnsSettings(dns);
    want.withLocation(s.location()).withTags(tags);
    return arm.put("publicIPAddresses.put", id, want, Map.of(), PublicIpAddressInner::fromJson);
  }

  /** A public IP of the resource group with this address that Ferry did not make. */
  private Optional<PublicIpAddressInner> publicIpWithAddress(String ip) throws ProviderException {
    // ARM lists a resource group's public IPs with the one list call; Ferry names its own, so
    // the list is read only for a requested address that is not Ferry's
    return arm
        .list("publicIPAddresses.list", s.publicIpsCollection(), PublicIpAddressInner::fromJson)
        .stream()
        .filter(
            p -> ip.equals(p.ipAddress()) && (p.tags() == null || !p.tags().containsKey(TAG_UID)))
        .findFirst();
  }

  private void deleteOwnPublicIp(LoadBalancerRef ref) throws ProviderException {
    String id = s.publicIpId(s.resourceGroup(), AzureNames.service(ref));
    Optional<PublicIpAddressInner> pip =
        arm.get("publicIPAddresses.get", id, PublicIpAddressInner::fromJson);
    if (pip.isPresent() && ownedBy(pip.get().tags(), ref)) {
      arm.delete("publicIPAddresses.delete", id);
    }
  }

  /** The load balancer with {@code plan}'s parts as wanted, everything else as it was. */
  private LoadBalancerInner with(
      LoadBalancerInner current, LoadBalancerPlan plan, Wish wish, String pipId)
      throws ProviderException {
    LoadBalancerRef ref = plan.ref();
    String name = AzureNames.loadBalancer(ref.cluster(), wish.internal());
    String lbId = s.loadBalancerId(name);
    LoadBalancerInner lb = current;
    if (lb == null) {
      lb =
          new LoadBalancerInner()
              .withSku(new LoadBalancerSku().withName(LoadBalancerSkuName.STANDARD));
      lb.withLocation(s.location())
          .withTags(Map.of(TAG_CLUSTER, ref.cluster(), "ferry.dev-cluster", ref.cluster()));
    }
    List<FrontendIpConfigurationInner> frontends =
        new ArrayList<>(list(lb.frontendIpConfigurations()));
    FrontendIpConfigurationInner frontend =
        new FrontendIpConfigurationInner().withName(AzureNames.service(ref));
    frontend.withId(lbId + "/frontendIPConfigurations/" + frontend.name());
    if (wish.internal()) {
      frontend
          .withSubnet((SubnetInner) new SubnetInner().withId(s.subnetId(wish.subnet())))
          .withPrivateIpAllocationMethod(
              plan.requestedIp().isPresent()
                  ? IpAllocationMethod.STATIC
                  : IpAllocationMethod.DYNAMIC);
      plan.requestedIp().ifPresent(frontend::withPrivateIpAddress);
    } else {
      frontend.withPublicIpAddress((PublicIpAddressInner) new PublicIpAddressInner().withId(pipId));
    }
    boolean isNew = frontends.stream().noneMatch(f -> frontend.name().equals(f.name()));
    upsert(frontends, frontend, FrontendIpConfigurationInner::name, AzureProvider::sameFrontend);
    if (isNew && frontends.size() > s.maxFrontends()) {
      throw new ProviderException.QuotaExceeded(
          "load balancer "
              + name
              + " holds its limit of "
              + s.maxFrontends()
              + " frontend IP configurations (Azure's limit per Standard Load Balancer); delete"
              + " Services or ask Microsoft for a higher limit",
          null);
    }
    // the shared pool, holding the plan's nodes (every Service's plan has the same nodes)
    List<BackendAddressPoolInner> pools = new ArrayList<>(list(lb.backendAddressPools()));
    String poolName = AzureNames.pool(ref.cluster());
    upsert(
        pools,
        pool(lbId, poolName, plan.backends()),
        BackendAddressPoolInner::name,
        AzureProvider::samePool);
    List<ProbeInner> probes = new ArrayList<>(list(lb.probes()));
    ProbeInner probe = wish.probe();
    probe.withId(lbId + "/probes/" + probe.name());
    upsert(probes, probe, ProbeInner::name, AzureProvider::sameProbe);
    List<LoadBalancingRuleInner> rules = new ArrayList<>(list(lb.loadBalancingRules()));
    Set<String> wanted = new HashSet<>();
    for (Listener l : plan.listeners()) {
      String ruleName = AzureNames.rule(ref, l.protocol().name(), l.port());
      wanted.add(ruleName);
      LoadBalancingRuleInner rule =
          new LoadBalancingRuleInner()
              .withName(ruleName)
              .withFrontendIpConfiguration(new SubResource().withId(frontend.id()))
              .withBackendAddressPool(
                  new SubResource().withId(lbId + "/backendAddressPools/" + poolName))
              .withProbe(new SubResource().withId(probe.id()))
              .withProtocol(
                  l.protocol() == Protocol.UDP ? TransportProtocol.UDP : TransportProtocol.TCP)
              .withFrontendPort(l.port())
              .withBackendPort(l.port())
              .withEnableFloatingIp(true)
              .withIdleTimeoutInMinutes(4)
              .withDisableOutboundSnat(true)
              .withLoadDistribution(
                  plan.affinity().clientIp()
                      ? LoadDistribution.SOURCE_IP
                      : LoadDistribution.DEFAULT);
      rule.withId(lbId + "/loadBalancingRules/" + ruleName);
      upsert(rules, rule, LoadBalancingRuleInner::name, AzureProvider::sameRule);
    }
    rules.removeIf(r -> AzureNames.owns(ref, r.name()) && !wanted.contains(r.name()));
    if (rules.size() > s.maxRules()) {
      throw new ProviderException.QuotaExceeded(
          "load balancer " + name + " would exceed its limit of " + s.maxRules() + " rules", null);
    }
    lb.withFrontendIpConfigurations(frontends)
        .withBackendAddressPools(pools)
        .withProbes(probes)
        .withLoadBalancingRules(rules);
    return tidy(lb);
  }

  /**
   * Puts {@code wanted} where the part of its name is (kept as ARM has it when it is the same in
   * every field Ferry sets: ARM adds defaults and back-references of its own), or at the end.
   */
  private static <T> void upsert(
      List<T> parts,
      T wanted,
      java.util.function.Function<T, String> name,
      java.util.function.BiPredicate<T, T> same) {
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

  private static boolean sameFrontend(
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

  private static boolean samePool(BackendAddressPoolInner have, BackendAddressPoolInner want) {
    return addresses(have).equals(addresses(want));
  }

  private static Set<String> addresses(BackendAddressPoolInner pool) {
    Set<String> out = new TreeSet<>();
    list(pool.loadBalancerBackendAddresses()).forEach(a -> out.add(a.name() + "=" + a.ipAddress()));
    return out;
  }

  private static boolean sameProbe(ProbeInner have, ProbeInner want) {
    return Objects.equals(have.protocol(), want.protocol())
        && Objects.equals(have.port(), want.port())
        && Objects.equals(have.intervalInSeconds(), want.intervalInSeconds())
        && Objects.equals(have.numberOfProbes(), want.numberOfProbes())
        && Objects.equals(have.requestPath(), want.requestPath());
  }

  private static boolean sameRule(LoadBalancingRuleInner have, LoadBalancingRuleInner want) {
    return sameId(have.frontendIpConfiguration(), want.frontendIpConfiguration())
        && sameId(have.backendAddressPool(), want.backendAddressPool())
        && sameId(have.probe(), want.probe())
        && Objects.equals(have.protocol(), want.protocol())
        && Objects.equals(have.frontendPort(), want.frontendPort())
        && Objects.equals(have.backendPort(), want.backendPort())
        && Objects.equals(have.enableFloatingIp(), want.enableFloatingIp())
        && Objects.equals(have.idleTimeoutInMinutes(), want.idleTimeoutInMinutes())
        && Objects.equals(have.disableOutboundSnat(), want.disableOutboundSnat())
        && Objects.equals(have.loadDistribution(), want.loadDistribution());
  }

  private BackendAddressPoolInner pool(String lbId, String name, List<Backend> backends) {
    List<LoadBalancerBackendAddress> addresses = new ArrayList<>();
    for (Backend b : new TreeMap<>(byName(backends)).values()) {
      if (b.address() == null || b.address().isBlank()) {
        continue; // warned about by usable()
      }
      addresses.add(
          new LoadBalancerBackendAddress()
              .withName(b.nodeName())
              .withIpAddress(b.address())
              .withVirtualNetwork(new SubResource().withId(s.vnetId())));
    }
    BackendAddressPoolInner pool =
        new BackendAddressPoolInner().withName(name).withLoadBalancerBackendAddresses(addresses);
    pool.withId(lbId + "/backendAddressPools/" + name);
    return pool;
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

  private static Map<String, Backend> byName(List<Backend> backends) {
    Map<String, Backend> out = new LinkedHashMap<>();
    backends.forEach(b -> out.put(b.nodeName(), b));
    return out;
  }

  /** The load balancer without anything of {@code ref}'s (null when nothing is left of it). */
  private static LoadBalancerInner without(LoadBalancerInner lb, LoadBalancerRef ref) {
    return tidy(strip(lb, ref));
  }

  private static LoadBalancerInner strip(LoadBalancerInner lb, LoadBalancerRef ref) {
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
    return lb;
  }

  /**
   * Removes Ferry's shared parts no rule uses any more; answers null (delete it) for a load
   * balancer Ferry made that has no frontend left.
   */
  private static LoadBalancerInner tidy(LoadBalancerInner lb) {
    Set<String> used = new HashSet<>();
    list(lb.loadBalancingRules())
        .forEach(r -> used.add(r.probe() == null ? "" : last(r.probe().id())));
    lb.withProbes(
        new ArrayList<>(
            list(lb.probes()).stream()
                .filter(p -> !p.name().startsWith("ferry-") || used.contains(p.name()))
                .toList()));
    boolean ours = lb.tags() != null && lb.tags().containsKey("ferry.dev-cluster");
    if (ours && list(lb.frontendIpConfigurations()).isEmpty()) {
      return null;
    }
    return lb;
  }

  private static String last(String id) {
    return id == null ? "" : id.substring(id.lastIndexOf('/') + 1);
  }

  private static <T> List<T> list(List<T> maybe) {
    return maybe == null ? List.of() : maybe;
  }

  // --- security rules ---

  private void ensureSecurityRules(LoadBalancerPlan plan, String frontendIp)
      throws ProviderException {
    if (s.securityGroup().isEmpty()) {
      return;
    }
    LoadBalancerRef ref = plan.ref();
    Map<String, Set<Integer>> ports = new TreeMap<>();
    for (Listener l : plan.listeners()) {
      ports.computeIfAbsent(l.protocol().name(), p -> new TreeSet<>()).add(l.port());
    }
    securityRules.lock();
    try {
      NetworkSecurityGroupInner nsg =
          arm.get(
                  "networkSecurityGroups.get",
                  s.securityGroupId(),
                  NetworkSecurityGroupInner::fromJson)
              .orElseThrow(
                  () ->
                      new ProviderException.Transient(
                          "network security group "
                              + s.securityGroup()
                              + " does not exist in resource group "
                              + s.resourceGroup(),
                          null));
      Map<String, SecurityRuleInner> have = new TreeMap<>();
      Set<Integer> taken = new TreeSet<>();
      for (SecurityRuleInner r : list(nsg.securityRules())) {
        taken.add(r.priority());
        if (AzureNames.owns(ref, r.name())) {
          have.put(r.name(), r);
        }
      }
      for (Map.Entry<String, Set<Integer>> e : ports.entrySet()) {
        String name = AzureNames.securityRule(ref, e.getKey());
        SecurityRuleInner old = have.remove(name);
        SecurityRuleInner want =
            new SecurityRuleInner()
                .withProtocol(
                    e.getKey().equals("UDP") ? SecurityRuleProtocol.UDP : SecurityRuleProtocol.TCP)
                .withAccess(SecurityRuleAccess.ALLOW)
                .withDirection(SecurityRuleDirection.INBOUND)
                .withSourcePortRange("*")
                .withSourceAddressPrefixes(List.copyOf(plan.sourceRanges()))
                .withDestinationAddressPrefix(frontendIp)
                .withDestinationPortRanges(e.getValue().stream().map(String::valueOf).toList())
                .withDescription(ref.serviceKey());
        int priority = old != null ? old.priority() : free(taken, name);
        want.withPriority(priority);
        taken.add(priority);
        if (old == null || !sameRule(old, want)) {
          arm.put(
              "securityRules.put",
              s.securityRuleId(name),
              want,
              Map.of(),
              SecurityRuleInner::fromJson);
        }
      }
      for (String gone : have.keySet()) {
        arm.delete("securityRules.delete", s.securityRuleId(gone));
      }
    } finally {
      securityRules.unlock();
    }
  }

  /** The first free priority from a start derived from the rule's name (few collisions). */
  private static int free(Set<Integer> taken, String name) {
    int span = LAST_PRIORITY - FIRST_PRIORITY + 1;
    int start = Math.floorMod(name.hashCode(), span);
    for (int i = 0; i < span; i++) {
      int p = FIRST_PRIORITY + (start + i) % span;
      if (!taken.contains(p)) {
        return p;
      }
    }
    throw new IllegalStateException("no free priority");
  }

  private static boolean sameRule(SecurityRuleInner a, SecurityRuleInner b) {
    return Objects.equals(a.protocol(), b.protocol())
        && new TreeSet<>(list(a.sourceAddressPrefixes()))
            .equals(new TreeSet<>(list(b.sourceAddressPrefixes())))
        && Objects.equals(a.destinationAddressPrefix(), b.destinationAddressPrefix())
        && new TreeSet<>(list(a.destinationPortRanges()))
            .equals(new TreeSet<>(list(b.destinationPortRanges())));
  }

  private void deleteSecurityRules(LoadBalancerRef ref) throws ProviderException {
    if (s.securityGroup().isEmpty()) {
      return;
    }
    securityRules.lock();
    try {
      Optional<NetworkSecurityGroupInner> nsg =
          arm.get(
              "networkSecurityGroups.get",
              s.securityGroupId(),
              NetworkSecurityGroupInner::fromJson);
      for (SecurityRuleInner r :
          nsg.map(NetworkSecurityGroupInner::securityRules)
              .map(AzureProvider::list)
              .orElse(List.of())) {
        if (AzureNames.owns(ref, r.name())) {
          arm.delete("securityRules.delete", s.securityRuleId(r.name()));
        }
      }
    } finally {
      securityRules.unlock();
    }
  }

  // --- backends, delete, list ---

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    warnUnusable(ref, backends);
    boolean found = false;
    for (boolean internal : List.of(false, true)) {
      String name = AzureNames.loadBalancer(ref.cluster(), internal);
      String lbId = s.loadBalancerId(name);
      boolean[] mine = {false};
      writer.change(
          name,
          lb -> {
            if (lb == null || frontend(lb, ref).isEmpty()) {
              return lb;
            }
            mine[0] = true;
            List<BackendAddressPoolInner> pools = new ArrayList<>(list(lb.backendAddressPools()));
            upsert(
                pools,
                pool(lbId, AzureNames.pool(ref.cluster()), backends),
                BackendAddressPoolInner::name,
                AzureProvider::samePool);
            return lb.withBackendAddressPools(pools);
          });
      found |= mine[0];
    }
    if (!found) {
      throw new ProviderException.Transient("no load balancer exists yet for " + ref, null);
    }
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    for (boolean internal : List.of(false, true)) {
      writer.change(
          AzureNames.loadBalancer(ref.cluster(), internal),
          lb -> lb == null ? null : without(lb, ref));
    }
    deleteSecurityRules(ref);
    deleteOwnPublicIp(ref);
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    // Ferry's public IPs carry the Service; an internal Service is found by its frontend's name
    Set<LoadBalancerRef> out = new HashSet<>();
    for (PublicIpAddressInner pip :
        arm.list(
            "publicIPAddresses.list", s.publicIpsCollection(), PublicIpAddressInner::fromJson)) {
      Map<String, String> t = pip.tags() == null ? Map.of() : pip.tags();
      String service = t.getOrDefault(TAG_SERVICE, "");
      if (clusterName.equals(t.get(TAG_CLUSTER))
          && t.containsKey(TAG_UID)
          && service.contains("/")) {
        String[] ns = service.split("/", 2);
        out.add(new LoadBalancerRef(clusterName, ns[0], ns[1], t.get(TAG_UID)));
      }
    }
    return List.copyOf(out);
  }

  private static Map<String, String> tags(LoadBalancerRef ref) {
    return Map.of(TAG_SERVICE, ref.serviceKey(), TAG_CLUSTER, ref.cluster(), TAG_UID, ref.uid());
  }

  private static boolean ownedBy(Map<String, String> tags, LoadBalancerRef ref) {
    return tags != null
        && ref.uid().equals(tags.get(TAG_UID))
        && ref.cluster().equals(tags.get(TAG_CLUSTER));
  }

  private static void requireTagged(Map<String, String> tags, LoadBalancerRef ref, String name)
      throws ProviderException {
    if (!ownedBy(tags, ref)) {
      throw new ProviderException.Transient(
          "public IP "
              + name
              + " exists but is not tagged as this Service's; Ferry leaves it alone",
          null);
    }
  }
}
