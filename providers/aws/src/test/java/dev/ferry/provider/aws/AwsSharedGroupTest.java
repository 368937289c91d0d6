package dev.ferry.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.LoadBalancerRef;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;

/**
 * The cluster's shared backend security group lives exactly as long as an NLB carries it: deleting
 * every Service gives the account back as it was (issue 37, "leave nothing behind").
 */
@ExtendWith(MotoServer.class)
class AwsSharedGroupTest {

  private static final AwsAccount cloud = AwsAccount.connect();

  /** Every security group of the account and its ingress rules, as text. */
  private static Map<String, String> groups() {
    Map<String, String> out = new TreeMap<>();
    for (SecurityGroup g : cloud.ec2.describeSecurityGroups().securityGroups()) {
      out.put(g.groupId() + " " + g.groupName(), String.valueOf(cloud.groupRulesOf(g.groupId())));
    }
    return out;
  }

  @Test
  @DisplayName(
      "the backend group and its three node-group rules stay while one NLB carries it, and go with"
          + " the last: the security groups are as before the first Service")
  void lastNlbReleasesTheBackendGroup() throws Exception {
    AwsFixture f = new AwsFixture(cloud, 2);
    Map<String, String> before = groups();
    LoadBalancerRef a = AwsFixture.ref("uid-shared-a");
    LoadBalancerRef b = new LoadBalancerRef(AwsFixture.CLUSTER, "shop", "api", "uid-shared-b");
    try (AwsProvider p = f.provider()) {
      p.ensure(AwsFixture.plan(a, f.backends));
      p.ensure(AwsFixture.plan(b, f.backends));
      String backend =
          cloud.loadBalancersFor(a).get(0).securityGroups().stream()
              .filter(id -> cloud.loadBalancersFor(b).get(0).securityGroups().contains(id))
              .findFirst()
              .orElseThrow();
      List<String> admitted =
          cloud.groupRulesOf(f.securityGroup).stream()
              .filter(r -> r.endsWith(" from " + backend))
              .toList();
      assertThat(admitted).hasSize(3);

      p.ensureDeleted(a);
      assertThat(groups()).containsKey(backend + " " + AwsNames.backendGroup(AwsFixture.CLUSTER));
      assertThat(cloud.groupRulesOf(f.securityGroup)).containsAll(admitted);
      assertThat(cloud.loadBalancersFor(b)).hasSize(1);

      p.ensureDeleted(b);
      assertThat(groups()).isEqualTo(before);
      // and a new Service makes it again
      p.ensure(AwsFixture.plan(a, f.backends));
      assertThat(cloud.groupRulesOf(f.securityGroup)).hasSize(3);
      p.ensureDeleted(a);
      p.ensureDeleted(a); // deleting the absent succeeds, with or without a backend group
      assertThat(groups()).isEqualTo(before);
    }
  }
}
