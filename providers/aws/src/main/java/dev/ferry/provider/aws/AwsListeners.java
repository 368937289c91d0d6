package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.provider.aws.AwsShape.TargetGroupSpec;
import dev.ferry.spi.ProviderException;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
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
    var actual =
        aws.api.call(
            Bucket.ELB_READ,
            "DescribeListeners",
            () ->
                aws.elb
                    .describeListeners(r -> r.loadBalancerArn(lb.loadBalancerArn()))
                    .listeners());
    Map<Integer, software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener> byPort =
        new HashMap<>();
    actual.forEach(l -> byPort.put(l.port(), l));
    for (TargetGroupSpec spec : shape.targetGroups()) {
      String tgArn = groups.get(spec.name()).targetGroupArn();
      Action forward = Action.builder().type(ActionTypeEnum.FORWARD).targetGroupArn(tgArn).build();
      var existing = byPort.remove(spec.port());
      if (existing == null) {
        createListener(lb, spec, forward);
      } else if (!spec.protocol().equals(existing.protocolAsString())
          || existing.defaultActions().size() != 1
          || !tgArn.equals(existing.defaultActions().get(0).targetGroupArn())) {
        try {
          aws.api.run(
              Bucket.ELB_MUTATE,
              "ModifyListener",
              () ->
                  aws.elb.modifyListener(
                      r ->
                          r.listenerArn(existing.listenerArn())
                              .protocol(ProtocolEnum.fromValue(spec.protocol()))
                              .port(spec.port())
                              .defaultActions(forward)));
        } catch (ProviderException.Transient e) {
          if (!(e.getCause() instanceof AwsServiceException a
              && "UnsupportedProtocol".equals(a.awsErrorDetails().errorCode()))) {
            throw e;
          }
          // ELBv2 changes an NLB listener's protocol in place; an emulator that cannot (moto
          // refuses UDP and TCP_UDP there) gets the listener replaced, each step idempotent
          log.info("replacing listener {} to change its protocol", existing.listenerArn());
          aws.api.run(
              Bucket.ELB_MUTATE,
              "DeleteListener",
              () -> aws.elb.deleteListener(r -> r.listenerArn(existing.listenerArn())));
          createListener(lb, spec, forward);
        }
      }
    }
    for (var stale : byPort.values()) {
      aws.api.run(
          Bucket.ELB_MUTATE,
          "DeleteListener",
          () -> aws.elb.deleteListener(r -> r.listenerArn(stale.listenerArn())));
    }
  }

  void createListener(LoadBalancer lb, TargetGroupSpec spec, Action forward)
      throws ProviderException {
    aws.api.run(
        Bucket.ELB_MUTATE,
        "CreateListener",
        () ->
            aws.elb.createListener(
                r ->
                    r.loadBalancerArn(lb.loadBalancerArn())
                        .protocol(ProtocolEnum.fromValue(spec.protocol()))
                        .port(spec.port())
                        .defaultActions(forward)));
  }
}
