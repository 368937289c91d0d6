package dev.ferry.provider.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.AddressList;
import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.BackendServiceList;
import com.google.cloud.compute.v1.DeleteAddressRequest;
import com.google.cloud.compute.v1.DeleteFirewallRequest;
import com.google.cloud.compute.v1.DeleteForwardingRuleRequest;
import com.google.cloud.compute.v1.DeleteRegionBackendServiceRequest;
import com.google.cloud.compute.v1.DeleteRegionHealthCheckRequest;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.ForwardingRuleList;
import com.google.cloud.compute.v1.HTTPHealthCheck;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.HealthCheckList;
import com.google.cloud.compute.v1.InsertAddressRequest;
import com.google.cloud.compute.v1.InsertFirewallRequest;
import com.google.cloud.compute.v1.InsertForwardingRuleRequest;
import com.google.cloud.compute.v1.InsertRegionBackendServiceRequest;
import com.google.cloud.compute.v1.InsertRegionHealthCheckRequest;
import com.google.cloud.compute.v1.ListAddressesRequest;
import com.google.cloud.compute.v1.ListForwardingRulesRequest;
import com.google.cloud.compute.v1.ListRegionBackendServicesRequest;
import com.google.cloud.compute.v1.ListRegionHealthChecksRequest;
import com.google.cloud.compute.v1.TCPHealthCheck;
import com.google.cloud.compute.v1.UpdateFirewallRequest;
import com.google.cloud.compute.v1.UpdateRegionBackendServiceRequest;
import com.google.cloud.compute.v1.UpdateRegionHealthCheckRequest;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ferry.provider.gcp.GcpShape.FirewallSpec;
import dev.ferry.provider.gcp.GcpShape.ProbeSpec;
import dev.ferry.provider.gcp.GcpShape.RuleSpec;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
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
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A regional external (or internal) passthrough Network Load Balancer per Service, built as {@link
 * GcpShape} says. Every step reads first and changes only differences; every resource has a name
 * derived from the cluster and the Service UID and a description naming its Service, so a restarted
 * controller finds everything again and nothing unowned is touched.
 *
 * <p>Order of creation: the cluster's instance groups, the health check, the address, per protocol
 * the backend service and then the forwarding rule, then the firewalls. Deletion goes the other
 * way; the cluster's shared groups and node check go with the last Service that used them.
 */
final class GcpProvider implements LoadBalancerProvider {

  static final String LB_TYPE = "networking.gke.io/load-balancer-type";
  static final String LB_TYPE_LEGACY = "cloud.google.com/load-balancer-type";
  static final String SUBNET = "networking.gke.io/internal-load-balancer-subnet";
  static final String TARGET_NODE_LABELS =
      "service.beta.kubernetes.io/aws-load-balancer-target-node-labels";

  private static final List<String> PROTOCOLS = List.of("TCP", "UDP");

  private final GcpContext c;
  private final GcpApi api;
  private final GcpNodes nodes;
  private final ProviderEvents events;

  GcpProvider(GcpContext c, GcpApi api, ProviderEvents events) {
    this.c = c;
    this.api = api;
    this.events = events;
    this.nodes = new GcpNodes(c, api, events);
  }

  GcpApi api() {
    return api;
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
        .healthCheckInterval(Duration.ofSeconds(1), Duration.ofSeconds(300))
        .healthCheckDefaults(GcpShape.NODE_CHECK)
        .build();
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    for (String protocol : PROTOCOLS) {
      Optional<ForwardingRule> rule = rule(ref, protocol);
      if (rule.isPresent() && owned(rule.get().getDescription(), ref)) {
        return Optional.of(status(rule.get().getIPAddress()));
      }
    }
    return Optional.empty();
  }

  private static LoadBalancerStatus status(String ip) {
    return LoadBalancerStatus.ofIp(ip, LoadBalancerStatus.IpMode.VIP);
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
    boolean internal = internal(plan);
    String subnetwork = subnetwork(plan, internal);
    GcpShape shape = GcpShape.of(plan, internal);
    Map<String, ForwardingRule> rules = new LinkedHashMap<>();
    for (String protocol : PROTOCOLS) {
      rule(ref, protocol).ifPresent(r -> rules.put(protocol, r));
    }
    String scheme = internal ? "INTERNAL" : "EXTERNAL";
    for (ForwardingRule r : rules.values()) {
      if (!r.getLoadBalancingScheme().equals(scheme)) {
        throw new ProviderException.InvalidPlan(
            LB_TYPE,
            "the load balancer is "
                + r.getLoadBalancingScheme()
                + " and Compute cannot change a forwarding rule's scheme in place; delete and"
                + " re-create the Service to make it "
                + scheme);
      }
    }
    warnSkipped(ref, shape.skippedNodes());
    List<String> tags = targetTags(shape);

    List<String> groups = nodes.sync(ref, shape.instancesByZone(), false);
    String check = ensureHealthCheck(ref, shape);
    String ip = ensureAddress(plan, shape, subnetwork, rules);
    for (RuleSpec spec : shape.rules()) {
      String service = ensureBackendService(plan, shape, spec, groups, check);
      ensureRule(ref, shape, spec, ip, service, subnetwork, rules.get(spec.protocol()));
    }
    for (String protocol : PROTOCOLS) {
      if (shape.rules().stream().noneMatch(r -> r.protocol().equals(protocol))) {
        deleteRule(ref, protocol);
        deleteOwned(
            "regionBackendServices",
            GcpNames.forProtocol(ref, protocol),
            ref,
            this::backendService,
            this::deleteBackendService);
      }
    }
    for (FirewallSpec f : shape.firewalls()) {
      ensureFirewall(ref, shape, f, tags);
    }
    if (shape.probe().shared()) {
      // a Service that went back to the cluster's check leaves its own behind: remove it
      deleteOwned(
          "regionHealthChecks",
          GcpNames.serviceHealthCheck(ref),
          ref,
          this::healthCheck,
          this::deleteHealthCheck);
    }
    return status(ip);
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    List<BackendService> services = new ArrayList<>();
    for (String protocol : PROTOCOLS) {
      backendService(GcpNames.forProtocol(ref, protocol))
          .filter(s -> owned(s.getDescription(), ref))
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
        if (!groupsOf(s).equals(relative(groups))) {
          updateBackendService(s.toBuilder().clearBackends(), groups);
        }
      }
    } catch (ProviderException | RuntimeException e) {
      nodes.forget();
      throw e;
    }
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    for (String protocol : PROTOCOLS) {
      deleteRule(ref, protocol);
    }
    for (String protocol : PROTOCOLS) {
      deleteOwned(
          "regionBackendServices",
          GcpNames.forProtocol(ref, protocol),
          ref,
          this::backendService,
          this::deleteBackendService);
    }
    deleteOwned(
        "regionHealthChecks",
        GcpNames.serviceHealthCheck(ref),
        ref,
        this::healthCheck,
        this::deleteHealthCheck);
    for (String name : List.of(GcpNames.clientFirewall(ref), GcpNames.healthFirewall(ref))) {
      deleteOwned("firewalls", name, ref, this::firewall, this::deleteFirewall);
    }
    deleteOwned("addresses", GcpNames.service(ref), ref, this::address, this::deleteAddress);
    // the cluster's shared parts go with the last Service using them (Compute refuses otherwise)
    String nodeCheck = GcpNames.nodeHealthCheck(ref.cluster());
    if (healthCheck(nodeCheck).isPresent()) {
      deleteHealthCheck(nodeCheck);
    }
    nodes.deleteUnused(ref.cluster());
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    Set<LoadBalancerRef> found = new HashSet<>();
    // what any crash point leaves: an address, a check, a backend service or a rule
    for (String description : descriptions()) {
      ownerOf(description, clusterName).ifPresent(found::add);
    }
    return List.copyOf(found);
  }

  @Override
  public void close() {
    c.close();
  }

  // --- plan options ---

  private static boolean internal(LoadBalancerPlan plan) throws ProviderException.InvalidPlan {
    if (plan.annotations().containsKey(TARGET_NODE_LABELS)) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + TARGET_NODE_LABELS + "]",
          "gcp's instance groups are shared by every Service of the cluster, so a Service cannot"
              + " pick its nodes; remove the annotation");
    }
    boolean internal = plan.scheme() == Scheme.INTERNAL;
    for (String key : List.of(LB_TYPE, LB_TYPE_LEGACY)) {
      String value = plan.annotations().get(key);
      if (value == null) {
        continue;
      }
      switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "internal" -> internal = true;
        case "external" -> {}
        default ->
            throw new ProviderException.InvalidPlan(
                "metadata.annotations[" + key + "]",
                "'" + value + "' is neither Internal nor External");
      }
    }
    return internal;
  }

  private String subnetwork(LoadBalancerPlan plan, boolean internal)
      throws ProviderException.InvalidPlan {
    String named = plan.annotations().get(SUBNET);
    if (named == null || named.isBlank()) {
      return internal ? c.subnetwork() : "";
    }
    if (!internal) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + SUBNET + "]",
          "a subnet is for internal load balancers only; set "
              + LB_TYPE
              + ": Internal or remove the subnet");
    }
    if (!named.trim().matches("[a-z]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + SUBNET + "]",
          "'" + named + "' is not a subnet name of region " + c.region());
    }
    return c.regionalLink("subnetworks", named.trim());
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

  private List<String> targetTags(GcpShape shape) throws ProviderException {
    if (!c.nodeTags().isEmpty()) {
      return c.nodeTags();
    }
    List<String> tags = nodes.commonTags(shape.instancesByZone());
    if (tags.isEmpty() && !shape.instancesByZone().isEmpty()) {
      throw new ProviderException.Transient(
          "the nodes share no network tag for the firewall rules to target; give the nodes a"
              + " common tag, or set the provider setting gcp.node-tags",
          null);
    }
    return tags;
  }

  // --- health check ---

  private String ensureHealthCheck(LoadBalancerRef ref, GcpShape shape) throws ProviderException {
    ProbeSpec p = shape.probe();
    String description =
        p.shared()
            ? "{\"ferry.dev/cluster\":\"" + ref.cluster() + "\",\"shared\":true}"
            : shape.description();
    HealthCheck.Builder want =
        HealthCheck.newBuilder()
            .setName(p.name())
            .setDescription(description)
            .setCheckIntervalSec(p.intervalSeconds())
            .setTimeoutSec(p.timeoutSeconds())
            .setHealthyThreshold(p.healthy())
            .setUnhealthyThreshold(p.unhealthy());
    if (p.path().isEmpty()) {
      want.setType("TCP").setTcpHealthCheck(TCPHealthCheck.newBuilder().setPort(p.port()));
    } else {
      want.setType("HTTP")
          .setHttpHealthCheck(
              HTTPHealthCheck.newBuilder().setPort(p.port()).setRequestPath(p.path()));
    }
    Optional<HealthCheck> have = healthCheck(p.name());
    if (have.isEmpty()) {
      api.mutate(
          "regionHealthChecks.insert",
          () ->
              c.healthChecks()
                  .insertCallable()
                  .call(
                      InsertRegionHealthCheckRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setHealthCheckResource(want)
                          .build()));
    } else if (!p.shared() && !sameCheck(have.get(), want.build())) {
      requireOwned(have.get().getDescription(), ref, p.name());
      api.mutate(
          "regionHealthChecks.update",
          () ->
              c.healthChecks()
                  .updateCallable()
                  .call(
                      UpdateRegionHealthCheckRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setHealthCheck(p.name())
                          .setHealthCheckResource(want)
                          .build()));
    }
    return c.regionalLink("healthChecks", p.name());
  }

  private static boolean sameCheck(HealthCheck a, HealthCheck b) {
    return a.getType().equals(b.getType())
        && a.getCheckIntervalSec() == b.getCheckIntervalSec()
        && a.getTimeoutSec() == b.getTimeoutSec()
        && a.getHealthyThreshold() == b.getHealthyThreshold()
        && a.getUnhealthyThreshold() == b.getUnhealthyThreshold()
        && a.getHttpHealthCheck().getPort() == b.getHttpHealthCheck().getPort()
        && a.getHttpHealthCheck().getRequestPath().equals(b.getHttpHealthCheck().getRequestPath())
        && a.getTcpHealthCheck().getPort() == b.getTcpHealthCheck().getPort();
  }

  // --- address ---

  /**
   * The Service's address: the user's own reserved address when {@code spec.loadBalancerIP} names
   * one (never released by Ferry), otherwise Ferry's, reserved with the requested IP if any. An
   * address that must change takes the forwarding rules on the old one with it.
   */
  private String ensureAddress(
      LoadBalancerPlan plan, GcpShape shape, String subnetwork, Map<String, ForwardingRule> rules)
      throws ProviderException {
    LoadBalancerRef ref = plan.ref();
    Optional<String> requested = plan.requestedIp();
    Optional<Address> mine = address(shape.address());
    if (mine.isPresent()) {
      requireOwned(mine.get().getDescription(), ref, shape.address());
    }
    if (requested.isPresent()
        && !(mine.isPresent() && mine.get().getAddress().equals(requested.get()))) {
      Optional<Address> users = reservedByUser(requested.get());
      if (mine.isPresent()) {
        // moving to another IP: the rules go first, then Ferry's old address
        for (String protocol : PROTOCOLS) {
          deleteRule(ref, protocol);
        }
        rules.clear();
        deleteAddress(shape.address());
      }
      if (users.isPresent()) {
        return requested.get();
      }
      return reserve(plan, shape, subnetwork, requested);
    }
    if (mine.isPresent()) {
      return mine.get().getAddress();
    }
    return reserve(plan, shape, subnetwork, Optional.empty());
  }

  private String reserve(
      LoadBalancerPlan plan, GcpShape shape, String subnetwork, Optional<String> ip)
      throws ProviderException {
    Address.Builder a =
        Address.newBuilder()
            .setName(shape.address())
            .setDescription(shape.description())
            .putAllLabels(labels(plan.ref()));
    if (shape.internal()) {
      a.setAddressType("INTERNAL");
      if (!subnetwork.isEmpty()) {
        a.setSubnetwork(subnetwork);
      }
    } else {
      a.setAddressType("EXTERNAL").setNetworkTier("PREMIUM");
    }
    ip.ifPresent(a::setAddress);
    try {
      api.mutate(
          "addresses.insert",
          () ->
              c.addresses()
                  .insertCallable()
                  .call(
                      InsertAddressRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setAddressResource(a)
                          .build()));
    } catch (ProviderException.Transient e) {
      if (ip.isPresent()
          && e.getCause() instanceof ApiException refused
          && refused.getStatusCode().getCode() == StatusCode.Code.INVALID_ARGUMENT) {
        throw new ProviderException.InvalidPlan(
            "spec.loadBalancerIP",
            ip.get()
                + " cannot be reserved in region "
                + c.region()
                + " ("
                + e.getMessage()
                + "); name an address reserved in this project and region, or remove it");
      }
      throw e;
    }
    return address(shape.address())
        .map(Address::getAddress)
        .filter(s -> !s.isEmpty())
        .orElseThrow(
            () ->
                new ProviderException.Transient(
                    "address " + shape.address() + " has no IP yet", null));
  }

  /** An address the project reserved with {@code ip} that Ferry did not make. */
  private Optional<Address> reservedByUser(String ip) throws ProviderException {
    String token = "";
    do {
      String page = token;
      AddressList list =
          api.read(
              "addresses.list",
              () ->
                  c.addresses()
                      .listCallable()
                      .call(
                          ListAddressesRequest.newBuilder()
                              .setProject(c.project())
                              .setRegion(c.region())
                              .setFilter("address = \"" + ip + "\"")
                              .setPageToken(page)
                              .build()));
      for (Address a : list.getItemsList()) {
        if (a.getAddress().equals(ip) && !a.getName().startsWith("ferry-")) {
          return Optional.of(a);
        }
      }
      token = list.getNextPageToken();
    } while (!token.isEmpty());
    return Optional.empty();
  }

  // --- backend services and rules ---

  private String ensureBackendService(
      LoadBalancerPlan plan, GcpShape shape, RuleSpec spec, List<String> groups, String check)
      throws ProviderException {
    BackendService.Builder want =
        BackendService.newBuilder()
            .setName(spec.name())
            .setDescription(shape.description())
            .setProtocol(spec.protocol())
            .setLoadBalancingScheme(shape.internal() ? "INTERNAL" : "EXTERNAL")
            .addHealthChecks(check)
            .setSessionAffinity(plan.affinity().clientIp() ? "CLIENT_IP" : "NONE");
    if (shape.internal()) {
      want.setNetwork(c.network());
    }
    Optional<BackendService> have = backendService(spec.name());
    if (have.isEmpty()) {
      groups.forEach(g -> want.addBackends(backend(g)));
      api.mutate(
          "regionBackendServices.insert",
          () ->
              c.backendServices()
                  .insertCallable()
                  .call(
                      InsertRegionBackendServiceRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setBackendServiceResource(want)
                          .build()));
    } else {
      BackendService s = have.get();
      requireOwned(s.getDescription(), plan.ref(), spec.name());
      boolean same =
          groupsOf(s).equals(relative(groups))
              && relative(s.getHealthChecksList()).equals(relative(List.of(check)))
              && s.getSessionAffinity().equals(want.getSessionAffinity());
      if (!same) {
        updateBackendService(want.setFingerprint(s.getFingerprint()), groups);
      }
    }
    return c.regionalLink("backendServices", spec.name());
  }

  private void updateBackendService(BackendService.Builder service, List<String> groups)
      throws ProviderException {
    groups.forEach(g -> service.addBackends(backend(g)));
    api.mutate(
        "regionBackendServices.update",
        () ->
            c.backendServices()
                .updateCallable()
                .call(
                    UpdateRegionBackendServiceRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setBackendService(service.getName())
                        .setBackendServiceResource(service)
                        .build()));
  }

  private static com.google.cloud.compute.v1.Backend backend(String group) {
    return com.google.cloud.compute.v1.Backend.newBuilder()
        .setGroup(group)
        .setBalancingMode("CONNECTION")
        .build();
  }

  private static Set<String> groupsOf(BackendService s) {
    Set<String> out = new TreeSet<>();
    s.getBackendsList().forEach(b -> out.add(GcpContext.relative(b.getGroup())));
    return out;
  }

  private static Set<String> relative(List<String> links) {
    Set<String> out = new TreeSet<>();
    links.forEach(l -> out.add(GcpContext.relative(l)));
    return out;
  }

  private void ensureRule(
      LoadBalancerRef ref,
      GcpShape shape,
      RuleSpec spec,
      String ip,
      String service,
      String subnetwork,
      ForwardingRule have)
      throws ProviderException {
    ForwardingRule.Builder want =
        ForwardingRule.newBuilder()
            .setName(spec.name())
            .setDescription(shape.description())
            .setIPAddress(ip)
            .setIPProtocol(spec.protocol())
            .setLoadBalancingScheme(shape.internal() ? "INTERNAL" : "EXTERNAL")
            .setBackendService(service)
            .putAllLabels(labels(ref));
    if (spec.ports().isEmpty()) {
      want.setAllPorts(true);
    } else {
      spec.ports().forEach(p -> want.addPorts(String.valueOf(p)));
    }
    if (shape.internal()) {
      want.setNetwork(c.network());
      if (!subnetwork.isEmpty()) {
        want.setSubnetwork(subnetwork);
      }
    } else {
      want.setNetworkTier("PREMIUM");
    }
    if (have != null) {
      requireOwned(have.getDescription(), ref, spec.name());
      boolean same =
          have.getIPAddress().equals(ip)
              && have.getIPProtocol().equals(spec.protocol())
              && have.getAllPorts() == want.getAllPorts()
              && new TreeSet<>(have.getPortsList()).equals(new TreeSet<>(want.getPortsList()))
              && GcpContext.relative(have.getBackendService()).equals(GcpContext.relative(service));
      if (same) {
        return;
      }
      // a forwarding rule's ports and address cannot be changed in place: the rule is made
      // again on the same address (the address, and so the Service's IP, stays)
      deleteRule(ref, spec.protocol());
    }
    api.mutate(
        "forwardingRules.insert",
        () ->
            c.rules()
                .insertCallable()
                .call(
                    InsertForwardingRuleRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setForwardingRuleResource(want)
                        .build()));
  }

  private void deleteRule(LoadBalancerRef ref, String protocol) throws ProviderException {
    deleteOwned(
        "forwardingRules",
        GcpNames.forProtocol(ref, protocol),
        ref,
        name -> rule(name),
        name ->
            api.delete(
                "forwardingRules.delete",
                () ->
                    c.rules()
                        .deleteCallable()
                        .call(
                            DeleteForwardingRuleRequest.newBuilder()
                                .setProject(c.project())
                                .setRegion(c.region())
                                .setForwardingRule(name)
                                .build())));
  }

  // --- firewalls ---

  private void ensureFirewall(
      LoadBalancerRef ref, GcpShape shape, FirewallSpec f, List<String> tags)
      throws ProviderException {
    Firewall.Builder want =
        Firewall.newBuilder()
            .setName(f.name())
            .setDescription(shape.description())
            .setNetwork(c.network())
            .setDirection("INGRESS")
            .setPriority(1000)
            .addAllSourceRanges(f.sources())
            .addAllTargetTags(tags);
    f.allowed()
        .forEach(
            (protocol, ports) ->
                want.addAllowed(
                    Allowed.newBuilder()
                        .setIPProtocol(protocol)
                        .addAllPorts(ports.stream().map(String::valueOf).toList())));
    Optional<Firewall> have = firewall(f.name());
    if (have.isEmpty()) {
      api.mutate(
          "firewalls.insert",
          () ->
              c.firewalls()
                  .insertCallable()
                  .call(
                      InsertFirewallRequest.newBuilder()
                          .setProject(c.project())
                          .setFirewallResource(want)
                          .build()));
      return;
    }
    Firewall h = have.get();
    requireOwned(h.getDescription(), ref, f.name());
    boolean same =
        new TreeSet<>(h.getSourceRangesList()).equals(new TreeSet<>(f.sources()))
            && new TreeSet<>(h.getTargetTagsList()).equals(new TreeSet<>(tags))
            && allowed(h).equals(allowed(want.build()));
    if (!same) {
      api.mutate(
          "firewalls.update",
          () ->
              c.firewalls()
                  .updateCallable()
                  .call(
                      UpdateFirewallRequest.newBuilder()
                          .setProject(c.project())
                          .setFirewall(f.name())
                          .setFirewallResource(want)
                          .build()));
    }
  }

  private static Set<String> allowed(Firewall f) {
    Set<String> out = new TreeSet<>();
    for (Allowed a : f.getAllowedList()) {
      a.getPortsList().forEach(p -> out.add(a.getIPProtocol().toLowerCase(Locale.ROOT) + ":" + p));
    }
    return out;
  }

  // --- reads and deletes by name ---

  private Optional<ForwardingRule> rule(LoadBalancerRef ref, String protocol)
      throws ProviderException {
    return rule(GcpNames.forProtocol(ref, protocol));
  }

  private Optional<ForwardingRule> rule(String name) throws ProviderException {
    return api.get("forwardingRules.get", () -> c.rules().get(c.project(), c.region(), name));
  }

  private Optional<BackendService> backendService(String name) throws ProviderException {
    return api.get(
        "regionBackendServices.get", () -> c.backendServices().get(c.project(), c.region(), name));
  }

  private Optional<HealthCheck> healthCheck(String name) throws ProviderException {
    return api.get(
        "regionHealthChecks.get", () -> c.healthChecks().get(c.project(), c.region(), name));
  }

  private Optional<Firewall> firewall(String name) throws ProviderException {
    return api.get("firewalls.get", () -> c.firewalls().get(c.project(), name));
  }

  private Optional<Address> address(String name) throws ProviderException {
    return api.get("addresses.get", () -> c.addresses().get(c.project(), c.region(), name));
  }

  private boolean deleteBackendService(String name) throws ProviderException {
    return api.delete(
        "regionBackendServices.delete",
        () ->
            c.backendServices()
                .deleteCallable()
                .call(
                    DeleteRegionBackendServiceRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setBackendService(name)
                        .build()));
  }

  private boolean deleteHealthCheck(String name) throws ProviderException {
    return api.delete(
        "regionHealthChecks.delete",
        () ->
            c.healthChecks()
                .deleteCallable()
                .call(
                    DeleteRegionHealthCheckRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setHealthCheck(name)
                        .build()));
  }

  private boolean deleteFirewall(String name) throws ProviderException {
    return api.delete(
        "firewalls.delete",
        () ->
            c.firewalls()
                .deleteCallable()
                .call(
                    DeleteFirewallRequest.newBuilder()
                        .setProject(c.project())
                        .setFirewall(name)
                        .build()));
  }

  private boolean deleteAddress(String name) throws ProviderException {
    return api.delete(
        "addresses.delete",
        () ->
            c.addresses()
                .deleteCallable()
                .call(
                    DeleteAddressRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setAddress(name)
                        .build()));
  }

  private interface Read<T> {
    Optional<T> get(String name) throws ProviderException;
  }

  private interface Delete {
    boolean delete(String name) throws ProviderException;
  }

  /** Deletes {@code name} if it exists and names {@code ref} as its owner. */
  private <T extends com.google.protobuf.Message> void deleteOwned(
      String kind, String name, LoadBalancerRef ref, Read<T> read, Delete delete)
      throws ProviderException {
    Optional<T> found = read.get(name);
    if (found.isEmpty()) {
      return;
    }
    String description =
        (String)
            found.get().getField(found.get().getDescriptorForType().findFieldByName("description"));
    if (!owned(description, ref)) {
      events.warning(
          ref,
          "NotOwned",
          kind + " " + name + " does not name this Service as its owner; Ferry leaves it alone");
      return;
    }
    if (!delete.delete(name)) {
      throw new ProviderException.Transient(
          kind + " " + name + " is still in use; deleting again later", null);
    }
  }

  // --- ownership ---

  private static Map<String, String> labels(LoadBalancerRef ref) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("ferry-cluster", label(ref.cluster()));
    out.put("ferry-service-uid", label(ref.uid()));
    return out;
  }

  private static String label(String value) {
    String v = value.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "-");
    return v.length() > 63 ? v.substring(0, 63) : v;
  }

  private static boolean owned(String description, LoadBalancerRef ref) {
    return ownerOf(description, ref.cluster()).map(r -> r.uid().equals(ref.uid())).orElse(false);
  }

  /** Refuses to change a resource at Ferry's name that another owner made. */
  private static void requireOwned(String description, LoadBalancerRef ref, String name)
      throws ProviderException {
    if (!owned(description, ref)) {
      throw new ProviderException.Transient(
          name + " exists but was not made by Ferry for this Service; Ferry leaves it alone", null);
    }
  }

  /** The Service a description names, if it names one of {@code cluster}'s. */
  static Optional<LoadBalancerRef> ownerOf(String description, String cluster) {
    if (description == null || !description.startsWith("{")) {
      return Optional.empty();
    }
    try {
      JsonObject o = JsonParser.parseString(description).getAsJsonObject();
      String service = text(o, "kubernetes.io/service-name");
      String uid = text(o, "ferry.dev/service-uid");
      if (!cluster.equals(text(o, "ferry.dev/cluster"))
          || uid.isEmpty()
          || !service.contains("/")) {
        return Optional.empty();
      }
      String[] ns = service.split("/", 2);
      return Optional.of(new LoadBalancerRef(cluster, ns[0], ns[1], uid));
    } catch (RuntimeException e) {
      return Optional.empty(); // another owner's free text
    }
  }

  private static String text(JsonObject o, String key) {
    return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : "";
  }

  /** The descriptions of the region's addresses, checks, backend services and rules. */
  private List<String> descriptions() throws ProviderException {
    List<String> out = new ArrayList<>();
    out.addAll(
        pages(
            "addresses.list",
            t ->
                c.addresses()
                    .listCallable()
                    .call(
                        ListAddressesRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (AddressList l) -> l.getItemsList().stream().map(Address::getDescription).toList(),
            AddressList::getNextPageToken));
    out.addAll(
        pages(
            "regionHealthChecks.list",
            t ->
                c.healthChecks()
                    .listCallable()
                    .call(
                        ListRegionHealthChecksRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (HealthCheckList l) ->
                l.getItemsList().stream().map(HealthCheck::getDescription).toList(),
            HealthCheckList::getNextPageToken));
    out.addAll(
        pages(
            "regionBackendServices.list",
            t ->
                c.backendServices()
                    .listCallable()
                    .call(
                        ListRegionBackendServicesRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (BackendServiceList l) ->
                l.getItemsList().stream().map(BackendService::getDescription).toList(),
            BackendServiceList::getNextPageToken));
    out.addAll(
        pages(
            "forwardingRules.list",
            t ->
                c.rules()
                    .listCallable()
                    .call(
                        ListForwardingRulesRequest.newBuilder()
                            .setProject(c.project())
                            .setRegion(c.region())
                            .setPageToken(t)
                            .build()),
            (ForwardingRuleList l) ->
                l.getItemsList().stream().map(ForwardingRule::getDescription).toList(),
            ForwardingRuleList::getNextPageToken));
    return out;
  }

  private <P> List<String> pages(
      String operation,
      Function<String, P> fetch,
      Function<P, List<String>> items,
      Function<P, String> next)
      throws ProviderException {
    List<String> out = new ArrayList<>();
    String token = "";
    do {
      String t = token;
      P page = api.read(operation, () -> fetch.apply(t));
      out.addAll(items.apply(page));
      token = next.apply(page);
    } while (!token.isEmpty());
    return out;
  }
}
