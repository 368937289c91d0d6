package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.InsertForwardingRuleRequest;
import com.google.cloud.compute.v1.InsertRegionBackendServiceRequest;
import com.google.cloud.compute.v1.RegionSetLabelsRequest;
import com.google.cloud.compute.v1.SetLabelsForwardingRuleRequest;
import com.google.cloud.compute.v1.UpdateRegionBackendServiceRequest;
import dev.ferry.provider.gcp.GcpShape.RuleSpec;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Per protocol, a backend service over the cluster's instance groups and a forwarding rule on the
 * Service's address to it. A rule's address, protocol and ports cannot change in place: a rule that
 * must is made again on the same address (the Service keeps its IP).
 */
final class GcpForwarding {

  private final GcpContext c;
  private final GcpApi api;
  private final GcpResources resources;
  private final GcpGroups groups;

  GcpForwarding(GcpResources resources, GcpApi api, GcpGroups groups) {
    this.c = resources.context();
    this.api = api;
    this.resources = resources;
    this.groups = groups;
  }

  /**
   * Ensures the protocol's backend service with {@code groups} (full links) and {@code check};
   * answers its link.
   */
  String ensureBackendService(
      LoadBalancerPlan plan, GcpShape shape, RuleSpec spec, List<String> groups, String check)
      throws ProviderException {
    String name = GcpNames.forProtocol(plan.ref(), spec.protocol()); // for both families' rules
    BackendService.Builder want =
        BackendService.newBuilder()
            .setName(name)
            .setDescription(shape.description())
            .setProtocol(spec.protocol())
            .setLoadBalancingScheme(shape.internal() ? "INTERNAL" : "EXTERNAL")
            .addHealthChecks(check)
            .setSessionAffinity(plan.affinity().clientIp() ? "CLIENT_IP" : "NONE");
    if (shape.internal()) {
      want.setNetwork(GcpContext.full(c.network()));
    }
    groups.forEach(g -> want.addBackends(backend(g)));
    Optional<BackendService> have = resources.backendServices.read().get(name);
    if (have.isEmpty()) {
      write(
          plan.ref(),
          "regionBackendServices.insert",
          () -> resources.backendServices.read().get(name).isPresent(),
          id ->
              c.backendServices()
                  .insertCallable()
                  .call(
                      InsertRegionBackendServiceRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setBackendServiceResource(want)
                          .setRequestId(id)
                          .build()));
    } else {
      BackendService s = have.get();
      GcpOwner.requireOwned(s.getDescription(), plan.ref(), name);
      boolean same =
          groupsOf(s).equals(relative(groups))
              && relative(s.getHealthChecksList()).equals(relative(List.of(check)))
              && s.getSessionAffinity().equals(want.getSessionAffinity());
      if (!same) {
        update(plan.ref(), want.setFingerprint(s.getFingerprint()).build());
      }
    }
    return GcpContext.full(c.regionalLink("backendServices", name));
  }

  /** Points an existing backend service at {@code groups}, unless it already is. */
  void updateBackends(LoadBalancerRef ref, BackendService s, List<String> groups)
      throws ProviderException {
    if (groupsOf(s).equals(relative(groups))) {
      return;
    }
    BackendService.Builder b =
        BackendService.newBuilder()
            .setName(s.getName())
            .setDescription(s.getDescription())
            .setProtocol(s.getProtocol())
            .setLoadBalancingScheme(s.getLoadBalancingScheme())
            .addAllHealthChecks(s.getHealthChecksList())
            .setSessionAffinity(s.getSessionAffinity())
            .setFingerprint(s.getFingerprint());
    if (s.hasNetwork()) {
      b.setNetwork(s.getNetwork());
    }
    groups.forEach(g -> b.addBackends(backend(g)));
    update(ref, b.build());
  }

  private void update(LoadBalancerRef ref, BackendService service) throws ProviderException {
    write(
        ref,
        "regionBackendServices.update",
        null,
        id ->
            c.backendServices()
                .updateCallable()
                .call(
                    UpdateRegionBackendServiceRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setBackendService(service.getName())
                        .setBackendServiceResource(service)
                        .setRequestId(id)
                        .build()));
  }

  /** A write of a backend service; {@code exists} given for an insert. */
  private void write(
      LoadBalancerRef ref,
      String operation,
      GcpApi.Exists exists,
      java.util.function.Function<String, com.google.cloud.compute.v1.Operation> call)
      throws ProviderException {
    try {
      if (exists != null) {
        api.insert(operation, call, exists);
      } else {
        api.mutate(operation, call);
      }
    } catch (ProviderException e) {
      if (GcpErrors.refusedAs(e, "instanceInMultipleLoadBalancedIgs")) {
        throw groups.inAnotherLoadBalancer(ref, e);
      }
      throw e;
    }
  }

  private static com.google.cloud.compute.v1.Backend backend(String group) {
    // a backend's group is a full URL: Compute refuses partial ones (discovery Backend.group);
    // passthrough load balancers balance by CONNECTION only
    return com.google.cloud.compute.v1.Backend.newBuilder()
        .setGroup(GcpContext.full(group))
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

  /**
   * Ensures the forwarding rule of a protocol and family on {@code ip} in {@code tier} (external),
   * or in {@code subnetwork} (internal), to {@code service}. An IPv6 rule names its {@code /96}
   * range, {@code ipVersion} IPV6 and the subnet the range is from (the discovery document's
   * ForwardingRule.subnetwork: "a subnetwork must be specified ... when creating external
   * forwarding rule with IPv6").
   */
  void ensureRule(
      LoadBalancerRef ref,
      GcpShape shape,
      RuleSpec spec,
      GcpAddresses.Chosen address,
      String service,
      String subnetwork,
      ForwardingRule have)
      throws ProviderException {
    ForwardingRule.Builder want =
        ForwardingRule.newBuilder()
            .setName(spec.name())
            .setDescription(shape.description())
            .setIPAddress(address.ip())
            .setIPProtocol(spec.protocol())
            .setLoadBalancingScheme(shape.internal() ? "INTERNAL" : "EXTERNAL")
            .setBackendService(service);
    if (spec.ports().isEmpty()) {
      want.setAllPorts(true);
    } else {
      spec.ports().forEach(p -> want.addPorts(String.valueOf(p)));
    }
    if (shape.internal()) {
      want.setNetwork(GcpContext.full(c.network())).setSubnetwork(subnetwork);
    } else {
      want.setNetworkTier(address.tier());
    }
    if (spec.family() == IpFamily.IPv6) {
      want.setIpVersion("IPV6").setSubnetwork(subnetwork);
    }
    java.util.Map<String, String> labels = GcpOwner.labels(ref, shape.families());
    if (have != null) {
      GcpOwner.requireOwned(have.getDescription(), ref, spec.name());
      boolean same =
          ip(have).equals(ip(address.ip()))
              && have.getIPProtocol().equals(spec.protocol())
              && have.getAllPorts() == want.getAllPorts()
              && new TreeSet<>(have.getPortsList()).equals(new TreeSet<>(want.getPortsList()))
              && GcpContext.relative(have.getBackendService()).equals(GcpContext.relative(service));
      if (same) {
        labels(ref, have, labels);
        return;
      }
      deleteRule(ref, spec.name());
    }
    api.insert(
        "forwardingRules.insert",
        id ->
            c.rules()
                .insertCallable()
                .call(
                    InsertForwardingRuleRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setForwardingRuleResource(want)
                        .setRequestId(id)
                        .build()),
        () -> resources.rules.read().get(spec.name()).isPresent());
    Optional<ForwardingRule> made = resources.rules.read().get(spec.name());
    if (made.isPresent()) {
      labels(ref, made.get(), labels);
    }
  }

  /** A rule's address without its prefix (Compute may answer an IPv6 rule's as a range). */
  static String ip(ForwardingRule r) {
    return ip(r.getIPAddress());
  }

  private static String ip(String address) {
    int slash = address.indexOf('/');
    return slash < 0 ? address : address.substring(0, slash);
  }

  /**
   * Labels go on through setLabels only (discovery ForwardingRule.labels), with the fingerprint.
   */
  private void labels(LoadBalancerRef ref, ForwardingRule r, java.util.Map<String, String> want)
      throws ProviderException {
    if (r.getLabelsMap().equals(want)) {
      return;
    }
    api.mutate(
        "forwardingRules.setLabels",
        id ->
            c.rules()
                .setLabelsCallable()
                .call(
                    SetLabelsForwardingRuleRequest.newBuilder()
                        .setProject(c.project())
                        .setRegion(c.region())
                        .setResource(r.getName())
                        .setRegionSetLabelsRequestResource(
                            RegionSetLabelsRequest.newBuilder()
                                .setLabelFingerprint(r.getLabelFingerprint())
                                .putAllLabels(want))
                        .setRequestId(id)
                        .build()));
  }

  /** The rule named {@code name}, if any. */
  Optional<ForwardingRule> rule(String name) throws ProviderException {
    return resources.rules.read().get(name);
  }

  /** Deletes the Service's rule named {@code name}, if it exists. */
  /** Deletes the Service's rule {@code name}; answers it, as it was, when it was there. */
  Optional<ForwardingRule> deleteRule(LoadBalancerRef ref, String name) throws ProviderException {
    return resources.deleteOwned(resources.rules, name, ref);
  }

  void deleteBackendService(LoadBalancerRef ref, String protocol) throws ProviderException {
    resources.deleteOwned(resources.backendServices, GcpNames.forProtocol(ref, protocol), ref);
  }
}
