package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AddressReclaimTest {

  private static Service service(String ip) {
    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withName("s").endMetadata();
    if (ip != null) {
      b.withNewStatus()
          .withNewLoadBalancer()
          .addNewIngress()
          .withIp(ip)
          .endIngress()
          .endLoadBalancer()
          .endStatus();
    }
    return b.build();
  }

  @Test
  @DisplayName(
      "a Service without an address waits until every Service that showed one is done; a retry"
          + " keeps it pending; a Service that shows one never waits")
  void order() {
    AddressReclaim r = new AddressReclaim(Duration.ofMinutes(5));
    r.start(List.of("a/old-1", "a/old-2"));
    assertThat(r.mustWait("a/new", service(null))).isTrue();
    assertThat(r.mustWait("a/old-1", service("10.0.0.1"))).isFalse();
    assertThat(r.mustWait("a/other", service("10.0.0.9"))).as("shows an address").isFalse();
    Service deleting = service(null);
    deleting.getMetadata().setDeletionTimestamp("2026-12-08T00:00:00Z");
    assertThat(r.mustWait("a/deleting", deleting)).as("only releases").isFalse();
    r.reconciled("a/old-1", Outcome.DONE);
    r.reconciled("a/old-2", new Outcome.Failed("cloud down"));
    assertThat(r.mustWait("a/new", service(null))).as("old-2 must still retry").isTrue();
    r.reconciled("a/old-2", Outcome.DONE);
    assertThat(r.mustWait("a/new", service(null))).isFalse();
    assertThat(r.pending()).isZero();
  }

  @Test
  @DisplayName("after the bound, a Service without an address is served anyway")
  void bounded() throws Exception {
    AddressReclaim r = new AddressReclaim(Duration.ofMillis(20));
    r.start(List.of("a/stuck"));
    Thread.sleep(50);
    assertThat(r.mustWait("a/new", service(null))).isFalse();
    assertThat(r.pending()).isZero();
  }
}
