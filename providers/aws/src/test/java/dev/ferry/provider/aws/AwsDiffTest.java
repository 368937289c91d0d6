package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.provider.aws.AwsDiff.ListenerChange;
import dev.ferry.provider.aws.AwsDiff.ListenerChange.Kind;
import dev.ferry.provider.aws.AwsDiff.WantedListener;
import dev.ferry.spi.ProviderException;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Action;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroup;

/** The AWS provider's pure parts, tested by value: diffs and error classes. */
class AwsDiffTest {

  private static Listener listener(int port, String protocol, String tg) {
    return Listener.builder()
        .listenerArn("arn:listener/" + port)
        .port(port)
        .protocol(protocol)
        .defaultActions(Action.builder().type("forward").targetGroupArn(tg).build())
        .build();
  }

  @Test
  @DisplayName("listeners: unchanged makes no change; new, changed and stale ports each one")
  void listeners() {
    List<Listener> actual =
        List.of(
            listener(80, "TCP", "tg-80"), listener(53, "UDP", "tg-53"), listener(8, "TCP", "x"));
    assertThat(
            AwsDiff.listeners(
                actual,
                List.of(
                    new WantedListener(80, "TCP", "tg-80"),
                    new WantedListener(53, "UDP", "tg-53"),
                    new WantedListener(8, "TCP", "x"))))
        .isEmpty();
    assertThat(
            AwsDiff.listeners(
                actual,
                List.of(
                    new WantedListener(80, "TCP", "tg-80-new"), // a new NodePort: a new group
                    new WantedListener(53, "TCP_UDP", "tg-53b"), // TCP added on 53
                    new WantedListener(443, "TCP", "tg-443"))))
        .containsExactly(
            new ListenerChange(Kind.MODIFY, 80, "TCP", "tg-80-new", "arn:listener/80"),
            new ListenerChange(Kind.MODIFY, 53, "TCP_UDP", "tg-53b", "arn:listener/53"),
            new ListenerChange(Kind.CREATE, 443, "TCP", "tg-443", null),
            new ListenerChange(Kind.DELETE, 8, "TCP", null, "arn:listener/8"));
  }

  @Test
  @DisplayName("a target group's health check matches only when every setting does")
  void healthCheck() {
    AwsOptions.NlbHealthCheck hc =
        new AwsOptions.NlbHealthCheck("HTTP", "10256", "/healthz", 10, 5, 2, 3);
    TargetGroup same =
        TargetGroup.builder()
            .healthCheckProtocol("HTTP")
            .healthCheckPort("10256")
            .healthCheckPath("/healthz")
            .healthCheckIntervalSeconds(10)
            .healthCheckTimeoutSeconds(5)
            .healthyThresholdCount(2)
            .unhealthyThresholdCount(3)
            .build();
    assertThat(AwsDiff.healthCheckMatches(same, hc)).isTrue();
    assertThat(
            AwsDiff.healthCheckMatches(same.toBuilder().healthCheckIntervalSeconds(30).build(), hc))
        .isFalse();
    assertThat(
            AwsDiff.healthCheckMatches(
                same.toBuilder().healthCheckPort("traffic-port").build(), hc))
        .isFalse();
    // a UDP group checked over TCP on its own port always fails: the kube-proxy check is wanted
    assertThat(
            AwsDiff.healthCheckMatches(
                same.toBuilder().healthCheckProtocol("TCP").healthCheckPath(null).build(), hc))
        .isFalse();
  }

  private static AwsServiceException error(String code, int status) {
    return AwsServiceException.builder()
        .statusCode(status)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("msg").build())
        .build();
  }

  @Test
  @DisplayName(
      "errors: throttling is throttled, a denied permission the operator's, a ValidationError"
          + " Ferry's own bug, a limit a quota with the limit named")
  void errorClasses() {
    assertThat(AwsApi.translate("CreateLoadBalancer", error("Throttling", 400)))
        .isInstanceOf(ProviderException.Throttled.class);
    assertThat(AwsApi.translate("DescribeInstances", error("RequestLimitExceeded", 503)))
        .isInstanceOf(ProviderException.Throttled.class);
    assertThat(
            AwsApi.translate("AuthorizeSecurityGroupIngress", error("UnauthorizedOperation", 403)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("may not call AuthorizeSecurityGroupIngress")
        .hasMessageContaining("IAM policy");
    assertThat(AwsApi.translate("CreateTargetGroup", error("AccessDenied", 403)))
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("IAM");
    assertThat(AwsApi.translate("CreateListener", error("ValidationError", 400)))
        .as("not the user's fault: no InvalidPlan")
        .isInstanceOf(ProviderException.Transient.class)
        .hasMessageContaining("a Ferry bug");
    assertThat(AwsApi.translate("CreateLoadBalancer", error("TooManyLoadBalancers", 400)))
        .isInstanceOf(ProviderException.QuotaExceeded.class)
        .hasMessageContaining("load balancers per region");
    assertThat(AwsApi.translate("RegisterTargets", error("TooManyRegistrationsForTargetId", 400)))
        .isInstanceOf(ProviderException.QuotaExceeded.class)
        .hasMessageContaining("TooManyRegistrationsForTargetId");
    assertThat(AwsApi.translate("CreateLoadBalancer", error("InvalidSubnet", 400)))
        .isInstanceOf(ProviderException.InvalidPlan.class);
  }

  @Test
  @DisplayName(
      "subnets within a zone: tagged for the cluster first, then the most free addresses, then the"
          + " lowest ID")
  void subnetChoice() {
    software.amazon.awssdk.services.ec2.model.Subnet small =
        software.amazon.awssdk.services.ec2.model.Subnet.builder()
            .subnetId("subnet-a")
            .availableIpAddressCount(3)
            .build();
    software.amazon.awssdk.services.ec2.model.Subnet roomy =
        small.toBuilder().subnetId("subnet-b").availableIpAddressCount(4000).build();
    software.amazon.awssdk.services.ec2.model.Subnet tagged =
        small.toBuilder()
            .subnetId("subnet-c")
            .tags(
                software.amazon.awssdk.services.ec2.model.Tag.builder()
                    .key("kubernetes.io/cluster/prod")
                    .value("shared")
                    .build())
            .build();
    assertThat(AwsDiscovery.better(roomy, small)).isTrue();
    assertThat(AwsDiscovery.better(small, roomy)).isFalse();
    assertThat(AwsDiscovery.better(tagged, roomy)).isTrue();
    assertThat(AwsDiscovery.better(small, small.toBuilder().subnetId("subnet-z").build())).isTrue();
  }

  @Test
  @DisplayName("attributes: only those named and different change; others are left as they are")
  void attributeChanges() {
    assertThat(
            AwsDiff.attributeChanges(
                java.util.Map.of(
                    "load_balancing.cross_zone.enabled", "false",
                    "deletion_protection.enabled", "false"),
                java.util.Map.of(
                    "load_balancing.cross_zone.enabled", "true",
                    "deletion_protection.enabled", "false")))
        .containsExactly(java.util.Map.entry("load_balancing.cross_zone.enabled", "true"));
    assertThat(AwsDiff.attributeChanges(java.util.Map.of("a", "1"), java.util.Map.of())).isEmpty();
  }
}
