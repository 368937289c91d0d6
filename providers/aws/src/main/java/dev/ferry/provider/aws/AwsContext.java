package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Tag;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TagDescription;
import software.amazon.awssdk.services.resourcegroupstaggingapi.ResourceGroupsTaggingApiClient;

/**
 * What every part of the AWS provider shares: the two clients, the call wrapper ({@link AwsApi}),
 * the reads a periodic check shares ({@link ReadRound}), and ELBv2 tag reads.
 */
final class AwsContext {

  final ElasticLoadBalancingV2Client elb;
  final Ec2Client ec2;
  final ResourceGroupsTaggingApiClient tagging;
  final AwsApi api;
  // the shared reads of a check (inStep) in progress on this thread, if any
  final ThreadLocal<ReadRound> round = new ThreadLocal<>();

  AwsContext(
      ElasticLoadBalancingV2Client elb,
      Ec2Client ec2,
      ResourceGroupsTaggingApiClient tagging,
      AwsApi api) {
    this.elb = elb;
    this.ec2 = ec2;
    this.tagging = tagging;
    this.api = api;
  }

  /** The load balancers with these names (up to 20); none when any is unknown to AWS. */
  List<LoadBalancer> describeLoadBalancers(List<String> names) throws ProviderException {
    try {
      return api.call(
          Bucket.ELB_READ,
          "DescribeLoadBalancers",
          () -> elb.describeLoadBalancers(r -> r.names(names)).loadBalancers());
    } catch (ProviderException.Transient e) {
      if (AwsApi.failedWith(e, "LoadBalancerNotFound")) {
        return List.of();
      }
      throw e;
    }
  }

  /** A read shared within a check's round; outside a check, simply the read. */
  <T> T shared(String key, ReadRound.Read<T> read) throws ProviderException {
    ReadRound r = round.get();
    return r == null ? read.get() : r.read(key, read);
  }

  /** Tags by resource ARN, read 20 ARNs per call (the API's limit). */
  Map<String, Map<String, String>> tags(List<String> arns) throws ProviderException {
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

  static List<Tag> elbTags(Map<String, String> tags) {
    return tags.entrySet().stream()
        .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
        .toList();
  }

  /**
   * The ARNs of {@code type} resources (e.g. {@code elasticloadbalancing:targetgroup}) tagged with
   * {@code key=value}, through the Resource Groups Tagging API: found by tag, without listing the
   * region.
   */
  List<String> taggedArns(String type, String key, String value) throws ProviderException {
    return api.pages(
        Bucket.ELB_READ,
        "GetResources",
        token ->
            tagging.getResources(
                r ->
                    r.paginationToken(token == null ? "" : token)
                        .resourceTypeFilters(type)
                        .tagFilters(f -> f.key(key).values(value))),
        page -> page.resourceTagMappingList().stream().map(m -> m.resourceARN()).toList(),
        page ->
            page.paginationToken() == null || page.paginationToken().isEmpty()
                ? null
                : page.paginationToken());
  }

  /** One describe for the batch's load balancers and one for their tags. */
  void prefetch(List<String> names, ReadRound shared) throws ProviderException {
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

  /** The load balancers tagged as this cluster's, with the Service each belongs to. */
  /** The region's NLBs named as Ferry names them, with their tags: one scan, tags 20 at a time. */
  Map<LoadBalancer, Map<String, String>> ferryNamed() throws ProviderException {
    List<LoadBalancer> ours =
        api
            .pages(
                Bucket.ELB_READ,
                "DescribeLoadBalancers",
                m -> elb.describeLoadBalancers(r -> r.marker(m).pageSize(400)),
                page -> page.loadBalancers(),
                page -> page.nextMarker())
            .stream()
            .filter(lb -> lb.loadBalancerName().startsWith("ferry-"))
            .toList();
    Map<String, Map<String, String>> tags =
        tags(ours.stream().map(LoadBalancer::loadBalancerArn).toList());
    Map<LoadBalancer, Map<String, String>> out = new java.util.LinkedHashMap<>();
    ours.forEach(lb -> out.put(lb, tags.getOrDefault(lb.loadBalancerArn(), Map.of())));
    return out;
  }

  List<LoadBalancerRef> ownedLoadBalancers(String clusterName) throws ProviderException {
    List<LoadBalancerRef> owned = new ArrayList<>();
    for (Map.Entry<LoadBalancer, Map<String, String>> e : ferryNamed().entrySet()) {
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
}
