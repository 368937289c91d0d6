package dev.ferry.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.resourcemanager.network.fluent.models.LoadBalancerInner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The ARM fake answers as ARM does, seen with a plain HTTP client: models refuse unknown fields,
 * references are checked, ETags guard writes, both operation shapes, throttling.
 */
class ArmFakeTest {

  private static final String LB =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb";
  private final ArmFake fake = AzureFixture.start();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    fake.close();
  }

  private HttpResponse<String> send(String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(fake.endpoint() + path.substring(1) + "?api-version=x"))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String lb(String frontend, String ruleFrontend) {
    return "{\"location\":\"westeurope\",\"sku\":{\"name\":\"Standard\"},\"properties\":{"
        + "\"frontendIPConfigurations\":[{\"name\":\""
        + frontend
        + "\",\"properties\":{\"privateIPAllocationMethod\":\"Dynamic\",\"subnet\":{\"id\":\"/x/subnets/s\"}}}],"
        + "\"backendAddressPools\":[{\"name\":\"pool\"}],"
        + "\"loadBalancingRules\":[{\"name\":\"r\",\"properties\":{\"frontendIPConfiguration\":{\"id\":\""
        + LB
        + "/frontendIPConfigurations/"
        + ruleFrontend
        + "\"},\"backendAddressPool\":{\"id\":\""
        + LB
        + "/backendAddressPools/pool\"},\"protocol\":\"Tcp\",\"frontendPort\":80,\"backendPort\":80}}]}}";
  }

  @Test
  @DisplayName(
      "a PUT is parsed by the vendor's model: an unknown field and a dangling reference are 400s;"
          + " a good one is 201 with Azure-AsyncOperation, polled InProgress then Succeeded")
  void putValidatedAndAsync() throws Exception {
    HttpResponse<String> unknown =
        send("PUT", LB, "{\"location\":\"westeurope\",\"properties\":{\"frontendIpConfigs\":[]}}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("InvalidRequestFormat", "frontendIpConfigs");
    HttpResponse<String> dangling = send("PUT", LB, lb("fe", "nope"));
    assertThat(dangling.statusCode()).isEqualTo(400);
    assertThat(dangling.body())
        .contains("InvalidResourceReference", "frontendIPConfigurations/nope");

    HttpResponse<String> made = send("PUT", LB, lb("fe", "fe"));
    assertThat(made.statusCode()).isEqualTo(201);
    String poll = made.headers().firstValue("Azure-AsyncOperation").orElseThrow();
    assertThat(made.headers().firstValue("Retry-After")).contains("0");
    HttpResponse<String> first =
        http.send(
            HttpRequest.newBuilder(URI.create(poll)).build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> second =
        http.send(
            HttpRequest.newBuilder(URI.create(poll)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(first.body()).contains("InProgress");
    assertThat(second.body()).contains("Succeeded");
    LoadBalancerInner read =
        Arm.parse(send("GET", LB, null).body().getBytes(), LoadBalancerInner::fromJson);
    assertThat(read.frontendIpConfigurations().get(0).privateIpAddress()).startsWith("10.224.");
    assertThat(read.etag()).isNotBlank();
  }

  @Test
  @DisplayName(
      "If-Match with a stale ETag is 412, If-None-Match: * on an existing one too; DELETE is 202"
          + " with Location, then gone; a 429 carries Retry-After")
  void etagsDeleteThrottle() throws Exception {
    send("PUT", LB, lb("fe", "fe"));
    String etag = send("GET", LB, null).headers().firstValue("ETag").orElseThrow();
    assertThat(send("PUT", LB, lb("fe", "fe"), "If-Match", etag).statusCode()).isEqualTo(200);
    HttpResponse<String> stale = send("PUT", LB, lb("fe", "fe"), "If-Match", etag);
    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(stale.body()).contains("PreconditionFailed");
    assertThat(send("PUT", LB, lb("fe", "fe"), "If-None-Match", "*").statusCode()).isEqualTo(412);
    assertThat(fake.preconditionFailures()).isEqualTo(2);

    HttpResponse<String> deleted = send("DELETE", LB, null);
    assertThat(deleted.statusCode()).isEqualTo(202);
    assertThat(deleted.headers().firstValue("Location")).isPresent();
    assertThat(send("GET", LB, null).statusCode()).isEqualTo(404);

    fake.throttleNext(1);
    HttpResponse<String> throttled = send("GET", LB, null);
    assertThat(throttled.statusCode()).isEqualTo(429);
    assertThat(throttled.headers().firstValue("Retry-After")).contains("1");
    assertThat(fake.calls()).containsKeys("PUT loadbalancers", "DELETE loadbalancers");
  }
}
