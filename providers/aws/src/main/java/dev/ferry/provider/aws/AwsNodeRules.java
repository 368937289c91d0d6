package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.Rule;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.Ipv6Range;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;

/**
 * The ingress rules on the nodes' security group that let clients and health checks reach the
 * NodePorts; each Service's carry a description naming it, the cluster-wide ones another.
 */
final class AwsNodeRules {

  private final AwsContext aws;
  private final AwsDiscovery discovery;

  AwsNodeRules(AwsContext aws, AwsDiscovery discovery) {
    this.aws = aws;
    this.discovery = discovery;
  }

  /**
   * Makes {@code ref}'s rules exactly {@code desired} in each node group; adds missing shared ones.
   */
  void syncRules(
      LoadBalancerRef ref, List<SecurityGroup> groups, Set<Rule> desired, Set<Rule> shared)
      throws ProviderException {
    for (SecurityGroup group : groups) {
      String groupId = group.groupId();
      Set<Rule> missingShared = new TreeSet<>(shared);
      missingShared.removeAll(anyDescription(group));
      if (!missingShared.isEmpty()) {
        List<IpPermission> add =
            permissions(missingShared, AwsNames.sharedRuleDescription(ref.cluster()));
        authorize(groupId, add);
      }
      String description = AwsNames.ruleDescription(ref);
      SetDiff<Rule> diff = SetDiff.of(new TreeSet<>(desired), ours(group, description));
      if (!diff.add().isEmpty()) {
        authorize(groupId, permissions(diff.add(), description));
      }
      revoke(groupId, diff.remove(), description);
    }
  }

  private void authorize(String groupId, List<IpPermission> add) throws ProviderException {
    aws.api.run(
        Bucket.EC2_MUTATE,
        "AuthorizeSecurityGroupIngress",
        () -> aws.ec2.authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(add)));
  }

  void revoke(String groupId, Set<Rule> rules, String description) throws ProviderException {
    if (rules.isEmpty()) {
      return;
    }
    List<IpPermission> remove = permissions(rules, description);
    aws.api.run(
        Bucket.EC2_MUTATE,
        "RevokeSecurityGroupIngress",
        () -> aws.ec2.revokeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(remove)));
  }

  void revokeAllRules(LoadBalancerRef ref) throws ProviderException {
    String description = AwsNames.ruleDescription(ref);
    // the cluster's node groups, found by their cluster tag (no scan of the region); Ferry's own
    // groups carry a role and hold no node rules
    List<SecurityGroup> groups =
        aws.api.pages(
            Bucket.EC2_READ,
            "DescribeSecurityGroups",
            t ->
                aws.ec2.describeSecurityGroups(
                    r ->
                        r.nextToken(t)
                            .maxResults(1000)
                            .filters(
                                Filter.builder()
                                    .name("tag-key")
                                    .values(AwsShape.TAG_CLUSTER_PREFIX + ref.cluster())
                                    .build())),
            page -> page.securityGroups(),
            page -> page.nextToken());
    for (SecurityGroup g : groups) {
      if (g.tags().stream().anyMatch(tag -> tag.key().equals(AwsSecurityGroups.TAG_ROLE))) {
        continue;
      }
      revoke(g.groupId(), ours(g, description), description);
    }
  }

  /** Every rule of the group, whoever made it. */
  static Set<Rule> anyDescription(SecurityGroup group) {
    Set<Rule> rules = new TreeSet<>();
    for (IpPermission p : group.ipPermissions()) {
      for (IpRange range : p.ipRanges()) {
        if (p.fromPort() != null) {
          rules.add(new Rule(p.ipProtocol(), p.fromPort(), range.cidrIp()));
        }
      }
      for (Ipv6Range range : p.ipv6Ranges()) {
        if (p.fromPort() != null) {
          rules.add(new Rule(p.ipProtocol(), p.fromPort(), range.cidrIpv6()));
        }
      }
    }
    return rules;
  }

  static Set<Rule> ours(SecurityGroup group, String description) {
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

  static List<IpPermission> permissions(Set<Rule> rules, String description) {
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
                      .filter(r -> AwsShape.ipv4(r.cidr()))
                      .map(r -> IpRange.builder().cidrIp(r.cidr()).description(description).build())
                      .toList())
              .ipv6Ranges(
                  group.stream()
                      .filter(r -> !AwsShape.ipv4(r.cidr()))
                      .map(
                          r ->
                              Ipv6Range.builder()
                                  .cidrIpv6(r.cidr())
                                  .description(description)
                                  .build())
                      .toList())
              .build());
    }
    return out;
  }
}
