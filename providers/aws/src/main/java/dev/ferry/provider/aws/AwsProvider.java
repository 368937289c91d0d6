package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.Rule;
import dev.ferry.provider.aws.AwsShape.TargetGroupSpec;
import dev.ferry.spi.AddressKind;
import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderEvents;
import dev.ferry.spi.ProviderException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Action;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerSchemeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ProtocolEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.SubnetMapping;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Tag;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TagDescription;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetDescription;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetTypeEnum;

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
          .build();

  private final ElasticLoadBalancingV2Client elb;
  private final Ec2Client ec2;
  private final AwsApi api;
  private final ProviderEvents events;
  // the shared reads of a check (inStep) in progress on this thread, if any
  private final ThreadLocal<ReadRound> round = new ThreadLocal<>();

  AwsProvider(ElasticLoadBalancingV2Client elb, Ec2Client ec2, AwsApi api, ProviderEvents events) {
    this.elb = elb;
    this.ec2 = ec2;
    this.api = api;
    this.events = events;
  }

  AwsApi api() {
    return api;
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
    List<Subnet> subnets =
        shared(
            "subnets:" + options.internal() + ":" + options.subnets() + ":" + ref.cluster(),
            () -> subnets(options, ref.cluster()));
    String vpcId = subnets.get(0).vpcId();
    String vpcCidr =
        shared(
            "vpc:" + vpcId,
            () ->
                api.call(
                    Bucket.EC2_READ,
                    "DescribeVpcs",
                    () -> ec2.describeVpcs(r -> r.vpcIds(vpcId)).vpcs().get(0).cidrBlock()));
    AwsShape shape = AwsShape.of(plan, options, vpcCidr);
    warnSkipped(ref, shape.skippedNodes());

    LoadBalancer lb = findLoadBalancer(ref).orElse(null);
    if (lb == null) {
      lb = createLoadBalancer(shape, options, subnets);
    } else if ((lb.scheme() == LoadBalancerSchemeEnum.INTERNAL) != options.internal()) {
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
    Map<String, TargetGroup> groups = ensureTargetGroups(ref, lb, shape, options, vpcId);
    // a backend counts as healthy when every target group reports it so
    Set<String> healthy = new TreeSet<>(shape.instanceIds());
    for (TargetGroupSpec spec : shape.targetGroups()) {
      healthy.retainAll(syncTargets(groups.get(spec.name()).targetGroupArn(), shape.instanceIds()));
    }
    syncListeners(lb, shape, groups);
    deleteStaleTargetGroups(shape, groups.values());
    syncRules(ref, shape.instanceIds(), shape.rules(), shape.sharedRules());
    return LoadBalancerStatus.ofHostname(lb.dnsName())
        .withBackendHealth(healthy.size(), shape.instanceIds().size());
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
    for (TargetGroup tg : ownedTargetGroups(ref, attachedTargetGroups(lb)).values()) {
      syncTargets(tg.targetGroupArn(), instances);
    }
  }

  @Override
  public void ensureDeleted(LoadBalancerRef ref) throws ProviderException {
    Optional<LoadBalancer> lb = findLoadBalancer(ref);
    if (lb.isPresent()) {
      String arn = lb.get().loadBalancerArn();
      api.run(
          Bucket.ELB_MUTATE,
          "DeleteLoadBalancer",
          () -> elb.deleteLoadBalancer(r -> r.loadBalancerArn(arn)));
    }
    for (TargetGroup tg :
        ownedTargetGroups(ref, targetGroupsByPrefix(AwsNames.targetGroupPrefix(ref))).values()) {
      deleteTargetGroup(tg);
    }
    revokeAllRules(ref);
  }

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) throws ProviderException {
    List<LoadBalancer> all =
        api.pages(
            Bucket.ELB_READ,
            "DescribeLoadBalancers",
            m -> elb.describeLoadBalancers(r -> r.marker(m).pageSize(400)),
            page -> page.loadBalancers(),
            page -> page.nextMarker());
    List<String> arns =
        all.stream()
            .filter(lb -> lb.loadBalancerName().startsWith("ferry-"))
            .map(LoadBalancer::loadBalancerArn)
            .toList();
    List<LoadBalancerRef> owned = new ArrayList<>();
    for (Map.Entry<String, Map<String, String>> e : tags(arns).entrySet()) {
      Map<String, String> t = e.getValue();
      String service = t.getOrDefault(AwsShape.TAG_SERVICE_NAME, "");
      if (clusterName.equals(t.get(AwsShape.TAG_CLUSTER))
          && "owned".equals(t.get(AwsShape.TAG_CLUSTER_PREFIX + clusterName))
          && service.contains("/")
          && t.containsKey(AwsShape.TAG_UID)) {
        String[] ns = service.split("/", 2);
        owned.add(new LoadBalancerRef(clusterName, ns[0], ns[1], t.get(AwsShape.TAG_UID)));
      }
    }
    return owned;
  }

  private void warnSkipped(LoadBalancerRef ref, List<String> nodes) {
    if (!nodes.isEmpty() && round.get() == null) { // a periodic check repeats no warning
      events.warning(
          ref,
          "NodeNotRegistered",
          "nodes without an aws:///<zone>/<instance-id> providerID are not registered as targets: "
              + String.join(", ", nodes)
              + "; check the kubelet's --provider-id or the cloud node controller");
    }
  }

  // --- load balancer ---

  private Optional<LoadBalancer> findLoadBalancer(LoadBalancerRef ref) throws ProviderException {
    String name = AwsNames.loadBalancer(ref);
    List<LoadBalancer> found = shared("lb:" + name, () -> describeLoadBalancers(List.of(name)));
    if (found.isEmpty()) {
      return Optional.empty();
    }
    // AWS keeps names unique; should an emulator hold two, the first owned one is the one
    Map<String, Map<String, String>> tags =
        shared(
            "tags:" + name, () -> tags(found.stream().map(LoadBalancer::loadBalancerArn).toList()));
    for (LoadBalancer lb : found) {
      if (AwsShape.owns(ref, tags.getOrDefault(lb.loadBalancerArn(), Map.of()))) {
        return Optional.of(lb);
      }
    }
    throw new ProviderException.Transient(
        "a load balancer named "
            + name
            + " exists but is not tagged as this Service's; Ferry will not touch it",
        null);
  }

  private LoadBalancer createLoadBalancer(AwsShape shape, AwsOptions options, List<Subnet> subnets)
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
        api.call(
            Bucket.ELB_CREATE_LOAD_BALANCER,
            "CreateLoadBalancer",
            () ->
                elb.createLoadBalancer(
                        r ->
                            r.name(shape.loadBalancerName())
                                .type(LoadBalancerTypeEnum.NETWORK)
                                .scheme(
                                    options.internal()
                                        ? LoadBalancerSchemeEnum.INTERNAL
                                        : LoadBalancerSchemeEnum.INTERNET_FACING)
                                .subnetMappings(mappings)
                                .tags(elbTags(shape.tags())))
                    .loadBalancers()
                    .get(0));
    log.info("created load balancer {} ({})", shape.loadBalancerName(), lb.dnsName());
    return lb;
  }

  // --- target groups and targets ---

  private Map<String, TargetGroup> ensureTargetGroups(
      LoadBalancerRef ref, LoadBalancer lb, AwsShape shape, AwsOptions options, String vpcId)
      throws ProviderException {
    Map<String, TargetGroup> byName =
        new HashMap<>(ownedTargetGroups(ref, attachedTargetGroups(lb)));
    for (TargetGroupSpec spec : shape.targetGroups()) {
      TargetGroup existing = byName.get(spec.name());
      if (existing == null) {
        existing = describeTargetGroupByName(ref, spec.name()).orElse(null);
      }
      if (existing == null) {
        existing = createTargetGroup(spec, options.healthCheck(), vpcId, shape.tags());
      } else if (!healthCheckMatches(existing, options.healthCheck())) {
        String arn = existing.targetGroupArn();
        AwsOptions.NlbHealthCheck hc = options.healthCheck();
        api.run(
            Bucket.ELB_MUTATE,
            "ModifyTargetGroup",
            () ->
                elb.modifyTargetGroup(
                    r -> {
                      r.targetGroupArn(arn)
                          .healthCheckProtocol(ProtocolEnum.fromValue(hc.protocol()))
                          .healthCheckPort(hc.port())
                          .healthCheckIntervalSeconds(hc.intervalSeconds())
                          .healthCheckTimeoutSeconds(hc.timeoutSeconds())
                          .healthyThresholdCount(hc.healthyThreshold())
                          .unhealthyThresholdCount(hc.unhealthyThreshold());
                      if (!hc.path().isEmpty()) {
                        r.healthCheckPath(hc.path());
                      }
                    }));
      }
      byName.put(spec.name(), existing);
    }
    return byName;
  }

  private static boolean healthCheckMatches(TargetGroup tg, AwsOptions.NlbHealthCheck hc) {
    return hc.protocol().equals(tg.healthCheckProtocolAsString())
        && hc.port().equals(tg.healthCheckPort())
        && (hc.path().isEmpty() || hc.path().equals(tg.healthCheckPath()))
        && tg.healthCheckIntervalSeconds() != null
        && tg.healthCheckIntervalSeconds() == hc.intervalSeconds()
        && tg.healthCheckTimeoutSeconds() != null
        && tg.healthCheckTimeoutSeconds() == hc.timeoutSeconds()
        && tg.healthyThresholdCount() != null
        && tg.healthyThresholdCount() == hc.healthyThreshold()
        && tg.unhealthyThresholdCount() != null
        && tg.unhealthyThresholdCount() == hc.unhealthyThreshold();
  }

  private TargetGroup createTargetGroup(
      TargetGroupSpec spec, AwsOptions.NlbHealthCheck hc, String vpcId, Map<String, String> tags)
      throws ProviderException {
    return api.call(
        Bucket.ELB_MUTATE,
        "CreateTargetGroup",
        () ->
            elb.createTargetGroup(
                    r -> {
                      r.name(spec.name())
                          .protocol(ProtocolEnum.fromValue(spec.protocol()))
                          .port(spec.nodePort())
                          .vpcId(vpcId)
                          .targetType(TargetTypeEnum.INSTANCE)
                          .healthCheckProtocol(ProtocolEnum.fromValue(hc.protocol()))
                          .healthCheckPort(hc.port())
                          .healthCheckIntervalSeconds(hc.intervalSeconds())
                          .healthCheckTimeoutSeconds(hc.timeoutSeconds())
                          .healthyThresholdCount(hc.healthyThreshold())
                          .unhealthyThresholdCount(hc.unhealthyThreshold())
                          .tags(elbTags(tags));
                      if (!hc.path().isEmpty()) {
                        r.healthCheckPath(hc.path());
                      }
                    })
                .targetGroups()
                .get(0));
  }

  private List<TargetGroup> attachedTargetGroups(LoadBalancer lb) throws ProviderException {
    try {
      return api.call(
          Bucket.ELB_READ,
          "DescribeTargetGroups",
          () ->
              elb.describeTargetGroups(r -> r.loadBalancerArn(lb.loadBalancerArn()))
                  .targetGroups());
    } catch (ProviderException.Transient e) {
      // AWS answers an empty list; some emulators answer TargetGroupNotFound
      if (e.getCause() instanceof AwsServiceException a
          && AwsApi.isCode(a, "TargetGroupNotFound")) {
        return List.of();
      }
      throw e;
    }
  }

  private Optional<TargetGroup> describeTargetGroupByName(LoadBalancerRef ref, String name)
      throws ProviderException {
    try {
      List<TargetGroup> found =
          api.call(
              Bucket.ELB_READ,
              "DescribeTargetGroups",
              () -> elb.describeTargetGroups(r -> r.names(name)).targetGroups());
      return ownedTargetGroups(ref, found).values().stream().findFirst();
    } catch (ProviderException.Transient e) {
      if (e.getCause() instanceof AwsServiceException a
          && AwsApi.isCode(a, "TargetGroupNotFound")) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private List<TargetGroup> targetGroupsByPrefix(String prefix) throws ProviderException {
    return api
        .pages(
            Bucket.ELB_READ,
            "DescribeTargetGroups",
            m -> elb.describeTargetGroups(r -> r.marker(m).pageSize(400)),
            page -> page.targetGroups(),
            page -> page.nextMarker())
        .stream()
        .filter(tg -> tg.targetGroupName().startsWith(prefix))
        .toList();
  }

  /** The target groups among {@code groups} tagged as {@code ref}'s, by name. */
  private Map<String, TargetGroup> ownedTargetGroups(
      LoadBalancerRef ref, Collection<TargetGroup> groups) throws ProviderException {
    if (groups.isEmpty()) {
      return Map.of();
    }
    Map<String, Map<String, String>> tags =
        tags(groups.stream().map(TargetGroup::targetGroupArn).toList());
    Map<String, TargetGroup> owned = new TreeMap<>();
    for (TargetGroup tg : groups) {
      if (AwsShape.owns(ref, tags.getOrDefault(tg.targetGroupArn(), Map.of()))) {
        owned.put(tg.targetGroupName(), tg);
      }
    }
    return owned;
  }

  /** Registers exactly {@code desired}; returns the targets the NLB reported healthy. */
  private Set<String> syncTargets(String targetGroupArn, Set<String> desired)
      throws ProviderException {
    List<software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetHealthDescription>
        described =
            api.call(
                Bucket.ELB_READ,
                "DescribeTargetHealth",
                () ->
                    elb.describeTargetHealth(r -> r.targetGroupArn(targetGroupArn))
                        .targetHealthDescriptions());
    Set<String> actual =
        described.stream().map(d -> d.target().id()).collect(Collectors.toCollection(TreeSet::new));
    Set<String> healthy =
        described.stream()
            .filter(
                d -> d.targetHealth() != null && "healthy".equals(d.targetHealth().stateAsString()))
            .map(d -> d.target().id())
            .collect(Collectors.toCollection(TreeSet::new));
    SetDiff<String> diff = SetDiff.of(new TreeSet<>(desired), actual);
    if (!diff.add().isEmpty()) {
      List<TargetDescription> add =
          diff.add().stream().map(id -> TargetDescription.builder().id(id).build()).toList();
      api.run(
          Bucket.ELB_TARGETS,
          "RegisterTargets",
          () -> elb.registerTargets(r -> r.targetGroupArn(targetGroupArn).targets(add)));
    }
    if (!diff.remove().isEmpty()) {
      List<TargetDescription> remove =
          diff.remove().stream().map(id -> TargetDescription.builder().id(id).build()).toList();
      api.run(
          Bucket.ELB_TARGETS,
          "DeregisterTargets",
          () -> elb.deregisterTargets(r -> r.targetGroupArn(targetGroupArn).targets(remove)));
    }
    healthy.retainAll(desired);
    return healthy;
  }

  /**
   * Deletes the owned target groups that were attached before the listeners moved and are no longer
   * wanted (a changed NodePort or protocol makes a new one). Reuses what ensure already read.
   */
  private void deleteStaleTargetGroups(AwsShape shape, Collection<TargetGroup> known)
      throws ProviderException {
    Set<String> wanted =
        shape.targetGroups().stream().map(TargetGroupSpec::name).collect(Collectors.toSet());
    for (TargetGroup tg : known) {
      if (!wanted.contains(tg.targetGroupName())) {
        deleteTargetGroup(tg);
      }
    }
  }

  private void deleteTargetGroup(TargetGroup tg) throws ProviderException {
    try {
      api.run(
          Bucket.ELB_MUTATE,
          "DeleteTargetGroup",
          () -> elb.deleteTargetGroup(r -> r.targetGroupArn(tg.targetGroupArn())));
    } catch (ProviderException.Transient e) {
      if (!(e.getCause() instanceof AwsServiceException a
          && AwsApi.isCode(a, "TargetGroupNotFound"))) {
        throw e;
      }
    }
  }

  // --- listeners ---

  private void syncListeners(LoadBalancer lb, AwsShape shape, Map<String, TargetGroup> groups)
      throws ProviderException {
    var actual =
        api.call(
            Bucket.ELB_READ,
            "DescribeListeners",
            () -> elb.describeListeners(r -> r.loadBalancerArn(lb.loadBalancerArn())).listeners());
    Map<Integer, software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener> byPort =
        new HashMap<>();
    actual.forEach(l -> byPort.put(l.port(), l));
    for (TargetGroupSpec spec : shape.targetGroups()) {
      String tgArn = groups.get(spec.name()).targetGroupArn();
      Action forward = Action.builder().type(ActionTypeEnum.FORWARD).targetGroupArn(tgArn).build();
      var existing = byPort.remove(spec.port());
      if (existing == null) {
        createListener(lb, spec, forward);
      } else if (!spec.protocol().equals(existing.protocolAsString())
          || existing.defaultActions().size() != 1
          || !tgArn.equals(existing.defaultActions().get(0).targetGroupArn())) {
        try {
          api.run(
              Bucket.ELB_MUTATE,
              "ModifyListener",
              () ->
                  elb.modifyListener(
                      r ->
                          r.listenerArn(existing.listenerArn())
                              .protocol(ProtocolEnum.fromValue(spec.protocol()))
                              .port(spec.port())
                              .defaultActions(forward)));
        } catch (ProviderException.Transient e) {
          if (!(e.getCause() instanceof AwsServiceException a
              && "UnsupportedProtocol".equals(a.awsErrorDetails().errorCode()))) {
            throw e;
          }
          // ELBv2 changes an NLB listener's protocol in place; an emulator that cannot (moto
          // refuses UDP and TCP_UDP there) gets the listener replaced, each step idempotent
          log.info("replacing listener {} to change its protocol", existing.listenerArn());
          api.run(
              Bucket.ELB_MUTATE,
              "DeleteListener",
              () -> elb.deleteListener(r -> r.listenerArn(existing.listenerArn())));
          createListener(lb, spec, forward);
        }
      }
    }
    for (var stale : byPort.values()) {
      api.run(
          Bucket.ELB_MUTATE,
          "DeleteListener",
          () -> elb.deleteListener(r -> r.listenerArn(stale.listenerArn())));
    }
  }

  private void createListener(LoadBalancer lb, TargetGroupSpec spec, Action forward)
      throws ProviderException {
    api.run(
        Bucket.ELB_MUTATE,
        "CreateListener",
        () ->
            elb.createListener(
                r ->
                    r.loadBalancerArn(lb.loadBalancerArn())
                        .protocol(ProtocolEnum.fromValue(spec.protocol()))
                        .port(spec.port())
                        .defaultActions(forward)));
  }

  /** The load balancers with these names (up to 20); none when any is unknown to AWS. */
  private List<LoadBalancer> describeLoadBalancers(List<String> names) throws ProviderException {
    try {
      return api.call(
          Bucket.ELB_READ,
          "DescribeLoadBalancers",
          () -> elb.describeLoadBalancers(r -> r.names(names)).loadBalancers());
    } catch (ProviderException.Transient e) {
      if (e.getCause() instanceof AwsServiceException a
          && AwsApi.isCode(a, "LoadBalancerNotFound")) {
        return List.of();
      }
      throw e;
    }
  }

  // --- the periodic check ---

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
      prefetch(batch, shared);
      for (LoadBalancerPlan plan : batch) {
        round.set(shared);
        api.readOnly(true);
        try {
          inStep.put(plan.ref(), ensure(plan));
        } catch (ReadRound.WouldChange e) {
          // drifted: the controller ensures it
        } finally {
          api.readOnly(false);
          round.remove();
        }
      }
    }
    return inStep;
  }

  /** One describe for the batch's load balancers and one for their tags. */
  private void prefetch(List<LoadBalancerPlan> batch, ReadRound shared) throws ProviderException {
    List<String> names = batch.stream().map(p -> AwsNames.loadBalancer(p.ref())).toList();
    List<LoadBalancer> found = describeLoadBalancers(names);
    if (found.isEmpty()) {
      return; // one of them is missing (AWS then answers none): each is looked up alone
    }
    Map<String, Map<String, String>> tags =
        tags(found.stream().map(LoadBalancer::loadBalancerArn).toList());
    for (String name : names) {
      List<LoadBalancer> mine =
          found.stream().filter(lb -> lb.loadBalancerName().equals(name)).toList();
      shared.put("lb:" + name, mine);
      Map<String, Map<String, String>> theirTags = new HashMap<>();
      mine.forEach(
          lb ->
              theirTags.put(
                  lb.loadBalancerArn(), tags.getOrDefault(lb.loadBalancerArn(), Map.of())));
      shared.put("tags:" + name, theirTags);
    }
  }

  /** A read shared within a check's round; outside a check, simply the read. */
  private <T> T shared(String key, ReadRound.Read<T> read) throws ProviderException {
    ReadRound r = round.get();
    return r == null ? read.get() : r.read(key, read);
  }

  // --- subnets ---

  private List<Subnet> subnets(AwsOptions options, String cluster) throws ProviderException {
    List<Subnet> found;
    if (!options.subnets().isEmpty()) {
      List<String> ids = options.subnets().stream().filter(s -> s.startsWith("subnet-")).toList();
      List<String> names =
          options.subnets().stream().filter(s -> !s.startsWith("subnet-")).toList();
      found = new ArrayList<>();
      if (!ids.isEmpty()) {
        found.addAll(
            api.call(
                Bucket.EC2_READ,
                "DescribeSubnets",
                () -> ec2.describeSubnets(r -> r.subnetIds(ids)).subnets()));
      }
      if (!names.isEmpty()) {
        found.addAll(
            api.call(
                Bucket.EC2_READ,
                "DescribeSubnets",
                () ->
                    ec2.describeSubnets(
                            r -> r.filters(Filter.builder().name("tag:Name").values(names).build()))
                        .subnets()));
      }
      if (found.size() < options.subnets().size()) {
        throw new ProviderException.InvalidPlan(
            "metadata.annotations[" + AwsOptions.SUBNETS + "]",
            "found "
                + found.size()
                + " of the subnets "
                + options.subnets()
                + "; name existing subnet IDs or Name tags");
      }
    } else {
      String role =
          options.internal() ? "kubernetes.io/role/internal-elb" : "kubernetes.io/role/elb";
      List<Subnet> tagged =
          api.call(
              Bucket.EC2_READ,
              "DescribeSubnets",
              () ->
                  ec2.describeSubnets(
                          r -> r.filters(Filter.builder().name("tag-key").values(role).build()))
                      .subnets());
      // one per zone, preferring subnets tagged for this cluster, never those of another cluster
      Map<String, Subnet> perZone = new TreeMap<>();
      for (Subnet s :
          tagged.stream().sorted((a, b) -> a.subnetId().compareTo(b.subnetId())).toList()) {
        Set<String> clusters =
            s.tags().stream()
                .map(t -> t.key())
                .filter(k -> k.startsWith(AwsShape.TAG_CLUSTER_PREFIX))
                .collect(Collectors.toSet());
        if (!clusters.isEmpty() && !clusters.contains(AwsShape.TAG_CLUSTER_PREFIX + cluster)) {
          continue;
        }
        Subnet current = perZone.get(s.availabilityZone());
        if (current == null
            || (!clusters.isEmpty()
                && current.tags().stream()
                    .noneMatch(t -> t.key().startsWith(AwsShape.TAG_CLUSTER_PREFIX)))) {
          perZone.put(s.availabilityZone(), s);
        }
      }
      found = List.copyOf(perZone.values());
      if (found.isEmpty()) {
        // the account's set-up, not the Service, is at fault: retried with backoff until an
        // operator tags the subnets
        throw new ProviderException.Transient(
            "no subnet is tagged "
                + role
                + " for cluster "
                + cluster
                + "; tag the cluster's subnets, or name subnets in the Service annotation "
                + AwsOptions.SUBNETS,
            null);
      }
    }
    if (found.stream().map(Subnet::vpcId).distinct().count() > 1) {
      String problem = "the subnets lie in more than one VPC";
      if (options.subnets().isEmpty()) {
        throw new ProviderException.Transient(
            "the subnets tagged for cluster " + cluster + ": " + problem, null);
      }
      throw new ProviderException.InvalidPlan(
          "metadata.annotations[" + AwsOptions.SUBNETS + "]", problem);
    }
    return found;
  }

  // --- security groups ---

  /** The node security group: the one tagged for the cluster, else the instances' first. */
  private Optional<SecurityGroup> nodeSecurityGroup(Set<String> instanceIds, String cluster)
      throws ProviderException {
    if (instanceIds.isEmpty()) {
      return Optional.empty();
    }
    return shared(
        "nodesg:" + cluster + ":" + instanceIds,
        () -> describeNodeSecurityGroup(instanceIds, cluster));
  }

  private Optional<SecurityGroup> describeNodeSecurityGroup(Set<String> instanceIds, String cluster)
      throws ProviderException {
    List<Instance> instances =
        api.call(
            Bucket.EC2_READ,
            "DescribeInstances",
            () ->
                ec2.describeInstances(r -> r.instanceIds(instanceIds)).reservations().stream()
                    .flatMap(res -> res.instances().stream())
                    .toList());
    Set<String> groupIds = new TreeSet<>();
    instances.forEach(i -> i.securityGroups().forEach(g -> groupIds.add(g.groupId())));
    if (groupIds.isEmpty()) {
      return Optional.empty();
    }
    List<SecurityGroup> groups =
        api.call(
            Bucket.EC2_READ,
            "DescribeSecurityGroups",
            () -> ec2.describeSecurityGroups(r -> r.groupIds(groupIds)).securityGroups());
    return groups.stream()
        .filter(
            g ->
                g.tags().stream()
                    .anyMatch(t -> t.key().equals(AwsShape.TAG_CLUSTER_PREFIX + cluster)))
        .findFirst()
        .or(() -> groups.stream().min((a, b) -> a.groupId().compareTo(b.groupId())));
  }

  private void syncRules(
      LoadBalancerRef ref, Set<String> instanceIds, Set<Rule> desired, Set<Rule> shared)
      throws ProviderException {
    Optional<SecurityGroup> group = nodeSecurityGroup(instanceIds, ref.cluster());
    if (group.isEmpty()) {
      return;
    }
    Set<Rule> missingShared = new TreeSet<>(shared);
    missingShared.removeAll(anyDescription(group.get()));
    if (!missingShared.isEmpty()) {
      List<IpPermission> add =
          permissions(missingShared, AwsNames.sharedRuleDescription(ref.cluster()));
      api.run(
          Bucket.EC2_MUTATE,
          "AuthorizeSecurityGroupIngress",
          () ->
              ec2.authorizeSecurityGroupIngress(
                  r -> r.groupId(group.get().groupId()).ipPermissions(add)));
    }
    String description = AwsNames.ruleDescription(ref);
    SetDiff<Rule> diff = SetDiff.of(new TreeSet<>(desired), ours(group.get(), description));
    String groupId = group.get().groupId();
    if (!diff.add().isEmpty()) {
      List<IpPermission> add = permissions(diff.add(), description);
      api.run(
          Bucket.EC2_MUTATE,
          "AuthorizeSecurityGroupIngress",
          () -> ec2.authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(add)));
    }
    revoke(groupId, diff.remove(), description);
  }

  private void revoke(String groupId, Set<Rule> rules, String description)
      throws ProviderException {
    if (rules.isEmpty()) {
      return;
    }
    List<IpPermission> remove = permissions(rules, description);
    api.run(
        Bucket.EC2_MUTATE,
        "RevokeSecurityGroupIngress",
        () -> ec2.revokeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(remove)));
  }

  private void revokeAllRules(LoadBalancerRef ref) throws ProviderException {
    String description = AwsNames.ruleDescription(ref);
    List<SecurityGroup> groups =
        api.pages(
            Bucket.EC2_READ,
            "DescribeSecurityGroups",
            t -> ec2.describeSecurityGroups(r -> r.nextToken(t).maxResults(1000)),
            page -> page.securityGroups(),
            page -> page.nextToken());
    for (SecurityGroup g : groups) {
      revoke(g.groupId(), ours(g, description), description);
    }
  }

  /** Every rule of the group, whoever made it. */
  private static Set<Rule> anyDescription(SecurityGroup group) {
    Set<Rule> rules = new TreeSet<>();
    for (IpPermission p : group.ipPermissions()) {
      for (IpRange range : p.ipRanges()) {
        if (p.fromPort() != null) {
          rules.add(new Rule(p.ipProtocol(), p.fromPort(), range.cidrIp()));
        }
      }
    }
    return rules;
  }

  private static Set<Rule> ours(SecurityGroup group, String description) {
    Set<Rule> rules = new TreeSet<>();
    for (IpPermission p : group.ipPermissions()) {
      for (IpRange range : p.ipRanges()) {
        if (description.equals(range.description()) && p.fromPort() != null) {
          rules.add(new Rule(p.ipProtocol(), p.fromPort(), range.cidrIp()));
        }
      }
    }
    return rules;
  }

  private static List<IpPermission> permissions(Set<Rule> rules, String description) {
    Map<String, List<Rule>> byPort = new LinkedHashMap<>();
    rules.forEach(
        r -> byPort.computeIfAbsent(r.protocol() + "/" + r.port(), k -> new ArrayList<>()).add(r));
    List<IpPermission> out = new ArrayList<>();
    for (List<Rule> group : byPort.values()) {
      Rule first = group.get(0);
      out.add(
          IpPermission.builder()
              .ipProtocol(first.protocol())
              .fromPort(first.port())
              .toPort(first.port())
              .ipRanges(
                  group.stream()
                      .map(r -> IpRange.builder().cidrIp(r.cidr()).description(description).build())
                      .toList())
              .build());
    }
    return out;
  }

  // --- tags ---

  /** Tags by resource ARN, read 20 ARNs per call (the API's limit). */
  private Map<String, Map<String, String>> tags(List<String> arns) throws ProviderException {
    Map<String, Map<String, String>> out = new HashMap<>();
    for (int i = 0; i < arns.size(); i += 20) {
      List<String> batch = arns.subList(i, Math.min(arns.size(), i + 20));
      List<TagDescription> found =
          api.call(
              Bucket.ELB_READ,
              "DescribeTags",
              () -> elb.describeTags(r -> r.resourceArns(batch)).tagDescriptions());
      for (TagDescription d : found) {
        out.put(
            d.resourceArn(),
            d.tags().stream().collect(Collectors.toMap(Tag::key, Tag::value, (a, b) -> b)));
      }
    }
    return out;
  }

  private static List<Tag> elbTags(Map<String, String> tags) {
    return tags.entrySet().stream()
        .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
        .toList();
  }

  @Override
  public void close() {
    elb.close();
    ec2.close();
  }
}
