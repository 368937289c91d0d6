package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancerAttribute;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Tag;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroupAttribute;

/**
 * What the upstream annotations set on an existing NLB and its target groups, on every ensure (not
 * only at creation): attributes and tags. Read only when the Service asks for any, changed only
 * where they differ.
 */
final class AwsAttributes {

  private final AwsContext aws;

  AwsAttributes(AwsContext aws) {
    this.aws = aws;
  }

  void loadBalancer(String arn, Map<String, String> wanted) throws ProviderException {
    sync(
        wanted,
        "LoadBalancer",
        () ->
            aws
                .elb
                .describeLoadBalancerAttributes(r -> r.loadBalancerArn(arn))
                .attributes()
                .stream()
                .collect(
                    Collectors.toMap(LoadBalancerAttribute::key, LoadBalancerAttribute::value)),
        changes -> {
          List<LoadBalancerAttribute> set =
              changes.entrySet().stream()
                  .map(
                      e ->
                          LoadBalancerAttribute.builder()
                              .key(e.getKey())
                              .value(e.getValue())
                              .build())
                  .toList();
          aws.elb.modifyLoadBalancerAttributes(r -> r.loadBalancerArn(arn).attributes(set));
        });
  }

  void targetGroup(String arn, Map<String, String> wanted) throws ProviderException {
    sync(
        wanted,
        "TargetGroup",
        () ->
            aws.elb.describeTargetGroupAttributes(r -> r.targetGroupArn(arn)).attributes().stream()
                .collect(Collectors.toMap(TargetGroupAttribute::key, TargetGroupAttribute::value)),
        changes -> {
          List<TargetGroupAttribute> set =
              changes.entrySet().stream()
                  .map(
                      e ->
                          TargetGroupAttribute.builder()
                              .key(e.getKey())
                              .value(e.getValue())
                              .build())
                  .toList();
          aws.elb.modifyTargetGroupAttributes(r -> r.targetGroupArn(arn).attributes(set));
        });
  }

  /** Reads the attributes only when some are wanted; modifies only those that differ. */
  private void sync(
      Map<String, String> wanted,
      String resource,
      Supplier<Map<String, String>> describe,
      Consumer<Map<String, String>> modify)
      throws ProviderException {
    if (wanted.isEmpty()) {
      return;
    }
    Map<String, String> actual =
        aws.api.call(Bucket.ELB_READ, "Describe" + resource + "Attributes", describe);
    Map<String, String> changes = AwsDiff.attributeChanges(actual, wanted);
    if (!changes.isEmpty()) {
      aws.api.run(
          Bucket.ELB_MUTATE, "Modify" + resource + "Attributes", () -> modify.accept(changes));
    }
  }

  /** Adds or updates the user's tags on an existing resource (the ownership tags never change). */
  void tags(String arn, Map<String, String> actual, Map<String, String> wanted)
      throws ProviderException {
    Map<String, String> changes = AwsDiff.attributeChanges(actual, wanted);
    if (!changes.isEmpty()) {
      List<Tag> add = AwsContext.elbTags(changes);
      aws.api.run(
          Bucket.ELB_MUTATE, "AddTags", () -> aws.elb.addTags(r -> r.resourceArns(arn).tags(add)));
    }
  }
}
