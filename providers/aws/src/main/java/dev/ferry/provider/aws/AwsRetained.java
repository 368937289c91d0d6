package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import dev.ferry.spi.RetainedAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Tag;

/**
 * Retained NLBs. An NLB's address is its DNS name, which lives as long as the NLB, so {@code
 * Retain} keeps the NLB itself, emptied: no listeners, no target groups, no client rules on its
 * frontend group; tagged {@value #TAG_RECLAIM}{@code =Retain} with its cluster and Service name,
 * and without a Service UID while no Service uses it. A Service that claims it ({@code
 * ferry.dev/claim-retained}) puts its UID on the NLB and its frontend group and is served there;
 * the NLB stays retained when that Service goes. Only {@code deleteRetained} deletes it.
 */
final class AwsRetained {

  static final String TAG_RECLAIM = "ferry.dev/reclaim";

  private final AwsContext aws;

  AwsRetained(AwsContext aws) {
    this.aws = aws;
  }

  static boolean retained(Map<String, String> tags) {
    return "Retain".equals(tags.get(TAG_RECLAIM));
  }

  static boolean ofCluster(Map<String, String> tags, String cluster) {
    return cluster.equals(tags.get(AwsShape.TAG_CLUSTER))
        && "owned".equals(tags.get(AwsShape.TAG_CLUSTER_PREFIX + cluster));
  }

  /** Marks {@code lb} and its frontend group retained (the first step: a crash keeps it). */
  void mark(LoadBalancer lb) throws ProviderException {
    tagNlb(lb.loadBalancerArn(), TAG_RECLAIM, "Retain");
    for (SecurityGroup g : frontend(lb)) {
      tagGroup(g.groupId(), TAG_RECLAIM, "Retain");
    }
  }

  /** The last step: the Service's UID comes off the frontend group, then off the NLB. */
  void release(LoadBalancerRef ref, LoadBalancer lb, AwsNodeRules rules) throws ProviderException {
    for (SecurityGroup g : frontend(lb)) {
      rules.revoke(g.groupId(), AwsNodeRules.anyDescription(g), AwsNames.ruleDescription(ref));
      aws.api.run(
          Bucket.EC2_MUTATE,
          "DeleteTags",
          () ->
              aws.ec2.deleteTags(r -> r.resources(g.groupId()).tags(t -> t.key(AwsShape.TAG_UID))));
    }
    aws.api.run(
        Bucket.ELB_MUTATE,
        "RemoveTags",
        () ->
            aws.elb.removeTags(
                r -> r.resourceArns(lb.loadBalancerArn()).tagKeys(AwsShape.TAG_UID)));
  }

  /**
   * Gives the NLB {@code arn}, retained for {@code ref}'s cluster and name, to {@code ref}: its UID
   * on the NLB and the frontend group.
   *
   * @throws ProviderException.InvalidPlan when it is not retained for that Service, or another
   *     Service uses it
   */
  LoadBalancer claim(LoadBalancerRef ref, String arn) throws ProviderException {
    LoadBalancer lb = byArn(arn).orElseThrow(() -> refused("no NLB " + arn + " exists"));
    Map<String, String> tags = aws.tags(List.of(arn)).getOrDefault(arn, Map.of());
    if (!retained(tags)
        || !ofCluster(tags, ref.cluster())
        || !ref.serviceKey().equals(tags.get(AwsShape.TAG_SERVICE_NAME))) {
      throw refused("NLB " + lb.loadBalancerName() + " is not retained for " + ref.serviceKey());
    }
    String user = tags.get(AwsShape.TAG_UID);
    if (user != null && !user.equals(ref.uid())) {
      throw refused(
          "NLB " + lb.loadBalancerName() + " is in use by another Service (UID " + user + ")");
    }
    for (SecurityGroup g : frontend(lb)) {
      tagGroup(g.groupId(), AwsShape.TAG_UID, ref.uid());
    }
    tagNlb(arn, AwsShape.TAG_UID, ref.uid());
    return lb;
  }

  /** The NLBs retained for {@code cluster}. */
  List<RetainedAddress> list(String cluster) throws ProviderException {
    List<RetainedAddress> out = new ArrayList<>();
    for (Map.Entry<LoadBalancer, Map<String, String>> e : aws.ferryNamed().entrySet()) {
      LoadBalancer lb = e.getKey();
      Map<String, String> t = e.getValue();
      String service = t.getOrDefault(AwsShape.TAG_SERVICE_NAME, "");
      if (retained(t) && ofCluster(t, cluster) && service.contains("/")) {
        String[] ns = service.split("/", 2);
        out.add(
            new RetainedAddress(
                lb.loadBalancerArn(), lb.dnsName(), ns[0], ns[1], t.containsKey(AwsShape.TAG_UID)));
      }
    }
    return out;
  }

  /**
   * Deletes the NLB {@code arn} retained for {@code cluster}, then its frontend group (which AWS
   * frees a little after the NLB: until then the delete is answered as transient, to be run again).
   */
  void delete(String cluster, String arn, AwsSecurityGroups groups) throws ProviderException {
    if (!arn.startsWith("arn:")) {
      throw refused("id", "'" + arn + "' is not an NLB's ARN");
    }
    Optional<LoadBalancer> found = byArn(arn);
    if (found.isPresent()) {
      Map<String, String> tags = aws.tags(List.of(arn)).getOrDefault(arn, Map.of());
      if (!retained(tags) || !ofCluster(tags, cluster)) {
        throw refused(
            "id",
            "NLB " + found.get().loadBalancerName() + " is not retained for cluster " + cluster);
      }
      if (tags.containsKey(AwsShape.TAG_UID)) {
        throw refused(
            "id",
            "NLB "
                + found.get().loadBalancerName()
                + " is in use by "
                + tags.get(AwsShape.TAG_SERVICE_NAME)
                + "; delete the Service using it first");
      }
      aws.api.run(
          Bucket.ELB_MUTATE,
          "DeleteLoadBalancer",
          () -> aws.elb.deleteLoadBalancer(r -> r.loadBalancerArn(arn)));
    }
    String name = arn.replaceAll(".*:loadbalancer/net/([^/]+)/.*", "$1");
    groups.deleteRetainedFrontend(name, cluster);
    groups.releaseBackend(cluster);
  }

  private List<SecurityGroup> frontend(LoadBalancer lb) throws ProviderException {
    if (lb.securityGroups().isEmpty()) {
      return List.of();
    }
    return aws.api.call(
        Bucket.EC2_READ,
        "DescribeSecurityGroups",
        () ->
            aws.ec2
                .describeSecurityGroups(
                    r ->
                        r.filters(
                            Filter.builder().name("group-id").values(lb.securityGroups()).build(),
                            Filter.builder()
                                .name("group-name")
                                .values(lb.loadBalancerName())
                                .build()))
                .securityGroups());
  }

  Optional<LoadBalancer> byArn(String arn) throws ProviderException {
    try {
      return aws
          .api
          .call(
              Bucket.ELB_READ,
              "DescribeLoadBalancers",
              () -> aws.elb.describeLoadBalancers(r -> r.loadBalancerArns(arn)).loadBalancers())
          .stream()
          .findFirst();
    } catch (ProviderException.Transient e) {
      if (AwsApi.failedWith(e, "LoadBalancerNotFound", "ValidationError")) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private void tagGroup(String id, String key, String value) throws ProviderException {
    aws.api.run(
        Bucket.EC2_MUTATE,
        "CreateTags",
        () -> aws.ec2.createTags(r -> r.resources(id).tags(t -> t.key(key).value(value))));
  }

  private void tagNlb(String arn, String key, String value) throws ProviderException {
    aws.api.run(
        Bucket.ELB_MUTATE,
        "AddTags",
        () ->
            aws.elb.addTags(
                r -> r.resourceArns(arn).tags(Tag.builder().key(key).value(value).build())));
  }

  private static ProviderException.InvalidPlan refused(String why) {
    return refused("metadata.annotations[ferry.dev/claim-retained]", why);
  }

  private static ProviderException.InvalidPlan refused(String field, String why) {
    return new ProviderException.InvalidPlan(field, why);
  }
}
