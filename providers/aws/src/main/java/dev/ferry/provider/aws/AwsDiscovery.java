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

  List<Subnet> subnets(AwsOptions options, String cluster) throws ProviderException {
    List<Subnet> found;
    if (!options.subnets().isEmpty()) {
      List<String> ids = options.subnets().stream().filter(s -> s.startsWith("subnet-")).toList();
      List<String> names =
          options.subnets().stream().filter(s -> !s.startsWith("subnet-")).toList();
      found = new ArrayList<>();
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
          aws.api.call(
              Bucket.EC2_READ,
              "DescribeSubnets",
              () ->
                  aws.ec2
                      .describeSubnets(
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

  /**
   * The nodes' instances as EC2 has them now.
   *
   * @param live the instances that can take traffic (pending or running)
   * @param gone the instances EC2 no longer has, or has stopped or terminated
   * @param groups the security groups that get the node rules: every group of the live instances
   *     tagged for the cluster (EKS node groups often have one each), else the lowest-ID group
   */
  record Nodes(Set<String> live, Set<String> gone, List<SecurityGroup> groups) {}

  Nodes nodes(Set<String> instanceIds, String cluster) throws ProviderException {
    if (instanceIds.isEmpty()) {
      return new Nodes(Set.of(), Set.of(), List.of());
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
    for (Instance i : instances) {
      InstanceStateName state = i.state() == null ? null : i.state().name();
      if (state == null
          || state == InstanceStateName.PENDING
          || state == InstanceStateName.RUNNING) {
        live.add(i.instanceId());
        i.securityGroups().forEach(g -> groupIds.add(g.groupId()));
      }
    }
    Set<String> gone = new TreeSet<>(instanceIds);
    gone.removeAll(live);
    if (groupIds.isEmpty()) {
      return new Nodes(live, gone, List.of());
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
    return new Nodes(live, gone, owned);
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
