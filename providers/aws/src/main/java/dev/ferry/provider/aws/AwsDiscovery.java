package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.ec2.model.Vpc;
import software.amazon.awssdk.services.ec2.model.VpcCidrBlockAssociation;
import software.amazon.awssdk.services.ec2.model.VpcCidrBlockStateCode;

/**
 * What the account holds that the provider uses but does not make: subnets, the VPC, node groups.
 */
final class AwsDiscovery {

  private final AwsContext aws;

  AwsDiscovery(AwsContext aws) {
    this.aws = aws;
  }

  /**
   * The subnets for a load balancer: those the Service names, or one per zone among the subnets
   * tagged for the role, in the cluster's VPC ({@code vpcId}, the nodes'; any when unknown),
   * preferring those tagged for this cluster, then those with the most free addresses; never one
   * tagged for another cluster.
   */
  List<Subnet> subnets(AwsOptions options, String cluster, String vpcId) throws ProviderException {
    List<Subnet> found =
        options.subnets().isEmpty() ? tagged(options, cluster, vpcId) : named(options, vpcId);
    if (found.stream().map(Subnet::vpcId).distinct().count() > 1) {
      // only when the nodes' VPC is unknown: tagged subnets of several VPCs and no node yet
      throw new ProviderException.Transient(
          "the subnets tagged for cluster "
              + cluster
              + " lie in more than one VPC and no node tells which is the cluster's",
          null);
    }
    return found;
  }

  private List<Subnet> named(AwsOptions options, String vpcId) throws ProviderException {
    String field = "metadata.annotations[" + AwsOptions.SUBNETS + "]";
    List<String> ids = options.subnets().stream().filter(s -> s.startsWith("subnet-")).toList();
    List<String> names = options.subnets().stream().filter(s -> !s.startsWith("subnet-")).toList();
    List<Subnet> found = new ArrayList<>();
    if (!ids.isEmpty()) {
      found.addAll(
          aws.api.call(
              Bucket.EC2_READ,
              "DescribeSubnets",
              () -> aws.ec2.describeSubnets(r -> r.subnetIds(ids)).subnets()));
    }
    if (!names.isEmpty()) {
      found.addAll(
          aws.api.call(
              Bucket.EC2_READ,
              "DescribeSubnets",
              () ->
                  aws.ec2
                      .describeSubnets(
                          r -> r.filters(Filter.builder().name("tag:Name").values(names).build()))
                      .subnets()));
    }
    if (found.size() < options.subnets().size()) {
      throw new ProviderException.InvalidPlan(
          field,
          "found "
              + found.size()
              + " of the subnets "
              + options.subnets()
              + "; name existing subnet IDs or Name tags");
    }
    for (Subnet s : found) {
      if (vpcId != null && !vpcId.equals(s.vpcId())) {
        throw new ProviderException.InvalidPlan(
            field,
            "subnet "
                + s.subnetId()
                + " is in "
                + s.vpcId()
                + ", not in the cluster's VPC "
                + vpcId
                + " (where its nodes are); name subnets of "
                + vpcId);
      }
    }
    if (found.stream().map(Subnet::vpcId).distinct().count() > 1) {
      throw new ProviderException.InvalidPlan(field, "the subnets lie in more than one VPC");
    }
    return found;
  }

  private List<Subnet> tagged(AwsOptions options, String cluster, String vpcId)
      throws ProviderException {
    String role = options.internal() ? "kubernetes.io/role/internal-elb" : "kubernetes.io/role/elb";
    List<Filter> filters = new ArrayList<>();
    filters.add(Filter.builder().name("tag-key").values(role).build());
    if (vpcId != null) {
      filters.add(Filter.builder().name("vpc-id").values(vpcId).build());
    }
    List<Subnet> tagged =
        aws.api.call(
            Bucket.EC2_READ,
            "DescribeSubnets",
            () -> aws.ec2.describeSubnets(r -> r.filters(filters)).subnets());
    Map<String, Subnet> perZone = new TreeMap<>();
    for (Subnet s : tagged) {
      Set<String> clusters = clusterTags(s);
      if (!clusters.isEmpty() && !clusters.contains(AwsShape.TAG_CLUSTER_PREFIX + cluster)) {
        continue; // another cluster's
      }
      perZone.merge(s.availabilityZone(), s, (a, b) -> better(a, b) ? a : b);
    }
    if (perZone.isEmpty()) {
      // the account's set-up, not the Service, is at fault: retried with backoff until an
      // operator tags the subnets
      throw new ProviderException.Transient(
          "no subnet"
              + (vpcId == null ? "" : " of the cluster's VPC " + vpcId)
              + " is tagged "
              + role
              + " for cluster "
              + cluster
              + "; tag the cluster's subnets, or name subnets in the Service annotation "
              + AwsOptions.SUBNETS,
          null);
    }
    return List.copyOf(perZone.values());
  }

  /** Within a zone: tagged for this cluster first, then the most free addresses, then the ID. */
  static boolean better(Subnet a, Subnet b) {
    boolean aTagged = !clusterTags(a).isEmpty();
    boolean bTagged = !clusterTags(b).isEmpty();
    if (aTagged != bTagged) {
      return aTagged;
    }
    int aFree = a.availableIpAddressCount() == null ? 0 : a.availableIpAddressCount();
    int bFree = b.availableIpAddressCount() == null ? 0 : b.availableIpAddressCount();
    if (aFree != bFree) {
      return aFree > bFree;
    }
    return a.subnetId().compareTo(b.subnetId()) < 0;
  }

  private static Set<String> clusterTags(Subnet s) {
    return s.tags().stream()
        .map(t -> t.key())
        .filter(k -> k.startsWith(AwsShape.TAG_CLUSTER_PREFIX))
        .collect(Collectors.toSet());
  }

  /**
   * The nodes' instances as EC2 has them now.
   *
   * @param live the instances that can take traffic (pending or running)
   * @param gone the instances EC2 no longer has, or has stopped or terminated
   * @param groups the security groups that get the node rules: every group of the live instances
   *     tagged for the cluster (EKS node groups often have one each), else the lowest-ID group
   * @param vpcId the VPC of the live instances (the cluster's), null when there are none
   */
  record Nodes(Set<String> live, Set<String> gone, List<SecurityGroup> groups, String vpcId) {}

  Nodes nodes(Set<String> instanceIds, String cluster) throws ProviderException {
    if (instanceIds.isEmpty()) {
      return new Nodes(Set.of(), Set.of(), List.of(), null);
    }
    return aws.shared(
        "nodes:" + cluster + ":" + instanceIds, () -> describeNodes(instanceIds, cluster));
  }

  private Nodes describeNodes(Set<String> instanceIds, String cluster) throws ProviderException {
    // a filter, not InstanceIds: one unknown ID would fail the whole call
    List<Instance> instances =
        aws.api.call(
            Bucket.EC2_READ,
            "DescribeInstances",
            () ->
                aws
                    .ec2
                    .describeInstances(
                        r ->
                            r.filters(
                                Filter.builder().name("instance-id").values(instanceIds).build()))
                    .reservations()
                    .stream()
                    .flatMap(res -> res.instances().stream())
                    .toList());
    Set<String> live = new TreeSet<>();
    Set<String> groupIds = new TreeSet<>();
    Map<String, Integer> vpcs = new TreeMap<>();
    for (Instance i : instances) {
      InstanceStateName state = i.state() == null ? null : i.state().name();
      if (state == null
          || state == InstanceStateName.PENDING
          || state == InstanceStateName.RUNNING) {
        live.add(i.instanceId());
        i.securityGroups().forEach(g -> groupIds.add(g.groupId()));
        if (i.vpcId() != null) {
          vpcs.merge(i.vpcId(), 1, Integer::sum);
        }
      }
    }
    Set<String> gone = new TreeSet<>(instanceIds);
    gone.removeAll(live);
    // a cluster's nodes share one VPC; should they not, the one most of them are in
    String vpcId =
        vpcs.entrySet().stream()
            .max(Map.Entry.comparingByValue())
            .map(Map.Entry::getKey)
            .orElse(null);
    if (groupIds.isEmpty()) {
      return new Nodes(live, gone, List.of(), vpcId);
    }
    List<SecurityGroup> groups =
        aws.api.call(
            Bucket.EC2_READ,
            "DescribeSecurityGroups",
            () -> aws.ec2.describeSecurityGroups(r -> r.groupIds(groupIds)).securityGroups());
    List<SecurityGroup> owned =
        groups.stream()
            .filter(
                g ->
                    g.tags().stream()
                        .anyMatch(t -> t.key().equals(AwsShape.TAG_CLUSTER_PREFIX + cluster)))
            .sorted((a, b) -> a.groupId().compareTo(b.groupId()))
            .toList();
    if (owned.isEmpty()) {
      owned = groups.stream().min((a, b) -> a.groupId().compareTo(b.groupId())).stream().toList();
    }
    return new Nodes(live, gone, owned, vpcId);
  }

  /**
   * Every IPv4 CIDR associated with the VPC, the primary and the secondary ones: the NLB's nodes
   * (and so its health checks) may sit in any of them.
   */
  List<String> vpcCidrs(String vpcId) throws ProviderException {
    Vpc vpc =
        aws.api.call(
            Bucket.EC2_READ,
            "DescribeVpcs",
            () -> aws.ec2.describeVpcs(r -> r.vpcIds(vpcId)).vpcs().get(0));
    List<String> cidrs = new ArrayList<>();
    for (VpcCidrBlockAssociation a : vpc.cidrBlockAssociationSet()) {
      if (a.cidrBlockState() == null
          || a.cidrBlockState().state() == VpcCidrBlockStateCode.ASSOCIATED) {
        cidrs.add(a.cidrBlock());
      }
    }
    if (cidrs.isEmpty()) {
      cidrs.add(vpc.cidrBlock());
    }
    return List.copyOf(cidrs);
  }
}
