package dev.ferry.controller;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A write that is not answered in time fails within the request timeout; a refusal keeps its code.
 */
class ApiWritesTest {

  private static final String EVENTS = "api/v1/namespaces/shop/events";

  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicReference<String> userAgent = new AtomicReference<>();
  private HttpServer server;
  private KubernetesClient client;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        "/" + EVENTS,
        exchange -> {
          try {
            release.await(10, TimeUnit.SECONDS); // an API server that does not answer
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          exchange.sendResponseHeaders(201, -1);
          exchange.close();
        });
    server.createContext(
        "/api/v1/namespaces/shop/services/web",
        exchange -> {
          userAgent.set(exchange.getRequestHeaders().getFirst("User-Agent"));
          byte[] body =
              """
              {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Invalid",
               "message":"Service \\"web\\" is invalid","code":422}"""
                  .getBytes(UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(422, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    client =
        KubeClients.build(
            new ConfigBuilder()
                .withMasterUrl("http://127.0.0.1:" + server.getAddress().getPort())
                .withRequestTimeout(300)
                .withRequestRetryBackoffLimit(0)
                .build());
  }

  @AfterEach
  void stop() {
    release.countDown();
    client.close();
    server.stop(0);
  }

  @Test
  @DisplayName("an unanswered write fails after the client's request timeout, without a code")
  void unanswered() {
    ApiWrites api = new ApiWrites(client);
    long start = System.nanoTime();

    assertThatThrownBy(() -> api.send("POST", EVENTS, "application/json", Map.of()))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isNotPositive())
        .hasRootCauseInstanceOf(TimeoutException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(300))
        .isLessThan(Duration.ofSeconds(5));
  }

  @Test
  @DisplayName("a refused write is answered; reading its body reports the API server's code")
  void refused() {
    ApiWrites api = new ApiWrites(client);
    var response =
        api.send(
            "PATCH",
            "api/v1/namespaces/shop/services/web",
            "application/merge-patch+json",
            Map.of("spec", Map.of()));

    assertThat(response.code()).isEqualTo(422);
    assertThatThrownBy(() -> api.bodyOf(response))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(422))
        .hasMessageContaining("is invalid");
    assertThat(userAgent.get()).as("names Ferry in audit logs").isEqualTo("ferry/0.1.0");
  }
}
