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
import com.google.cloud.compute.v1.Backend;
import com.google.cloud.compute.v1.BackendService;
import com.google.cloud.compute.v1.ForwardingRule;
import com.google.cloud.compute.v1.ForwardingRulesClient;
import com.google.cloud.compute.v1.ForwardingRulesSettings;
import com.google.cloud.compute.v1.InstanceGroup;
import com.google.cloud.compute.v1.InstanceGroupsAddInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsClient;
import com.google.cloud.compute.v1.InstanceGroupsListInstancesRequest;
import com.google.cloud.compute.v1.InstanceGroupsSettings;
import com.google.cloud.compute.v1.InstanceReference;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.RegionBackendServicesClient;
import com.google.cloud.compute.v1.RegionBackendServicesSettings;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The fake answers the vendor's own client as Compute does: operations polled to DONE, 404 and 409
 * as the client's exceptions, references checked, unknown JSON fields refused, throttling.
 */
class ComputeFakeTest {

  private static final String P = "ferry-test";
  private static final String R = "europe-west1";
  private static final RetrySettings FAST_POLL =
      RetrySettings.newBuilder()
          .setInitialRetryDelayDuration(Duration.ofMillis(5))
          .setRetryDelayMultiplier(1.0)
          .setMaxRetryDelayDuration(Duration.ofMillis(5))
          .setInitialRpcTimeoutDuration(Duration.ofSeconds(5))
          .setRpcTimeoutMultiplier(1.0)
          .setMaxRpcTimeoutDuration(Duration.ofSeconds(5))
          .setTotalTimeoutDuration(Duration.ofSeconds(10))
          .build();

  private ComputeFake fake;
  private AddressesClient addresses;
  private ForwardingRulesClient rules;
  private RegionBackendServicesClient backends;
  private InstanceGroupsClient groups;

  @BeforeEach
  void start() throws Exception {
    fake = new ComputeFake();
    AddressesSettings.Builder a =
        AddressesSettings.newBuilder()
            .setEndpoint(fake.endpoint())
            .setCredentialsProvider(NoCredentialsProvider.create());
    a.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(FAST_POLL));
    addresses = AddressesClient.create(a.build());
    ForwardingRulesSettings.Builder f =
        ForwardingRulesSettings.newBuilder()
            .setEndpoint(fake.endpoint())
            .setCredentialsProvider(NoCredentialsProvider.create());
    f.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(FAST_POLL));
    rules = ForwardingRulesClient.create(f.build());
    RegionBackendServicesSettings.Builder b =
        RegionBackendServicesSettings.newBuilder()
            .setEndpoint(fake.endpoint())
            .setCredentialsProvider(NoCredentialsProvider.create());
    b.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(FAST_POLL));
    backends = RegionBackendServicesClient.create(b.build());
    InstanceGroupsSettings.Builder g =
        InstanceGroupsSettings.newBuilder()
            .setEndpoint(fake.endpoint())
            .setCredentialsProvider(NoCredentialsProvider.create());
    g.insertOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(FAST_POLL));
    g.addInstancesOperationSettings()
        .setPollingAlgorithm(OperationTimedPollAlgorithm.create(FAST_POLL));
    groups = InstanceGroupsClient.create(g.build());
  }

  @AfterEach
  void stop() {
    addresses.close();
    rules.close();
    backends.close();
    groups.close();
    fake.close();
  }

  @Test
  @DisplayName(
      "insert runs as an operation polled to DONE; get answers what was made; a second insert is"
          + " AlreadyExists, a missing one NotFound")
  void insertGetConflict() throws Exception {
    fake.runningPolls(2);
    Operation done =
        addresses.insertAsync(P, R, Address.newBuilder().setName("ferry-a").build()).get();
    assertThat(done.getStatus()).isEqualTo(Operation.Status.DONE);
    assertThat(done.getId()).isPositive();
    Address made = addresses.get(P, R, "ferry-a");
    assertThat(made.getAddress()).matches("34\\.118\\.\\d+\\.\\d+");
    assertThat(made.getSelfLink()).endsWith("/regions/" + R + "/addresses/ferry-a");
    fake.runningPolls(0);
    assertThatThrownBy(
            () ->
                addresses.insertAsync(P, R, Address.newBuilder().setName("ferry-a").build()).get())
        .hasCauseInstanceOf(AbortedException.class) // how the client reports Compute's 409
        .rootCause()
        .hasMessageContaining("alreadyExists");
    assertThatThrownBy(() -> addresses.get(P, R, "ferry-b")).isInstanceOf(NotFoundException.class);
    assertThat(fake.calls()).containsEntry("POST addresses", 2L).containsKey("GET operations");
  }

  @Test
  @DisplayName(
      "references are checked: a forwarding rule to a missing backend service, a backend service"
          + " with a missing group, deleting a group still in use all fail")
  void references() throws Exception {
    String missing =
        fake.endpoint() + "/compute/v1/projects/" + P + "/regions/" + R + "/backendServices/nope";
    assertThatThrownBy(
            () ->
                rules
                    .insertAsync(
                        P,
                        R,
                        ForwardingRule.newBuilder()
                            .setName("ferry-fr")
                            .setBackendService(missing)
                            .build())
                    .get())
        .isInstanceOf(ExecutionException.class)
        .rootCause()
        .hasMessageContaining("backendServices/nope' was not found");
    String zone = "europe-west1-b";
    groups.insertAsync(P, zone, InstanceGroup.newBuilder().setName("ferry-nodes").build()).get();
    String group = groups.get(P, zone, "ferry-nodes").getSelfLink();
    String vm = fake.addInstance(P, zone, "node-1", "nodes");
    groups
        .addInstancesAsync(
            P,
            zone,
            "ferry-nodes",
            InstanceGroupsAddInstancesRequest.newBuilder()
                .addInstances(InstanceReference.newBuilder().setInstance(vm))
                .build())
        .get();
    assertThat(
            groups
                .listInstances(
                    P, zone, "ferry-nodes", InstanceGroupsListInstancesRequest.newBuilder().build())
                .iterateAll())
        .extracting(i -> i.getInstance())
        .containsExactly(vm);
    assertThatThrownBy(
            () ->
                backends
                    .insertAsync(
                        P,
                        R,
                        BackendService.newBuilder()
                            .setName("ferry-bs")
                            .addBackends(Backend.newBuilder().setGroup(group))
                            .build())
                    .get())
        .rootCause()
        .hasMessageContaining("takes exactly one health check");
    fake.addHealthCheck(P, R, "ferry-hc");
    backends
        .insertAsync(
            P,
            R,
            BackendService.newBuilder()
                .setName("ferry-bs")
                .addBackends(Backend.newBuilder().setGroup(group))
                .addHealthChecks("projects/" + P + "/regions/" + R + "/healthChecks/ferry-hc")
                .build())
        .get();
    assertThatThrownBy(() -> groups.deleteAsync(P, zone, "ferry-nodes").get())
        .rootCause()
        .hasMessageContaining("resourceInUseByAnotherResource");
  }

  @Test
  @DisplayName(
      "throttling answers rateLimitExceeded; a failing operation ends DONE with its error and"
          + " changes nothing")
  void throttlingAndFailedOperations() throws Exception {
    fake.throttleNext(1);
    assertThatThrownBy(() -> addresses.get(P, R, "x"))
        .isInstanceOf(ApiException.class)
        .rootCause()
        .hasMessageContaining("rateLimitExceeded");
    fake.failNextOperation("QUOTA_EXCEEDED", "Quota 'STATIC_ADDRESSES' exceeded. Limit: 8.0");
    assertThatThrownBy(
            () ->
                addresses.insertAsync(P, R, Address.newBuilder().setName("ferry-q").build()).get())
        // the operation's httpErrorStatusCode (403) becomes the client's exception; the error's
        // code (QUOTA_EXCEEDED) is in the operation, which a provider reads to name the quota
        .hasCauseInstanceOf(com.google.api.gax.rpc.PermissionDeniedException.class);
    assertThatThrownBy(() -> addresses.get(P, R, "ferry-q")).isInstanceOf(NotFoundException.class);
  }

  @Test
  @DisplayName(
      "a request body with a field the Compute API does not have is refused, as Compute does")
  void unknownFieldRefused() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var answer =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(
                        fake.endpoint()
                            + "/compute/v1/projects/"
                            + P
                            + "/regions/"
                            + R
                            + "/addresses"))
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"ferry-x\",\"adress\":\"1.2.3.4\"}"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(answer.body()).contains("adress");
    assertThatThrownBy(() -> addresses.get(P, R, "ferry-x")).isInstanceOf(NotFoundException.class);
  }
}
