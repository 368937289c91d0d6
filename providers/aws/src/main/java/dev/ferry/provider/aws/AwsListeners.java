package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.TargetGroupSpec;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Action;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ProtocolEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/** The NLB's listeners: one per Service port (TCP_UDP where both protocols share a port). */
final class AwsListeners {

  static final Logger log = LoggerFactory.getLogger(AwsListeners.class);

  private final AwsContext aws;

  AwsListeners(AwsContext aws) {
    this.aws = aws;
  }

  void syncListeners(LoadBalancer lb, AwsShape shape, Map<String, TargetGroup> groups)
      throws ProviderException {
    var actual = listeners(lb);
    List<AwsDiff.WantedListener> wanted = new ArrayList<>();
    for (TargetGroupSpec spec : shape.targetGroups()) {
      wanted.add(
          new AwsDiff.WantedListener(
              spec.port(), spec.protocol(), groups.get(spec.name()).targetGroupArn()));
    }
    for (AwsDiff.ListenerChange change : AwsDiff.listeners(actual, wanted)) {
      switch (change.kind()) {
        case CREATE -> createListener(lb, change);
        case MODIFY -> modifyListener(lb, change);
        case DELETE -> deleteListener(change.arn());
      }
    }
  }

  private List<software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener> listeners(
      LoadBalancer lb) throws ProviderException {
    return aws.api.call(
        Bucket.ELB_READ,
        "DescribeListeners",
        () -> aws.elb.describeListeners(r -> r.loadBalancerArn(lb.loadBalancerArn())).listeners());
  }

  /** Deletes every listener of {@code lb} (a retained NLB serves nothing). */
  void deleteAll(LoadBalancer lb) throws ProviderException {
    for (var l : listeners(lb)) {
      deleteListener(l.listenerArn());
    }
  }

  private void modifyListener(LoadBalancer lb, AwsDiff.ListenerChange change)
      throws ProviderException {
    try {
      aws.api.run(
          Bucket.ELB_MUTATE,
          "ModifyListener",
          () ->
              aws.elb.modifyListener(
                  r ->
                      r.listenerArn(change.arn())
                          .protocol(ProtocolEnum.fromValue(change.protocol()))
                          .port(change.port())
                          .defaultActions(forward(change))));
    } catch (ProviderException.Transient e) {
      if (!AwsApi.failedWith(e, "UnsupportedProtocol")) {
        throw e;
      }
      // ELBv2 changes an NLB listener's protocol in place; an emulator that cannot (moto refuses
      // UDP and TCP_UDP there) gets the listener replaced, each step idempotent
      log.info("replacing listener {} to change its protocol", change.arn());
      deleteListener(change.arn());
      createListener(lb, change);
    }
  }

  private void deleteListener(String arn) throws ProviderException {
    aws.api.run(
        Bucket.ELB_MUTATE, "DeleteListener", () -> aws.elb.deleteListener(r -> r.listenerArn(arn)));
  }

  private static Action forward(AwsDiff.ListenerChange change) {
    return Action.builder()
        .type(ActionTypeEnum.FORWARD)
        .targetGroupArn(change.targetGroupArn())
        .build();
  }

  private void createListener(LoadBalancer lb, AwsDiff.ListenerChange change)
      throws ProviderException {
    aws.api.run(
        Bucket.ELB_MUTATE,
        "CreateListener",
        () ->
            aws.elb.createListener(
                r ->
                    r.loadBalancerArn(lb.loadBalancerArn())
                        .protocol(ProtocolEnum.fromValue(change.protocol()))
                        .port(change.port())
                        .defaultActions(forward(change))));
  }
}
