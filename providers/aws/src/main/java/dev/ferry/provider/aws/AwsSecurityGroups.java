package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.Rule;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.UserIdGroupPair;

/**
 * NLB security groups, as AWS has offered them since 2023 (set when the NLB is made): each NLB
 * carries a frontend group of its own, whose rules admit the Service's source ranges on its ports,
 * and the cluster's one backend group. The node groups admit the backend group on the NodePort
 * range and kube-proxy's health port, once per cluster: their rule count stays the same however
 * many Services there are (per-Service client rules on the node groups hit the 60-rule quota at
 * about 15 Services).
 */
final class AwsSecurityGroups {

  static final String TAG_ROLE = "ferry.dev/role";

  private final AwsContext aws;
  private final int[] nodePorts;

  AwsSecurityGroups(AwsContext aws, int[] nodePorts) {
    this.aws = aws;
    this.nodePorts = nodePorts;
  }

  /** The cluster's backend group in {@code vpcId}, made when missing. */
  String backendGroup(String cluster, String vpcId) throws ProviderException {
    String name = AwsNames.backendGroup(cluster);
    Optional<SecurityGroup> found =
        byName(name, vpcId).filter(g -> cluster.equals(tag(g, AwsShape.TAG_CLUSTER)));
    if (found.isPresent()) {
      return found.get().groupId();
    }
    try {
      return create(
          name,
          vpcId,
          "Ferry: the load balancers of cluster " + cluster,
          Map.of(
              AwsShape.TAG_CLUSTER_PREFIX + cluster,
              "owned",
              AwsShape.TAG_CLUSTER,
              cluster,
              TAG_ROLE,
              "backend"));
    } catch (ProviderException.Transient e) {
      // another Service's ensure made it a moment ago (they run at once): use that one
      if (AwsApi.failedWith(e, "InvalidGroup.Duplicate")) {
        return byName(name, vpcId).orElseThrow(() -> e).groupId();
      }
      throw e;
    }
  }

  /**
   * {@code ref}'s frontend group {@code name} (its NLB's name) in {@code vpcId} admitting exactly
   * {@code rules}.
   */
  String frontendGroup(
      LoadBalancerRef ref, String name, String vpcId, Set<Rule> rules, Map<String, String> tags)
      throws ProviderException {
    Optional<SecurityGroup> found = byName(name, vpcId).filter(g -> owns(ref, g));
    String id;
    Set<Rule> actual;
    if (found.isPresent()) {
      id = found.get().groupId();
      actual = AwsNodeRules.anyDescription(found.get());
    } else {
      Map<String, String> all = new java.util.HashMap<>(tags);
      all.put(TAG_ROLE, "frontend");
      id = create(name, vpcId, "Ferry: clients of " + ref.serviceKey(), all);
      actual = Set.of();
    }
    SetDiff<Rule> diff = SetDiff.of(new TreeSet<>(rules), new TreeSet<>(actual));
    String description = AwsNames.ruleDescription(ref);
    if (!diff.add().isEmpty()) {
      List<IpPermission> add = AwsNodeRules.permissions(diff.add(), description);
      aws.api.run(
          Bucket.EC2_MUTATE,
          "AuthorizeSecurityGroupIngress",
          () -> aws.ec2.authorizeSecurityGroupIngress(r -> r.groupId(id).ipPermissions(add)));
    }
    if (!diff.remove().isEmpty()) {
      List<IpPermission> remove = AwsNodeRules.permissions(diff.remove(), description);
      aws.api.run(
          Bucket.EC2_MUTATE,
          "RevokeSecurityGroupIngress",
          () -> aws.ec2.revokeSecurityGroupIngress(r -> r.groupId(id).ipPermissions(remove)));
    }
    return id;
  }

  /**
   * Makes each node group admit {@code backendGroupId}: TCP and UDP on the NodePort range, TCP on
   * kube-proxy's health port. Adds what is missing; never revokes (the rules are the cluster's).
   */
  void admitBackend(List<SecurityGroup> nodeGroups, String backendGroupId, String cluster)
      throws ProviderException {
    List<int[]> wanted =
        List.of(
            new int[] {6, nodePorts[0], nodePorts[1]},
            new int[] {17, nodePorts[0], nodePorts[1]},
            new int[] {6, AwsShape.KUBE_PROXY_HEALTH_PORT, AwsShape.KUBE_PROXY_HEALTH_PORT});
    for (SecurityGroup g : nodeGroups) {
      List<IpPermission> missing = new ArrayList<>();
      for (int[] w : wanted) {
        String proto = w[0] == 6 ? "tcp" : "udp";
        boolean present =
            g.ipPermissions().stream()
                .anyMatch(
                    p ->
                        proto.equals(p.ipProtocol())
                            && p.fromPort() != null
                            && p.fromPort() == w[1]
                            && p.toPort() != null
                            && p.toPort() == w[2]
                            && p.userIdGroupPairs().stream()
                                .anyMatch(u -> backendGroupId.equals(u.groupId())));
        if (!present) {
          missing.add(
              IpPermission.builder()
                  .ipProtocol(proto)
                  .fromPort(w[1])
                  .toPort(w[2])
                  .userIdGroupPairs(
                      UserIdGroupPair.builder()
                          .groupId(backendGroupId)
                          .description(AwsNames.backendRuleDescription(cluster))
                          .build())
                  .build());
        }
      }
      if (!missing.isEmpty()) {
        try {
          aws.api.run(
              Bucket.EC2_MUTATE,
              "AuthorizeSecurityGroupIngress",
              () ->
                  aws.ec2.authorizeSecurityGroupIngress(
                      r -> r.groupId(g.groupId()).ipPermissions(missing)));
        } catch (ProviderException.Transient e) {
          // another Service's ensure added them a moment ago: what was wanted is there
          if (!AwsApi.failedWith(e, "InvalidPermission.Duplicate")) {
            throw e;
          }
        }
      }
    }
  }

  /**
   * Deletes {@code ref}'s frontend group, found by name and tag (no scan of the region). While the
   * deleted NLB's network interfaces still hold it, AWS refuses: retried later.
   */
  void deleteFrontend(LoadBalancerRef ref) throws ProviderException {
    List<SecurityGroup> found =
        describe(
            Filter.builder().name("group-name").values(AwsNames.frontendGroup(ref)).build(),
            Filter.builder().name("tag:" + AwsShape.TAG_UID).values(ref.uid()).build());
    for (SecurityGroup g : found) {
      if (!owns(ref, g) || "Retain".equals(tag(g, AwsRetained.TAG_RECLAIM))) {
        continue; // a retained NLB's group stays with it
      }
      deleteGroup(g.groupId());
    }
  }

  /** Deletes group {@code id}; gone already is done. */
  private void deleteGroup(String id) throws ProviderException {
    try {
      aws.api.run(
          Bucket.EC2_MUTATE,
          "DeleteSecurityGroup",
          () -> aws.ec2.deleteSecurityGroup(r -> r.groupId(id)));
    } catch (ProviderException.Transient e) {
      if (!AwsApi.failedWith(e, "InvalidGroup.NotFound")) {
        throw e;
      }
    }
  }

  /**
   * Deletes the cluster's backend group once no load balancer carries it (called after a Service's
   * NLB and frontend group are gone): first the rules that admit it on the node groups, then the
   * group, as aws-load-balancer-controller releases its shared backend group. "No load balancer" is
   * read from DescribeLoadBalancers, whose answer lists each NLB's groups: usually one page,
   * stopping at the first NLB that still carries the group. A Service whose ensure takes the group
   * between that read and the delete makes AWS refuse the delete (the group is in use): the rules
   * are then put back at once and the group stays.
   */
  void releaseBackend(String cluster) throws ProviderException {
    List<SecurityGroup> found =
        describe(
            Filter.builder().name("group-name").values(AwsNames.backendGroup(cluster)).build(),
            Filter.builder().name("tag:" + AwsShape.TAG_CLUSTER).values(cluster).build());
    for (SecurityGroup backend : found) {
      String id = backend.groupId();
      if (!"backend".equals(tag(backend, TAG_ROLE)) || carried(id)) {
        continue;
      }
      // the groups admitting it, whoever they are (the node groups, by the rules admitBackend made)
      List<SecurityGroup> admitters =
          describe(Filter.builder().name("ip-permission.group-id").values(id).build());
      for (SecurityGroup g : admitters) {
        List<IpPermission> admitting = admitting(g, id);
        if (!admitting.isEmpty()) {
          aws.api.run(
              Bucket.EC2_MUTATE,
              "RevokeSecurityGroupIngress",
              () ->
                  aws.ec2.revokeSecurityGroupIngress(
                      r -> r.groupId(g.groupId()).ipPermissions(admitting)));
        }
      }
      try {
        deleteGroup(id);
      } catch (ProviderException.Transient e) {
        if (AwsApi.failedWith(e, "DependencyViolation", "InvalidGroup.InUse")) {
          // a new NLB took it meanwhile: its nodes admit it again at once
          List<String> ids = admitters.stream().map(SecurityGroup::groupId).toList();
          if (!ids.isEmpty()) {
            admitBackend(
                describe(Filter.builder().name("group-id").values(ids).build()), id, cluster);
          }
          continue;
        }
        throw e;
      }
    }
  }

  /** Whether any load balancer in the region carries {@code groupId}. */
  private boolean carried(String groupId) throws ProviderException {
    String marker = null;
    do {
      String from = marker;
      var page =
          aws.api.call(
              Bucket.ELB_READ,
              "DescribeLoadBalancers",
              () -> aws.elb.describeLoadBalancers(r -> r.marker(from).pageSize(400)));
      if (page.loadBalancers().stream().anyMatch(lb -> lb.securityGroups().contains(groupId))) {
        return true;
      }
      marker = page.nextMarker();
    } while (marker != null && !marker.isEmpty());
    return false;
  }

  /** {@code group}'s permissions whose source is {@code sourceGroupId}, and only those pairs. */
  private static List<IpPermission> admitting(SecurityGroup group, String sourceGroupId) {
    List<IpPermission> out = new ArrayList<>();
    for (IpPermission p : group.ipPermissions()) {
      List<UserIdGroupPair> pairs =
          p.userIdGroupPairs().stream().filter(u -> sourceGroupId.equals(u.groupId())).toList();
      if (!pairs.isEmpty()) {
        out.add(
            IpPermission.builder()
                .ipProtocol(p.ipProtocol())
                .fromPort(p.fromPort())
                .toPort(p.toPort())
                .userIdGroupPairs(pairs) // as read, description too (moto matches it)
                .build());
      }
    }
    return out;
  }

  /**
   * Deletes the frontend group {@code name} of a deleted retained NLB; while AWS still holds it for
   * the NLB's network interfaces, a transient error says to run the delete again.
   */
  void deleteRetainedFrontend(String name, String cluster) throws ProviderException {
    List<SecurityGroup> found =
        describe(
            Filter.builder().name("group-name").values(name).build(),
            Filter.builder().name("tag:" + AwsRetained.TAG_RECLAIM).values("Retain").build(),
            Filter.builder().name("tag:" + AwsShape.TAG_CLUSTER).values(cluster).build());
    for (SecurityGroup g : found) {
      try {
        deleteGroup(g.groupId());
      } catch (ProviderException.Transient e) {
        throw new ProviderException.Transient(
            "the NLB is deleted; its security group "
                + g.groupId()
                + " goes once AWS releases it: delete the retained address again in a minute ("
                + e.getMessage()
                + ")",
            e);
      }
    }
  }

  private Optional<SecurityGroup> byName(String name, String vpcId) throws ProviderException {
    return describe(
            Filter.builder().name("group-name").values(name).build(),
            Filter.builder().name("vpc-id").values(vpcId).build())
        .stream()
        .findFirst();
  }

  private List<SecurityGroup> describe(Filter... filters) throws ProviderException {
    return aws.api.call(
        Bucket.EC2_READ,
        "DescribeSecurityGroups",
        () -> aws.ec2.describeSecurityGroups(r -> r.filters(filters)).securityGroups());
  }

  private String create(String name, String vpcId, String description, Map<String, String> tags)
      throws ProviderException {
    List<Tag> ec2Tags =
        tags.entrySet().stream()
            .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
            .toList();
    return aws.api.call(
        Bucket.EC2_MUTATE,
        "CreateSecurityGroup",
        () ->
            aws.ec2
                .createSecurityGroup(
                    r ->
                        r.groupName(name)
                            .description(description)
                            .vpcId(vpcId)
                            .tagSpecifications(
                                TagSpecification.builder()
                                    .resourceType(ResourceType.SECURITY_GROUP)
                                    .tags(ec2Tags)
                                    .build()))
                .groupId());
  }

  private static boolean owns(LoadBalancerRef ref, SecurityGroup g) {
    Map<String, String> tags = new java.util.HashMap<>();
    g.tags().forEach(t -> tags.put(t.key(), t.value()));
    return AwsShape.owns(ref, tags);
  }

  private static String tag(SecurityGroup g, String key) {
    return g.tags().stream()
        .filter(t -> t.key().equals(key))
        .map(Tag::value)
        .findFirst()
        .orElse(null);
  }
}
