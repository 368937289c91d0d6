package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import com.azure.resourcemanager.network.fluent.models.LoadBalancingRuleInner;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The pure parts, by value: what a plan wants, and the load balancer as it wants it. */
class AzureShapeTest {

  private static final LoadBalancerRef REF =
      new LoadBalancerRef("kubernetes", "shop", "web", "uid-1");

  private static AzureSettings settings(String join) {
    return new AzureSettings(
        "sub",
        "rg",
        "westeurope",
        "rg",
        "vnet",
        "nodes",
        "nsg",
        join,
        true,
        AzureSettings.Limits.AZURE,
        false);
  }

  private static LoadBalancerPlan plan(Map<String, String> annotations) {
    return AzureDefectsTest.plan(REF, AzureFixture.nodes(2), annotations);
  }

  @Test
  @DisplayName(
      "defaults: kube-proxy's shared probe out after 2 failures (probeThreshold), 4 minutes idle, TCP"
          + " reset, floating IP, Ferry's own public IP in the cluster's group")
  void wishDefaults() throws Exception {
    AzureWish w = AzureWish.of(plan(Map.of()), settings(""));
    assertThat(w.sharedProbe()).isTrue();
    assertThat(w.probe().name()).isEqualTo(AzureNames.SHARED_PROBE);
    assertThat(w.probe().probeThreshold()).isEqualTo(2);
    assertThat(w.probe().numberOfProbes()).as("Azure ignores it; Ferry does not send it").isNull();
    assertThat(w.idleTimeout()).isEqualTo(4);
    assertThat(w.tcpReset()).isTrue();
    assertThat(w.floatingIp()).isTrue();
    assertThat(w.pipGroup()).isEqualTo("rg");
    assertThat(w.usersPip()).isFalse();
    assertThat(w.ignored()).isEmpty();
  }

  @Test
  @DisplayName("every bad annotation is named at once; an unknown azure- one is listed as ignored")
  void wishViolations() throws Exception {
    assertThatThrownBy(
            () ->
                AzureWish.of(
                    plan(
                        Map.of(
                            AzureWish.IDLE_TIMEOUT, "200",
                            AzureWish.PROBE_PROTOCOL, "grpc",
                            AzureWish.SERVICE_TAGS, "not a tag!",
                            AzureWish.PIP_TAGS, "ferry.dev-cluster=x")),
                    settings("")))
        .isInstanceOf(ProviderException.InvalidPlan.class)
        .satisfies(e -> assertThat(((ProviderException.InvalidPlan) e).violations()).hasSize(4));
    AzureWish w =
        AzureWish.of(
            plan(Map.of(AzureWish.PREFIX + "load-balancer-mode", "__auto__")), settings(""));
    assertThat(w.ignored()).containsExactly(AzureWish.PREFIX + "load-balancer-mode");
  }

  @Test
  @DisplayName(
      "joined: the Service's parts are added beside AKS's, its rules send to AKS's pool, and AKS's"
          + " parts come back exactly as read; without() gives the load balancer back as it was")
  void joined() throws Exception {
    try (ArmFake aks = AzureFixture.aks()) {
      String id = AzureFixture.network(AzureFixture.AKS_GROUP, "loadBalancers", "kubernetes");
      LoadBalancerInner before =
          ArmJson.parse(aks.get(id).toString().getBytes(), LoadBalancerInner::fromJson);
      AzureSettings s =
          new AzureSettings(
              "00000000-0000-0000-0000-00000000f3e7",
              AzureFixture.AKS_GROUP,
              "westeurope",
              AzureFixture.AKS_GROUP,
              "vnet",
              "aks-subnet",
              "nsg",
              "kubernetes",
              true,
              AzureSettings.Limits.AZURE,
              false);
      LoadBalancerPlan p = plan(Map.of());
      LoadBalancerInner after =
          AzureLbShape.with(AzureLbWriter.copy(before), p, AzureWish.of(p, s), "/pip", s, 0);
      assertThat(after.backendAddressPools()).hasSize(2);
      assertThat(after.loadBalancingRules()).hasSize(3);
      for (LoadBalancingRuleInner r : after.loadBalancingRules()) {
        if (AzureNames.owns(REF, r.name())) {
          assertThat(r.backendAddressPool().id()).endsWith("/backendAddressPools/kubernetes");
          assertThat(r.disableOutboundSnat()).isTrue();
        }
      }
      LoadBalancerInner back = AzureLbShape.without(AzureLbWriter.copy(after), REF);
      assertThat(new String(ArmJson.json(back))).isEqualTo(new String(ArmJson.json(before)));
    }
  }

  @Test
  @DisplayName(
      "own: a new ferry-<cluster> load balancer, tagged Ferry's, with its node-IP pool; gone with its"
          + " last frontend")
  void own() throws Exception {
    AzureSettings s = settings("");
    LoadBalancerPlan p = plan(Map.of());
    LoadBalancerInner lb = AzureLbShape.with(null, p, AzureWish.of(p, s), "/pip", s, 0);
    assertThat(lb.tags()).containsEntry(AzureLbShape.TAG_CLUSTER, "kubernetes");
    assertThat(lb.backendAddressPools())
        .singleElement()
        .satisfies(
            pool -> {
              assertThat(pool.name()).isEqualTo("ferry-kubernetes");
              assertThat(pool.loadBalancerBackendAddresses()).hasSize(2);
            });
    assertThat(AzureLbShape.without(lb, REF)).isNull();
    assertThat(s.loadBalancer("kubernetes", true)).isEqualTo("ferry-kubernetes-internal");
    assertThat(settings("kubernetes").loadBalancers("c"))
        .containsExactly("kubernetes", "kubernetes-internal", "ferry-c", "ferry-c-internal");
    assertThat(List.of(AzureNames.service(REF))).allMatch(AzureNames::ferrys);
  }
}
