package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.PlanViolation;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SharedAddressesTest {

  private static Service svc(String name, String created, String key, String ip, int... ports) {
    ServiceBuilder b =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("shop")
            .withUid("uid-" + name)
            .withCreationTimestamp(created)
            .withAnnotations(key == null ? Map.of() : Map.of(SharedAddresses.KEY, key))
            .endMetadata()
            .withNewSpec()
            .withType("LoadBalancer")
            .withLoadBalancerIP(ip)
            .endSpec();
    for (int p : ports) {
      b.editSpec().addNewPort().withPort(p).withProtocol("TCP").endPort().endSpec();
    }
    return b.build();
  }

  private static List<PlanViolation> conflicts(Service s, Service... all) {
    return SharedAddresses.conflicts(s, List.of(all), x -> true);
  }

  @Test
  @DisplayName(
      "of two Services with one key and a port in common, the later one is refused, naming the"
          + " earlier and the port; the earlier one is not")
  void laterOneRefused() {
    Service first = svc("a", "2026-12-08T01:00:00Z", "web", null, 80, 443);
    Service later = svc("b", "2026-12-08T02:00:00Z", "web", null, 443, 8443);
    assertThat(conflicts(first, first, later)).isEmpty();
    assertThat(conflicts(later, first, later))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("metadata.annotations[ferry.dev/allow-shared-ip]");
              assertThat(v.problem()).contains("443/TCP").contains("shop/a");
            });
  }

  @Test
  @DisplayName(
      "disjoint ports share; another key, or no key, never clashes; different requested IPs do")
  void keysPortsAndIps() {
    Service first = svc("a", "2026-12-08T01:00:00Z", "web", null, 80);
    assertThat(conflicts(svc("b", "2026-12-08T02:00:00Z", "web", null, 81), first)).isEmpty();
    assertThat(conflicts(svc("c", "2026-12-08T02:00:00Z", "api", null, 80), first)).isEmpty();
    assertThat(conflicts(svc("d", "2026-12-08T02:00:00Z", null, null, 80), first)).isEmpty();
    assertThat(conflicts(svc("e", "2026-12-08T02:00:00Z", "web", "10.0.0.9", 81), first))
        .singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("spec.loadBalancerIP"));
  }

  @Test
  @DisplayName("a key must be 1 to 63 letters, digits, '.', '_' or '-'")
  void validKeys() {
    assertThat(SharedAddresses.valid("web-1.prod_x")).isTrue();
    assertThat(SharedAddresses.valid("")).isFalse();
    assertThat(SharedAddresses.valid("a b")).isFalse();
    assertThat(SharedAddresses.valid("x".repeat(64))).isFalse();
  }
}
