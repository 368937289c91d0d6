package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;

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

  /** The node security group: the one tagged for the cluster, else the instances' first. */
  Optional<SecurityGroup> nodeSecurityGroup(Set<String> instanceIds, String cluster)
      throws ProviderException {
    if (instanceIds.isEmpty()) {
      return Optional.empty();
    }
    return aws.shared(
        "nodesg:" + cluster + ":" + instanceIds,
        () -> describeNodeSecurityGroup(instanceIds, cluster));
  }

  Optional<SecurityGroup> describeNodeSecurityGroup(Set<String> instanceIds, String cluster)
      throws ProviderException {
    List<Instance> instances =
        aws.api.call(
            Bucket.EC2_READ,
            "DescribeInstances",
            () ->
                aws.ec2.describeInstances(r -> r.instanceIds(instanceIds)).reservations().stream()
                    .flatMap(res -> res.instances().stream())
                    .toList());
    Set<String> groupIds = new TreeSet<>();
    instances.forEach(i -> i.securityGroups().forEach(g -> groupIds.add(g.groupId())));
    if (groupIds.isEmpty()) {
      return Optional.empty();
    }
    List<SecurityGroup> groups =
        aws.api.call(
            Bucket.EC2_READ,
            "DescribeSecurityGroups",
            () -> aws.ec2.describeSecurityGroups(r -> r.groupIds(groupIds)).securityGroups());
    return groups.stream()
        .filter(
            g ->
                g.tags().stream()
                    .anyMatch(t -> t.key().equals(AwsShape.TAG_CLUSTER_PREFIX + cluster)))
        .findFirst()
        .or(() -> groups.stream().min((a, b) -> a.groupId().compareTo(b.groupId())));
  }
}
