package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.cli.Main;
import dev.ferry.controller.ProviderRegistry;
import dev.ferry.provider.aws.AwsAccount;
import dev.ferry.provider.aws.MotoServer;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Protocol;
import dev.ferry.spi.ProviderContext;
import io.fabric8.kubernetes.api.model.Service;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Subnet;

/**
 * {@code ferry gc} against the real API server: an orphan made by hand with Ferry's tags is listed,
 * then removed with --delete; a load balancer a Service wants, one of another cluster, and one
 * without Ferry's tags are never touched.
 */
@ExtendWith(MotoServer.class)
class GcIT {

  private static RealApiServer api;
  @TempDir static Path dir;

  @BeforeAll
  static void apiServer() throws Exception {
    api = RealApiServer.get();
  }

  private static LoadBalancerPlan plan(String cluster, String name, String uid, int port) {
    return LoadBalancerPlan.builder(
            new LoadBalancerRef(cluster, "default", name, uid),
            List.of(new Listener("p", Protocol.TCP, port, 30700 + port % 100)),
            new HealthCheck(
                HealthCheck.Type.TCP, 0, "", Duration.ofSeconds(10), Duration.ofSeconds(5), 2, 2))
        .build();
  }

  private static String gc(String... args) throws Exception {
    return gc(api.adminKubeconfigFile(dir), List.of(args));
  }

  /**
   * Runs {@code ferry gc} in this JVM with {@code kubeconfig}; answers what it printed (exit 0).
   */
  static String gc(Path kubeconfig, List<String> args) {
    StringWriter out = new StringWriter();
    List<String> all = new ArrayList<>(List.of("gc", "--kubeconfig", kubeconfig.toString()));
    all.addAll(args);
    int code =
        new CommandLine(new Main())
            .setOut(new PrintWriter(out))
            .execute(all.toArray(String[]::new));
    assertThat(code).as(out.toString()).isZero();
    return out.toString();
  }

  private static LoadBalancerProvider provider(String name, String cluster, Map<String, String> s) {
    return ProviderRegistry.load(GcIT.class.getClassLoader())
        .get(name)
        .create(ProviderContext.builder(cluster).settings(s).build());
  }

  private static Service service(String name) {
    return api.admin
        .services()
        .inNamespace("default")
        .resource(ClusterIT.lb(name, 18600).build())
        .create();
  }

  @Test
  @DisplayName("local provider: the orphan is listed, then deleted; the rest stays")
  void local() throws Exception {
    Map<String, String> pool = Map.of("local.address-pool", "127.0.119.0/24");
    LoadBalancerProvider p = provider("local", "gc-local", pool);
    LoadBalancerProvider other = provider("local", "gc-other", pool);
    Service wanted = service("gc-wanted");
    p.ensure(plan("gc-local", "gc-wanted", wanted.getMetadata().getUid(), 18601));
    String orphanUid = UUID.randomUUID().toString();
    p.ensure(plan("gc-local", "gc-gone", orphanUid, 18602));
    other.ensure(plan("gc-other", "gc-theirs", UUID.randomUUID().toString(), 18603));

    String dry =
        gc(
            "--provider",
            "local",
            "--provider-setting",
            "local.address-pool=127.0.119.0/24",
            "--cluster-name",
            "gc-local");
    System.out.print(dry);
    assertThat(dry).contains(orphanUid).contains("would delete").contains("2 load balancers");
    assertThat(p.listOwned("gc-local")).hasSize(2);

    String done =
        gc(
            "--provider",
            "local",
            "--provider-setting",
            "local.address-pool=127.0.119.0/24",
            "--cluster-name",
            "gc-local",
            "--delete");
    assertThat(done).contains("1 deleted");
    assertThat(p.listOwned("gc-local"))
        .extracting(LoadBalancerRef::name)
        .containsExactly("gc-wanted");
    assertThat(other.listOwned("gc-other")).hasSize(1);
    for (LoadBalancerRef r : p.listOwned("gc-local")) {
      p.ensureDeleted(r);
    }
    for (LoadBalancerRef r : other.listOwned("gc-other")) {
      other.ensureDeleted(r);
    }
    api.admin.services().inNamespace("default").withName("gc-wanted").delete();
  }

  @Test
  @DisplayName(
      "aws on moto: the orphan is listed, then deleted; another cluster's and an untagged NLB stay")
  void aws() throws Exception {
    AwsAccount cloud = AwsAccount.connect();
    List<Subnet> subnets = cloud.tagSubnets("gc-aws");
    cloud.tagSubnets("gc-aws-other");
    String sg = cloud.nodeSecurityGroup("gc-aws", subnets.get(0).vpcId());
    List<Instance> instances = cloud.launch(1, subnets.get(0), sg);
    LoadBalancerProvider p = provider("aws", "gc-aws", cloud.providerSettings());
    LoadBalancerProvider other = provider("aws", "gc-aws-other", cloud.providerSettings());
    String orphanUid = UUID.randomUUID().toString();
    p.ensure(plan("gc-aws", "gone", orphanUid, 18611).withBackends(AwsAccount.backends(instances)));
    other.ensure(
        plan("gc-aws-other", "theirs", UUID.randomUUID().toString(), 18612)
            .withBackends(AwsAccount.backends(instances)));
    cloud.elb.createLoadBalancer(
        r -> r.name("ferry-not-ours").type("network").subnets(subnets.get(0).subnetId()));

    List<String> settings = new ArrayList<>();
    cloud
        .providerSettings()
        .forEach((k, v) -> settings.addAll(List.of("--provider-setting", k + "=" + v)));
    List<String> args = new ArrayList<>(List.of("--provider", "aws", "--cluster-name", "gc-aws"));
    args.addAll(settings);
    String dry = gc(args.toArray(String[]::new));
    System.out.print(dry);
    assertThat(dry).contains(orphanUid).contains("would delete").contains("1 load balancers");
    args.add("--delete");
    assertThat(gc(args.toArray(String[]::new))).contains("1 deleted");
    assertThat(cloud.loadBalancers())
        .extracting(lb -> lb.loadBalancerName())
        .hasSize(2)
        .contains("ferry-not-ours");
    assertThat(p.listOwned("gc-aws")).isEmpty();
    assertThat(other.listOwned("gc-aws-other")).hasSize(1);
  }
}
