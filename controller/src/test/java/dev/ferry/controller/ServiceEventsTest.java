package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which events reach the API server, and in what order: the hold-back of progress events. */
@EnableKubernetesMockClient
class ServiceEventsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  KubernetesClient client;
  KubernetesMockServer server;
  private ServiceEvents events;
  private final Service web = service("web", "uid-web");

  @BeforeEach
  void start() {
    server.expect().post().withPath("/api/v1/namespaces/shop/events").andReturn(201, "{}").always();
    events = new ServiceEvents(client, "ferry");
  }

  @AfterEach
  void stop() {
    events.close();
  }

  private static Service service(String name, String uid) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace("shop")
        .withName(name)
        .withUid(uid)
        .withResourceVersion("7")
        .endMetadata()
        .build();
  }

  /** The reasons of the events written so far (created or bumped), in the order they were sent. */
  private List<String> written() throws Exception {
    assertThat(events.flush(Duration.ofSeconds(5))).isTrue();
    List<String> reasons = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
      if (r.getPath().contains("/events")) {
        JsonNode body = JSON.readTree(r.getUtf8Body());
        reasons.add(r.getMethod() + " " + body.path("reason").asText(body.path("count").asText()));
      }
    }
    return reasons;
  }

  @Test
  @DisplayName("an outcome within the hold: only the outcome is written (Ensured, Deleted)")
  void outcomeSupersedes() throws Exception {
    events.normal(web, ServiceEvents.ENSURING, "Ensuring load balancer");
    events.normal(web, ServiceEvents.ENSURED, "Ensured load balancer");
    events.normal(web, ServiceEvents.DELETING, "Deleting load balancer");
    events.normal(web, ServiceEvents.DELETED, "Deleted load balancer");
    Thread.sleep(ServiceEvents.HOLD.toMillis() + 300); // the hold's timer finds nothing to write
    assertThat(written()).containsExactly("POST EnsuredLoadBalancer", "POST DeletedLoadBalancer");
  }

  @Test
  @DisplayName("a slow outcome: the progress event is written when the hold ends, then the outcome")
  void slowOutcome() throws Exception {
    events.normal(web, ServiceEvents.ENSURING, "Ensuring load balancer");
    Thread.sleep(ServiceEvents.HOLD.toMillis() + 500);
    events.normal(web, ServiceEvents.ENSURED, "Ensured load balancer");
    assertThat(written()).containsExactly("POST EnsuringLoadBalancer", "POST EnsuredLoadBalancer");
  }

  @Test
  @DisplayName(
      "any other event within the hold writes the held one first: a failure keeps its cause")
  void otherEventKeepsOrder() throws Exception {
    events.normal(web, ServiceEvents.ENSURING, "Ensuring load balancer");
    events.warning(web, ServiceEvents.SYNC_FAILED, "Error syncing load balancer: quota");
    assertThat(written())
        .containsExactly("POST EnsuringLoadBalancer", "POST SyncLoadBalancerFailed");
  }

  @Test
  @DisplayName(
      "holds are per Service; a repeat of the held event is not a second one; flush writes")
  void perServiceAndFlush() throws Exception {
    Service shop = service("shop", "uid-shop");
    events.normal(web, ServiceEvents.ENSURING, "Ensuring load balancer");
    events.normal(web, ServiceEvents.ENSURING, "Ensuring load balancer");
    events.normal(shop, ServiceEvents.ENSURED, "Ensured load balancer");
    // shop's outcome does not touch web's hold; flush (shutdown, tests) writes what is held
    assertThat(written())
        .containsExactlyInAnyOrder("POST EnsuredLoadBalancer", "POST EnsuringLoadBalancer");
    Thread.sleep(ServiceEvents.HOLD.toMillis() + 300);
    assertThat(written()).isEmpty(); // the flushed hold's timer writes nothing more
  }

  @Test
  @DisplayName("a node change's Updated is written after the hold, counting each change within it")
  void updatedHeld() throws Exception {
    events.normal(web, ServiceEvents.UPDATED, "Updated load balancer with new hosts");
    events.normal(web, ServiceEvents.UPDATED, "Updated load balancer with new hosts");
    Thread.sleep(ServiceEvents.HOLD.toMillis() / 2);
    assertThat(server.takeRequest(100, TimeUnit.MILLISECONDS))
        .as("written within the hold")
        .isNull();
    Thread.sleep(ServiceEvents.HOLD.toMillis() / 2 + 500);
    assertThat(events.flush(Duration.ofSeconds(5))).isTrue();
    RecordedRequest r = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(r.getMethod()).isEqualTo("POST");
    JsonNode body = JSON.readTree(r.getUtf8Body());
    assertThat(body.path("reason").asText()).isEqualTo("UpdatedLoadBalancer");
    assertThat(body.path("count").asInt()).isEqualTo(2);
    assertThat(written()).isEmpty();
  }
}
