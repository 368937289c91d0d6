package dev.ferry.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.AbortedException;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.NotFoundException;
import com.google.cloud.compute.v1.Address;
import com.google.cloud.compute.v1.AddressesClient;
import com.google.cloud.compute.v1.AddressesSettings;
import com.google.cloud.compute.v1.Operation;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The fake answers as Compute does, and refuses what Compute refuses: each rule below names the
 * page (or the discovery document's field) that documents it. Requests are sent as raw JSON, so the
 * fake is tested apart from any client's idea of the API, and once through the vendor's own client.
 */
class ComputeFakeTest extends ComputeHttpTest {

  @Nested
  @DisplayName("the protocol")
  class Protocol {

    @Test
    @DisplayName(
        "an operation goes PENDING, RUNNING, DONE, and the change takes effect at DONE; a retry"
            + " with the same requestId answers the same operation and makes nothing twice")
    void operationsAndRequestIds() throws Exception {
      fake.runningPolls(1);
      fake.settleAfter(java.time.Duration.ofMinutes(1)); // only the polls end it here
      String body = "{\"name\":\"ferry-a\",\"networkTier\":\"PREMIUM\"}";
      Answer started = call("POST", REGION + "/addresses?requestId=r-1", body);
      assertThat(started.body().get("status").getAsString()).isEqualTo("PENDING");
      assertThat(call("GET", REGION + "/addresses/ferry-a", null).status())
          .as("not made before DONE")
          .isEqualTo(404);
      Answer again = call("POST", REGION + "/addresses?requestId=r-1", body);
      assertThat(again.body().get("name")).isEqualTo(started.body().get("name"));
      String self =
          started.body().get("selfLink").getAsString().substring(ComputeFake.GOOGLEAPIS.length());
      assertThat(call("GET", "/compute/v1/" + self, null).body().get("status").getAsString())
          .isEqualTo("RUNNING");
      assertThat(call("GET", "/compute/v1/" + self, null).body().get("status").getAsString())
          .isEqualTo("DONE");
      assertThat(call("GET", REGION + "/addresses/ferry-a", null).status()).isEqualTo(200);
      assertThat(fake.all("addresses")).hasSize(2); // and the user's STANDARD address
    }

    @Test
    @DisplayName(
        "lists page (maxResults, nextPageToken) and honour =, !=, eq filters; a filter the fake"
            + " does not know is a 400, never ignored")
    void pagingAndFilters() throws Exception {
      fake.pageSize(1);
      for (String n : new String[] {"ferry-a", "ferry-b"}) {
        insert(REGION + "/addresses", "{\"name\":\"" + n + "\"}");
      }
      Answer first = call("GET", REGION + "/addresses", null);
      assertThat(first.body().getAsJsonArray("items")).hasSize(1);
      String token = first.body().get("nextPageToken").getAsString();
      Answer second = call("GET", REGION + "/addresses?pageToken=" + token, null);
      assertThat(second.body().getAsJsonArray("items")).hasSize(1);
      fake.pageSize(500);
      Answer byIp =
          call(
              "GET",
              REGION + "/addresses?filter=address%20%3D%20%22" + GkeProject.STANDARD_IP + "%22",
              null);
      assertThat(byIp.body().getAsJsonArray("items")).hasSize(1);
      Answer byRegex = call("GET", REGION + "/addresses?filter=name%20eq%20%22ferry-.*%22", null);
      assertThat(byRegex.body().getAsJsonArray("items")).hasSize(2);
      Answer odd = call("GET", REGION + "/addresses?filter=address%20%3E%3D%201", null);
      assertThat(odd.status()).isEqualTo(400);
    }

    @Test
    @DisplayName("a region answers its real zones, one of them with nothing in it")
    void zones() throws Exception {
      Answer region = call("GET", REGION, null);
      assertThat(region.body().getAsJsonArray("zones").toString())
          .contains("europe-west1-b", "europe-west1-c", "europe-west1-d");
    }

    @Test
    @DisplayName(
        "the vendor's own client: an insert polled to DONE, 409 as AbortedException, 404 as"
            + " NotFoundException, an operation's error as its httpErrorStatusCode, throttling")
    void vendorClient() throws Exception {
      fake.runningPolls(2);
      RetrySettings fast =
          RetrySettings.newBuilder()
              .setInitialRetryDelayDuration(Duration.ofMillis(5))
              .setRetryDelayMultiplier(1.0)
              .setMaxRetryDelayDuration(Duration.ofMillis(5))
              .setInitialRpcTimeoutDuration(Duration.ofSeconds(5))
              .setRpcTimeoutMultiplier(1.0)
              .setMaxRpcTimeoutDuration(Duration.ofSeconds(5))
              .setTotalTimeoutDuration(Duration.ofSeconds(10))
              .build();
      AddressesSettings.Builder a =
          AddressesSettings.newBuilder()
              .setEndpoint(fake.endpoint())
              .setCredentialsProvider(NoCredentialsProvider.create());
      a.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(fast));
      try (AddressesClient addresses = AddressesClient.create(a.build())) {
        Operation done =
            addresses.insertAsync(P, R, Address.newBuilder().setName("ferry-a").build()).get();
        assertThat(done.getStatus()).isEqualTo(Operation.Status.DONE);
        Address made = addresses.get(P, R, "ferry-a");
        assertThat(made.getAddress()).matches("34\\.118\\.\\d+\\.\\d+");
        assertThat(made.getSelfLink())
            .isEqualTo(
                ComputeFake.GOOGLEAPIS + "projects/" + P + "/regions/" + R + "/addresses/ferry-a");
        fake.runningPolls(0);
        assertThatThrownBy(
                () ->
                    addresses
                        .insertAsync(P, R, Address.newBuilder().setName("ferry-a").build())
                        .get())
            .hasCauseInstanceOf(AbortedException.class)
            .rootCause()
            .hasMessageContaining("alreadyExists");
        assertThatThrownBy(() -> addresses.get(P, R, "ferry-b"))
            .isInstanceOf(NotFoundException.class);
        fake.failNextOperation(
            403, "QUOTA_EXCEEDED", "Quota 'STATIC_ADDRESSES' exceeded. Limit: 8.0");
        assertThatThrownBy(
                () ->
                    addresses
                        .insertAsync(P, R, Address.newBuilder().setName("ferry-q").build())
                        .get())
            .hasCauseInstanceOf(com.google.api.gax.rpc.PermissionDeniedException.class);
        assertThatThrownBy(() -> addresses.get(P, R, "ferry-q"))
            .isInstanceOf(NotFoundException.class);
        fake.throttleNext(1);
        assertThatThrownBy(() -> addresses.get(P, R, "x"))
            .isInstanceOf(ApiException.class)
            .rootCause()
            .hasMessageContaining("rateLimitExceeded");
      }
    }
  }

  @Nested
  @DisplayName(
      "bodies checked against the discovery document (revision in compute-v1-discovery.json)")
  class Discovery {

    @Test
    @DisplayName("the committed document is Google's, its revision named")
    void revision() {
      assertThat(fake.discoveryRevision()).matches("20\\d{6}");
    }

    @Test
    @DisplayName("a field the schema does not have: 400 Unknown name")
    void unknownField() throws Exception {
      Answer a =
          call("POST", REGION + "/addresses", "{\"name\":\"ferry-x\",\"adress\":\"1.2.3.4\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("Unknown name").contains("adress");
    }

    @Test
    @DisplayName("an enum value the schema does not list (ForwardingRule.loadBalancingScheme)")
    void enumValue() throws Exception {
      Answer a =
          call(
              "POST",
              REGION + "/forwardingRules",
              "{\"name\":\"ferry-r\",\"loadBalancingScheme\":\"EXTERNALISH\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("loadBalancingScheme");
    }

    @Test
    @DisplayName("a name not matching its pattern; a port not matching ports' @pattern")
    void patterns() throws Exception {
      assertThat(call("POST", REGION + "/addresses", "{\"name\":\"Ferry_A\"}").status())
          .isEqualTo(400);
      Answer port =
          call("POST", REGION + "/forwardingRules", "{\"name\":\"ferry-r\",\"ports\":[\"http\"]}");
      assertThat(port.status()).isEqualTo(400);
      assertThat(port.text()).contains("ports[0]");
    }

    @Test
    @DisplayName("an [Output Only] field sent on insert (InstanceGroup.network, selfLink)")
    void outputOnly() throws Exception {
      Answer a =
          call(
              "POST",
              "/compute/v1/projects/" + P + "/zones/europe-west1-b/instanceGroups",
              "{\"name\":\"ferry-g\",\"network\":\"" + NET + "\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("resource.network").contains("output only");
    }

    @Test
    @DisplayName("a field the method requires left out (Firewall.name on firewalls.insert)")
    void required() throws Exception {
      Answer a = call("POST", GLOBAL + "/firewalls", "{\"network\":\"" + NET + "\"}");
      assertThat(a.status()).isEqualTo(400);
      assertThat(a.text()).contains("Required field 'resource.name'");
    }

    @Test
    @DisplayName("a method the document does not have is a 404; one the fake lacks a loud 501")
    void methods() throws Exception {
      assertThat(call("POST", REGION + "/addresses/x/bogus", "{}").status()).isEqualTo(404);
      assertThat(call("POST", REGION + "/forwardingRules/x/setTarget", "{}").status())
          .isEqualTo(501);
    }
  }
}
