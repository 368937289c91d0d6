package dev.ferry.provider.aws;

import dev.ferry.provider.aws.AwsApi.Bucket;
import dev.ferry.spi.ProviderException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.LoadBalancer;

/** An existing NLB's subnets brought toward the wanted ones, as far as ELBv2 allows in place. */
final class AwsSubnets {

  private AwsSubnets() {}

  /**
   * Zones the NLB does not cover yet get their subnet in place (ELBv2 adds subnets to an NLB; a
   * zone's subnet cannot be swapped, nor a zone removed, without a new NLB: those are left).
   */
  static void addSubnets(AwsContext aws, LoadBalancer lb, List<Subnet> wanted)
      throws ProviderException {
    Set<String> zones = new TreeSet<>();
    List<String> ids = new ArrayList<>();
    lb.availabilityZones()
        .forEach(
            z -> {
              zones.add(z.zoneName());
              ids.add(z.subnetId());
            });
    List<String> added =
        wanted.stream()
            .filter(s -> !zones.contains(s.availabilityZone()))
            .map(Subnet::subnetId)
            .toList();
    if (!added.isEmpty()) {
      List<String> all = new ArrayList<>(ids);
      all.addAll(added);
      String arn = lb.loadBalancerArn();
      aws.api.run(
          Bucket.ELB_MUTATE,
          "SetSubnets",
          () -> aws.elb.setSubnets(r -> r.loadBalancerArn(arn).subnets(all)));
    }
  }
}
