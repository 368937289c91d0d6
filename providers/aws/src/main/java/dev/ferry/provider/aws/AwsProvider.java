package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.TargetGroupSpec;
import dev.ferry.spi.AddressKind;
import dev.ferry.spi.AdoptionPreview;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.IpAddressType;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerSchemeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.SubnetMapping;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/**
 * Network Load Balancers through ELBv2 and EC2. Each call describes what exists (by deterministic
 * name, checked against ownership tags), diffs it against the desired {@link AwsShape}, and makes
 * only the difference, in a safe order: load balancer, target groups, targets, listeners, stale
 * target groups, security-group rules; the reverse on delete. Nothing untagged is ever changed.
 */
final class AwsProvider implements LoadBalancerProvider {

  private static final Logger log = LoggerFactory.getLogger(AwsProvider.class);

  static final Capabilities CAPABILITIES =
      Capabilities.builder()
          .protocols(Protocol.TCP, Protocol.UDP)
          .mixedProtocols(true)
          .maxListeners(50)
          .sourceRanges(true)
          .internal(true)
          .healthCheckInterval(Duration.ofSeconds(5), Duration.ofSeconds(300))
          .addressKind(AddressKind.HOSTNAME)
          .ipFamilies(IpFamily.IPv4, IpFamily.IPv6)
          .dualStack(true)
          .backendsByFamily(false) // IPv4 instance targets serve both families
          .retain(true) // the NLB itself: its DNS name is the address
          .adopt(true)
          .build();

  private final AwsContext aws;
  private final AwsDiscovery discovery;
  private final AwsTargetGroups targetGroups;
  private final AwsListeners listeners;
  private final AwsNodeRules nodeRules;
  private final AwsSecurityGroups securityGroups;
  private final AwsAttributes attributes;
  private final AwsRetained retained;
  private final AwsAdoption adoption;
  private final ProviderEvents events;

  AwsProvider(AwsContext aws, int[] nodePorts, ProviderEvents events) {
    this.aws = aws;
    this.securityGroups = new AwsSecurityGroups(aws, nodePorts);
    this.attributes = new AwsAttributes(aws);
    this.discovery = new AwsDiscovery(aws);
    this.targetGroups = new AwsTargetGroups(aws);
    this.listeners = new AwsListeners(aws);
    this.nodeRules = new AwsNodeRules(aws, discovery);
    this.retained = new AwsRetained(aws);
    this.adoption = new AwsAdoption(aws, retained);
    this.events = events;
  }

  AwsApi api() {
    return aws.api;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) throws ProviderException {
    return findLoadBalancer(ref).map(lb -> LoadBalancerStatus.ofHostname(lb.dnsName()));
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) throws ProviderException {
    CAPABILITIES.requireSupported(plan);
    AwsOptions options = AwsOptions.from(plan);
    LoadBalancerRef ref = plan.ref();
    // the nodes first: their VPC is the cluster's, and the load balancer goes nowhere else
    Set<String> instanceIds = new TreeSet<>();
    for (Backend b : plan.backends()) {
      String id = AwsShape.instanceId(b);
      if (id != null) {
        instanceIds.add(id);
      }
    }
    AwsDiscovery.Nodes nodes = discovery.nodes(instanceIds, ref.cluster());
    List<Subnet> subnets =
        aws.shared(
            "subnets:"
                + options.internal()
                + ":"
                + options.subnets()
                + ":"
                + ref.cluster()
                + ":"
                + nodes.vpcId(),
            () -> discovery.subnets(options, ref.cluster(), nodes.vpcId()));
    String vpcId = subnets.get(0).vpcId();
    List<String> vpcCidrs = aws.shared("vpc:" + vpcId, () -> discovery.vpcCidrs(vpcId));
    // a periodic check repeats no event (as warnSkipped)
    boolean dual =
        AwsFamilies.dualStack(
            plan, subnets, aws.round.get() == null ? events : ProviderEvents.NONE);
    AwsShape shape = AwsShape.of(plan, options, vpcCidrs, dual);
    warnSkipped(ref, shape.skippedNodes());
    warnGone(plan, nodes.gone());

    LoadBalancer lb = findLoadBalancer(ref).orElse(null);
    if (lb == null && plan.claimRetained().isPresent()) {
      lb = retained.claim(ref, plan.claimRetained().get()); // the NLB kept for this Service
    }
    if (lb == null && plan.adopt().isPresent()) {
      lb = adoption.adopt(ref, plan.adopt().get()); // confirmed by the Service's owner
    }
    if (lb != null && (lb.scheme() == LoadBalancerSchemeEnum.INTERNAL) != options.internal()) {
      // an NLB's scheme is fixed at creation: refuse before any change, the NLB keeps serving
      throw new ProviderException.InvalidPlan(
          "metadata.annotations",
          "the load balancer "
              + lb.loadBalancerName()
              + " is "
              + lb.schemeAsString()
              + " and AWS cannot change an NLB's scheme in place; put the scheme annotation back,"
              + " or delete the Service and create it again (it gets a new address)");
    }
    // an NLB made without security groups (before Ferry used them) cannot get any: it keeps the
    // per-Service rules on the node groups until it is made again
    boolean withGroups = lb == null || !lb.securityGroups().isEmpty();
    String backendGroup = null;
    if (withGroups) {
      backendGroup =
          aws.shared(
              "backend:" + ref.cluster() + ":" + vpcId,
              () -> securityGroups.backendGroup(ref.cluster(), vpcId));
      String frontendGroup =
          securityGroups.frontendGroup(
              ref,
              lb == null ? AwsNames.frontendGroup(ref) : lb.loadBalancerName(),
              vpcId,
              shape.frontendRules(),
              shape.tags());
      List<String> wanted = List.of(frontendGroup, backendGroup);
      if (lb == null) {
        lb = createLoadBalancer(shape, options, subnets, wanted, dual);
      } else if (!Set.copyOf(lb.securityGroups()).equals(Set.copyOf(wanted))) {
        String arn = lb.loadBalancerArn();
        aws.api.run(
            Bucket.ELB_MUTATE,
            "SetSecurityGroups",
            () -> aws.elb.setSecurityGroups(r -> r.loadBalancerArn(arn).securityGroups(wanted)));
      }
    }
    AwsFamilies.ipAddressType(aws, lb, dual);
    AwsSubnets.addSubnets(aws, lb, subnets);
    attributes.loadBalancer(lb.loadBalancerArn(), options.loadBalancerAttributes());
    Map<String, TargetGroup> groups =
        targetGroups.ensureTargetGroups(ref, lb, shape, options, vpcId);
    for (TargetGroupSpec spec : shape.targetGroups()) {
      attributes.targetGroup(
          groups.get(spec.name()).targetGroupArn(), options.targetGroupAttributes());
    }
    if (!options.extraTags().isEmpty()) {
      // the user's tags follow the annotation on every ensure, not only at creation
      List<String> arns = new ArrayList<>();
      arns.add(lb.loadBalancerArn());
      shape.targetGroups().forEach(spec -> arns.add(groups.get(spec.name()).targetGroupArn()));
      Map<String, Map<String, String>> actual = aws.tags(arns);
      for (String arn : arns) {
        attributes.tags(arn, actual.getOrDefault(arn, Map.of()), options.extraTags());
      }
    }
    // a backend counts as healthy when every target group reports it so
    Set<String> healthy = new TreeSet<>(nodes.live());
    for (TargetGroupSpec spec : shape.targetGroups()) {
      healthy.retainAll(
          targetGroups.syncTargets(groups.get(spec.name()).targetGroupArn(), nodes.live()));
    }
    listeners.syncListeners(lb, shape, groups);
    targetGroups.deleteStaleTargetGroups(shape, groups.values());
    if (withGroups) {
      securityGroups.admitBackend(nodes.groups(), backendGroup, ref.cluster());
      // per-Service rules an earlier NLB of this Service left on the node groups: not needed now
      nodeRules.syncRules(ref, nodes.groups(), Set.of(), Set.of());
    } else {
      nodeRules.syncRules(ref, nodes.groups(), shape.rules(), shape.sharedRules());
    }
    return LoadBalancerStatus.ofHostname(lb.dnsName())
        .withBackendHealth(healthy.size(), nodes.live().size());
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) throws ProviderException {
    LoadBalancer lb =
        findLoadBalancer(ref)
            .orElseThrow(
                () ->
                    new ProviderException.Transient(
                        "no load balancer for " + ref.serviceKey(), null));
    Set<String> instances = new TreeSet<>();
    List<String> skipped = new ArrayList<>();
    for (Backend b : backends) {
      String id = AwsShape.instanceId(b);
      if (id == null) {
        skipped.add(b.nodeName());
      } else {
        instances.add(id);
      }
    }
    warnSkipped(ref, skipped);
    for (TargetGroup tg :
        targetGroups.ownedTargetGroups(ref, targetGroups.attachedTargetGroups(lb)).values()) {
      targetGroups.syncTargets(tg.targetGroupArn(), instances);
    }
  }

  /**
   * Keeps the NLB (its DNS name is the address) and empties it: marked retained first, then its
   * listeners, target groups and rules go, and the Service's UID comes off last.
   */
  @Override
  public void ensureRetained(LoadBalancerRef ref) throws ProviderException {
    Optional<LoadBalancer> lb = findLoadBalancer(ref);
    if (lb.isPresent() && adoption.giveBack(lb.get())) {
      return; // adopted: given back as it is, serving on
    }
    if (lb.isPresent()) {
      retained.mark(lb.get());
    }
    ensureDeleted(ref);
  }

  @Override
  public AdoptionPreview previewAdoption(LoadBalancerPlan plan, String id)
      throws ProviderException {
    return adoption.preview(plan, id, AwsOptions.from(plan));
  }

  @Override
  public List<RetainedAddress> listRetained(String clusterName) throws ProviderException {
    return retained.list(clusterName);
  }

  @Override
  public void deleteRetained(String clusterName, String id) throws ProviderException {
    retained.delete(clusterName, id, securityGroups);
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    // everything is found by name or tag (only the backend group's release pages the region's
    // NLBs, see there); the NLB goes first (its listeners hold the target groups), the frontend
    // group after it (the NLB holds it), the cluster's backend group last (every NLB holds it)
    nodeRules.revokeAllRules(ref);
    Optional<LoadBalancer> lb = findLoadBalancer(ref);
    if (lb.isPresent() && AwsRetained.retained(tagsOf(lb.get()))) {
      // a retained NLB (this Service's, or one it claimed) stays, emptied
      listeners.deleteAll(lb.get());
      for (String arn : targetGroups.taggedArns(ref)) {
        targetGroups.deleteTargetGroup(arn);
      }
      retained.release(ref, lb.get(), nodeRules);
      return;
    }
    if (lb.isPresent()) {
      String arn = lb.get().loadBalancerArn();
      aws.api.run(
          Bucket.ELB_MUTATE,
          "DeleteLoadBalancer",
          () -> aws.elb.deleteLoadBalancer(r -> r.loadBalancerArn(arn)));
    }
    for (String arn : targetGroups.taggedArns(ref)) {
      targetGroups.deleteTargetGroup(arn);
    }
    securityGroups.deleteFrontend(ref);
    // the cluster's backend group goes with its last NLB
    securityGroups.releaseBackend(ref.cluster());
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    return aws.ownedLoadBalancers(clusterName);
  }

  /**
   * Nodes whose instance EC2 no longer runs: skipped, so that the rest of the Service converges.
   */
  private void warnGone(LoadBalancerPlan plan, Set<String> gone) {
    if (gone.isEmpty() || aws.round.get() != null) {
      return;
    }
    List<String> named = new ArrayList<>();
    for (Backend b : plan.backends()) {
      String id = AwsShape.instanceId(b);
      if (id != null && gone.contains(id)) {
        named.add(b.nodeName() + " (" + id + ")");
      }
    }
    events.warning(
        plan.ref(),
        "NodeNotRegistered",
        "nodes whose EC2 instance is stopped, terminated or gone are not registered as targets: "
            + String.join(", ", named)
            + "; remove the Node objects, or check the cloud node controller");
  }

  private void warnSkipped(LoadBalancerRef ref, List<String> nodes) {
    if (!nodes.isEmpty() && aws.round.get() == null) { // a periodic check repeats no warning
      events.warning(
          ref,
          "NodeNotRegistered",
          "nodes without an aws:///<zone>/<instance-id> providerID are not registered as targets: "
              + String.join(", ", nodes)
              + "; check the kubelet's --provider-id or the cloud node controller");
    }
  }

  private Map<String, String> tagsOf(LoadBalancer lb) throws ProviderException {
    String arn = lb.loadBalancerArn();
    return aws.tags(List.of(arn)).getOrDefault(arn, Map.of());
  }

  /**
   * {@code ref}'s NLB: by its name, else (a retained NLB the Service claimed keeps its first
   * Service's name) by the Service's UID tag; empty when the name's NLB is retained for the cluster
   * and no longer the Service's.
   */
  private Optional<LoadBalancer> findLoadBalancer(LoadBalancerRef ref) throws ProviderException {
    String name = AwsNames.loadBalancer(ref);
    List<LoadBalancer> found =
        aws.shared("lb:" + name, () -> aws.describeLoadBalancers(List.of(name)));
    if (found.isEmpty()) {
      for (String arn :
          aws.taggedArns("elasticloadbalancing:loadbalancer", AwsShape.TAG_UID, ref.uid())) {
        Optional<LoadBalancer> claimed = retained.byArn(arn);
        if (claimed.isPresent() && AwsShape.owns(ref, tagsOf(claimed.get()))) {
          return claimed;
        }
      }
      return Optional.empty();
    }
    // AWS keeps names unique; should an emulator hold two, the first owned one is the one
    Map<String, Map<String, String>> tags =
        aws.shared(
            "tags:" + name,
            () -> aws.tags(found.stream().map(LoadBalancer::loadBalancerArn).toList()));
    for (LoadBalancer lb : found) {
      Map<String, String> t = tags.getOrDefault(lb.loadBalancerArn(), Map.of());
      if (AwsShape.owns(ref, t)) {
        return Optional.of(lb);
      }
      if (AwsRetained.retained(t) && AwsRetained.ofCluster(t, ref.cluster())) {
        return Optional.empty(); // kept for the cluster; no longer this Service's
      }
    }
    throw new ProviderException.Transient(
        "a load balancer named "
            + name
            + " exists but is not tagged as this Service's; Ferry will not touch it",
        null);
  }

  private LoadBalancer createLoadBalancer(
      AwsShape shape, AwsOptions options, List<Subnet> subnets, List<String> groups, boolean dual)
      throws ProviderException {
    List<SubnetMapping> mappings = new ArrayList<>();
    for (int i = 0; i < subnets.size(); i++) {
      SubnetMapping.Builder m = SubnetMapping.builder().subnetId(subnets.get(i).subnetId());
      if (i < options.eipAllocations().size()) {
        m.allocationId(options.eipAllocations().get(i));
      }
      mappings.add(m.build());
    }
    LoadBalancer lb =
        aws.api.call(
            Bucket.ELB_CREATE_LOAD_BALANCER,
            "CreateLoadBalancer",
            () ->
                aws.elb
                    .createLoadBalancer(
                        r ->
                            r.name(shape.loadBalancerName())
                                .type(LoadBalancerTypeEnum.NETWORK)
                                .securityGroups(groups)
                                .scheme(
                                    options.internal()
                                        ? LoadBalancerSchemeEnum.INTERNAL
                                        : LoadBalancerSchemeEnum.INTERNET_FACING)
                                .subnetMappings(mappings)
                                .ipAddressType(dual ? IpAddressType.DUALSTACK : IpAddressType.IPV4)
                                .tags(AwsContext.elbTags(shape.tags())))
                    .loadBalancers()
                    .get(0));
    log.info("created load balancer {} ({})", shape.loadBalancerName(), lb.dnsName());
    return lb;
  }

  /**
   * Each plan's ensure, run with every mutating call refused: a load balancer whose ensure would
   * change nothing is in step. Checks go 20 at a time, sharing one DescribeLoadBalancers and one
   * DescribeTags for the 20, and the reads every Service repeats (subnets, VPC, node security
   * group).
   */
  @Override
  public Map<LoadBalancerRef, LoadBalancerStatus> inStep(List<LoadBalancerPlan> plans)
      throws ProviderException {
    Map<LoadBalancerRef, LoadBalancerStatus> inStep = new HashMap<>();
    for (int i = 0; i < plans.size(); i += 20) {
      List<LoadBalancerPlan> batch = plans.subList(i, Math.min(plans.size(), i + 20));
      ReadRound shared = new ReadRound();
      aws.prefetch(batch.stream().map(p -> AwsNames.loadBalancer(p.ref())).toList(), shared);
      for (LoadBalancerPlan plan : batch) {
        aws.round.set(shared);
        aws.api.readOnly(true);
        try {
          inStep.put(plan.ref(), ensure(plan));
        } catch (ReadRound.WouldChange e) {
          // drifted: the controller ensures it
        } finally {
          aws.api.readOnly(false);
          aws.round.remove();
        }
      }
    }
    return inStep;
  }

  @Override
  public void close() {
    aws.elb.close();
    aws.ec2.close();
    aws.tagging.close();
  }
}
