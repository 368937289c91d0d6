package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.TargetGroupSpec;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ProtocolEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetDescription;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetTypeEnum;

/** Target groups (one per listener) and their targets: found by name, checked by tags. */
final class AwsTargetGroups {

  private final AwsContext aws;

  AwsTargetGroups(AwsContext aws) {
    this.aws = aws;
  }

  Map<String, TargetGroup> ensureTargetGroups(
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
        existing =
            createTargetGroup(
                spec, options.healthCheck().forGroup(spec.protocol()), vpcId, shape.tags());
      } else if (!AwsDiff.healthCheckMatches(
          existing, options.healthCheck().forGroup(spec.protocol()))) {
        String arn = existing.targetGroupArn();
        AwsOptions.NlbHealthCheck hc = options.healthCheck().forGroup(spec.protocol());
        aws.api.run(
            Bucket.ELB_MUTATE,
            "ModifyTargetGroup",
            () ->
                aws.elb.modifyTargetGroup(
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

  TargetGroup createTargetGroup(
      TargetGroupSpec spec, AwsOptions.NlbHealthCheck hc, String vpcId, Map<String, String> tags)
      throws ProviderException {
    return aws.api.call(
        Bucket.ELB_MUTATE,
        "CreateTargetGroup",
        () ->
            aws.elb
                .createTargetGroup(
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
                          .tags(AwsContext.elbTags(tags));
                      if (!hc.path().isEmpty()) {
                        r.healthCheckPath(hc.path());
                      }
                    })
                .targetGroups()
                .get(0));
  }

  List<TargetGroup> attachedTargetGroups(LoadBalancer lb) throws ProviderException {
    try {
      return aws.api.call(
          Bucket.ELB_READ,
          "DescribeTargetGroups",
          () ->
              aws.elb
                  .describeTargetGroups(r -> r.loadBalancerArn(lb.loadBalancerArn()))
                  .targetGroups());
    } catch (ProviderException.Transient e) {
      // AWS answers an empty list; some emulators answer TargetGroupNotFound
      if (AwsApi.failedWith(e, "TargetGroupNotFound")) {
        return List.of();
      }
      throw e;
    }
  }

  Optional<TargetGroup> describeTargetGroupByName(LoadBalancerRef ref, String name)
      throws ProviderException {
    try {
      List<TargetGroup> found =
          aws.api.call(
              Bucket.ELB_READ,
              "DescribeTargetGroups",
              () -> aws.elb.describeTargetGroups(r -> r.names(name)).targetGroups());
      return ownedTargetGroups(ref, found).values().stream().findFirst();
    } catch (ProviderException.Transient e) {
      if (AwsApi.failedWith(e, "TargetGroupNotFound")) {
        return Optional.empty();
      }
      throw e;
    }
  }

  List<TargetGroup> targetGroupsByPrefix(String prefix) throws ProviderException {
    return aws
        .api
        .pages(
            Bucket.ELB_READ,
            "DescribeTargetGroups",
            m -> aws.elb.describeTargetGroups(r -> r.marker(m).pageSize(400)),
            page -> page.targetGroups(),
            page -> page.nextMarker())
        .stream()
        .filter(tg -> tg.targetGroupName().startsWith(prefix))
        .toList();
  }

  /** The target groups among {@code groups} tagged as {@code ref}'s, by name. */
  Map<String, TargetGroup> ownedTargetGroups(LoadBalancerRef ref, Collection<TargetGroup> groups)
      throws ProviderException {
    if (groups.isEmpty()) {
      return Map.of();
    }
    Map<String, Map<String, String>> tags =
        aws.tags(groups.stream().map(TargetGroup::targetGroupArn).toList());
    Map<String, TargetGroup> owned = new TreeMap<>();
    for (TargetGroup tg : groups) {
      if (AwsShape.owns(ref, tags.getOrDefault(tg.targetGroupArn(), Map.of()))) {
        owned.put(tg.targetGroupName(), tg);
      }
    }
    return owned;
  }

  /** Registers exactly {@code desired}; returns the targets the NLB reported healthy. */
  Set<String> syncTargets(String targetGroupArn, Set<String> desired) throws ProviderException {
    List<software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetHealthDescription>
        described =
            aws.api.call(
                Bucket.ELB_READ,
                "DescribeTargetHealth",
                () ->
                    aws.elb
                        .describeTargetHealth(r -> r.targetGroupArn(targetGroupArn))
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
      aws.api.run(
          Bucket.ELB_TARGETS,
          "RegisterTargets",
          () -> aws.elb.registerTargets(r -> r.targetGroupArn(targetGroupArn).targets(add)));
    }
    if (!diff.remove().isEmpty()) {
      List<TargetDescription> remove =
          diff.remove().stream().map(id -> TargetDescription.builder().id(id).build()).toList();
      aws.api.run(
          Bucket.ELB_TARGETS,
          "DeregisterTargets",
          () -> aws.elb.deregisterTargets(r -> r.targetGroupArn(targetGroupArn).targets(remove)));
    }
    healthy.retainAll(desired);
    return healthy;
  }

  /**
   * Deletes the owned target groups that were attached before the listeners moved and are no longer
   * wanted (a changed NodePort or protocol makes a new one). Reuses what ensure already read.
   */
  void deleteStaleTargetGroups(AwsShape shape, Collection<TargetGroup> known)
      throws ProviderException {
    Set<String> wanted =
        shape.targetGroups().stream().map(TargetGroupSpec::name).collect(Collectors.toSet());
    for (TargetGroup tg : known) {
      if (!wanted.contains(tg.targetGroupName())) {
        deleteTargetGroup(tg);
      }
    }
  }

  void deleteTargetGroup(TargetGroup tg) throws ProviderException {
    deleteTargetGroup(tg.targetGroupArn());
  }

  void deleteTargetGroup(String arn) throws ProviderException {
    try {
      aws.api.run(
          Bucket.ELB_MUTATE,
          "DeleteTargetGroup",
          () -> aws.elb.deleteTargetGroup(r -> r.targetGroupArn(arn)));
    } catch (ProviderException.Transient e) {
      if (!AwsApi.failedWith(e, "TargetGroupNotFound")) {
        throw e;
      }
    }
  }

  /** {@code ref}'s target groups, found by their ownership tag (no listing of the region). */
  List<String> taggedArns(LoadBalancerRef ref) throws ProviderException {
    List<String> arns =
        aws.taggedArns("elasticloadbalancing:targetgroup", AwsShape.TAG_UID, ref.uid());
    List<String> owned = new ArrayList<>();
    Map<String, Map<String, String>> tags = aws.tags(arns);
    for (String arn : arns) {
      if (AwsShape.owns(ref, tags.getOrDefault(arn, Map.of()))) {
        owned.add(arn);
      }
    }
    return owned;
  }
}
